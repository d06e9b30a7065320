"""Uploads a process owner gets wrong in ordinary ways (issue 26, "Unhelpful messages"):
each answered with the element, the line or the process concerned and what to do, never a
library's own text; files that are fine are not refused for their label.

On both databases, through the upload and draft pages.
"""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from engine import registry
from engine.models import ProcessModel
from engine.registry import ModelBundle
from workflows.engine_config import BPMN_DIR
from workflows.process_models import model_validation
from workflows.process_models.drafts import ModelDraft

from .conftest import cached_client, post
from .test_models_views import PJ, as_files, draft_id, shipped, text, upload

pytestmark = pytest.mark.xdist_group("models")
LIBRARY_WORDS = ("xs:ID", "{http://", "No DMN Diagram", "Did you mean", "Traceback",
                 "ValidationException", "atomic type")


@pytest.fixture
def owner(shared_world):
    shared_world.clients = getattr(shared_world, "clients", {})
    return cached_client(shared_world, "owner")


def drafts(world) -> int:
    with world.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(ModelDraft))


def process_ids(world) -> set[str]:
    with world.database.transaction() as session:
        return set(session.scalars(select(ProcessModel.process_id).distinct()))


def draft_page(owner, response) -> str:
    assert response.status_code == 302, text(response)[:600]
    page = owner.get(f"/models/drafts/{draft_id(response)}")
    assert page.status_code == 200
    body = text(page)
    for words in LIBRARY_WORDS:
        assert words not in body, words
    return body


def line_of(xml: str, needle: str) -> int:
    return xml[:xml.index(needle)].count("\n") + 1


@pytest.mark.parametrize("label", ["ISO-8859-1", "ASCII", "US-ASCII", "windows-1252", "latin1"])
def test_a_plain_ascii_diagram_declaring_another_encoding_is_accepted(shared_world, owner, label):
    bundle = shipped()
    assert bundle.bpmn_xml.isascii()
    bundle.bpmn_xml = bundle.bpmn_xml.replace('encoding="UTF-8"', f'encoding="{label}"', 1)
    assert f'encoding="{label}"' in bundle.bpmn_xml
    response = upload(owner, as_files(bundle))
    body = draft_page(owner, response)
    assert "No problems found" in body
    with shared_world.database.transaction() as session:
        stored = session.get(ModelDraft, draft_id(response)).bpmn_xml
    assert stored.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert stored.replace('encoding="UTF-8"', "", 1) == \
        bundle.bpmn_xml.replace(f'encoding="{label}"', "", 1)


def test_utf8_letters_under_a_latin1_label_are_refused_not_misread(shared_world, owner):
    xml = shipped().bpmn_xml.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1) \
        .replace("Hold planning meeting", "Hold planning réunion", 1)
    before = drafts(shared_world)
    response = upload(owner, [(io.BytesIO(xml.encode()), "pj.bpmn")])
    assert response.status_code == 400
    body = text(response)
    assert "pj.bpmn declares the encoding ISO-8859-1 but holds UTF-8 text (see line " in body
    assert 'Change the first line to encoding="UTF-8"' in body
    assert drafts(shared_world) == before


def test_duplicate_ids_are_named_with_every_line(owner):
    bundle = shipped()
    first = re.search(r'<bpmn:userTask id="([^"]+)"', bundle.bpmn_xml).group(1)
    second = re.findall(r'<bpmn:userTask id="([^"]+)"', bundle.bpmn_xml)[1]
    xml = bundle.bpmn_xml.replace(f'<bpmn:userTask id="{second}"', f'<bpmn:userTask id="{first}"', 1)
    lines = (line_of(xml, f'<bpmn:userTask id="{first}"'),
             xml.count("\n", 0, xml.index(f'<bpmn:userTask id="{first}"',
                                          xml.index(f'<bpmn:userTask id="{first}"') + 1)) + 1)
    bundle.bpmn_xml = xml
    body = draft_page(owner, upload(owner, as_files(bundle)))
    assert f"the id '{first}' is used by 2 elements (lines {lines[0]}, {lines[1]})" in body
    assert "give all but one a new id" in body


def _with_task(xml: str, element: str) -> str:
    """``element`` drawn on the flow out of the start event, in the social worker's lane."""
    return xml.replace("</bpmn:process>", element + "</bpmn:process>", 1)


def test_business_rule_task_and_call_activity_get_plain_messages(owner):
    bundle = shipped()
    bundle.bpmn_xml = _with_task(bundle.bpmn_xml,
        '<bpmn:businessRuleTask id="decide_route" name="Decide route"><bpmn:extensionElements>'
        '<spiffworkflow:calledDecisionId>route_table</spiffworkflow:calledDecisionId>'
        '</bpmn:extensionElements></bpmn:businessRuleTask>')
    body = draft_page(owner, upload(owner, as_files(bundle)))
    assert "decide_route" in body and "is a business rule task" in body
    assert "exclusive gateway" in body

    bundle = shipped()
    bundle.bpmn_xml = _with_task(bundle.bpmn_xml, '<bpmn:callActivity id="call_panel" '
                                 'name="Panel" calledElement="adoption_panel" />')
    body = draft_page(owner, upload(owner, as_files(bundle)))
    assert "call_panel" in body
    assert re.search(r"(calls the process 'adoption_panel', which is not in this diagram"
                     r"|call activit)", body), body[:3000]


def test_a_script_task_message_says_script_task_once(owner):
    bundle = shipped()
    bundle.bpmn_xml = _with_task(bundle.bpmn_xml, '<bpmn:scriptTask id="run_code" name="Run">'
                                 '<bpmn:script>import os</bpmn:script></bpmn:scriptTask>')
    body = draft_page(owner, upload(owner, as_files(bundle)))
    assert "run_code" in body and "script task may only call one allow-listed function" in body
    assert "script task a script task" not in body


@pytest.mark.parametrize("process_id, words", [
    ("review.v2", "The process id 'review.v2' cannot be used: an id must start with a letter "
                  "and hold only letters, digits, '_' and '-'"),
    ("2review", "for example to 'p_2review'"),
    ("drafts", "The process id 'drafts' cannot be used: it is a word PACE Flow's own pages use"),
])
def test_a_process_id_that_cannot_be_used_is_named(shared_world, owner, process_id, words):
    xml = shipped().bpmn_xml.replace(f'id="{PJ}"', f'id="{process_id}"', 1)
    before = drafts(shared_world)
    response = upload(owner, [(io.BytesIO(xml.encode()), "new.bpmn")], url="/models/upload")
    assert response.status_code == 400
    assert words in text(response)
    assert drafts(shared_world) == before


def test_two_executable_processes_are_both_named(owner):
    xml = shipped().bpmn_xml.replace("</bpmn:definitions>", '<bpmn:process id="second_one" '
                                     'isExecutable="true" /></bpmn:definitions>')
    response = upload(owner, [(io.BytesIO(xml.encode()), "two.bpmn")], url="/models/upload")
    assert response.status_code == 400
    assert f"holds 2 executable processes ('{PJ}', 'second_one')" in text(response)


def test_a_process_id_differing_only_in_capitals_is_refused_naming_the_existing_one(
        shared_world, owner):
    xml = shipped().bpmn_xml.replace(f'id="{PJ}"', 'id="Permanence_Journey"', 1)
    before = drafts(shared_world), process_ids(shared_world)
    response = upload(owner, [(io.BytesIO(xml.encode()), "pj.bpmn")], url="/models/upload")
    assert response.status_code == 400
    body = text(response)
    assert ("The diagram's process id 'Permanence_Journey' differs from the existing process "
            f"'{PJ}' only in capital letters") in body
    assert f"change the process ID in the modeler to '{PJ}'" in body
    assert (drafts(shared_world), process_ids(shared_world)) == before


def test_a_process_of_a_profile_that_is_switched_off_cannot_be_drafted(shared_world, owner):
    """This deployment runs the Scottish profile only (PACE_PROFILES unset)."""
    english = ModelBundle.from_directory(BPMN_DIR / "england" / "eng_looked_after")
    before = drafts(shared_world), process_ids(shared_world)
    response = upload(owner, as_files(english), url="/models/upload")
    assert response.status_code == 400
    body = text(response)
    assert "'eng_looked_after' is a process of the England profile, which is switched off " \
           "here (PACE_PROFILES=scotland), so no child could follow it" in body
    assert (drafts(shared_world), process_ids(shared_world)) == before


def test_a_deployed_process_of_a_switched_off_profile_cannot_be_drafted_or_checked(
        shared_world, owner, tmp_path):
    """A council that ran the English profile and switched it off keeps its versions
    readable, but a draft of them could never be followed by a child."""
    english = ModelBundle.from_directory(BPMN_DIR / "england" / "eng_looked_after")
    database = shared_world.database
    with database.transaction() as session:
        if registry.latest(session, "eng_looked_after") is None:
            registry.deploy(session, english, model_validation.validation_context(
                database.runtime, "eng_looked_after"), "system", reason="shipped")
    before = drafts(shared_world)
    assert owner.get("/models/eng_looked_after").status_code == 200
    refused = post(owner, "/models/eng_looked_after/drafts", {"version": "1"})
    assert refused.status_code == 400
    assert "is a process of the England profile, which is switched off here" in text(refused)
    assert drafts(shared_world) == before
    files = []
    for name, body in {"eng_looked_after.bpmn": english.bpmn_xml, **english.forms}.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
        files.append(str(tmp_path / name))
    checked = shared_world.app.test_cli_runner().invoke(args=["models", "check", *files])
    assert checked.exit_code == 1
    assert "is a process of the England profile, which is switched off here" in checked.output
