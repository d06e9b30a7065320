"""Process owners: versions, drafts, validation, changes, deployment and migration (issue 7).

On both databases. Read-only and refusal tests share one world per module (they never
deploy); the tests that deploy a version build their own world.
"""
from __future__ import annotations

import html
import io
import json
import random
import re
import zipfile
from datetime import date, timedelta

import pytest
from lxml import etree
from sqlalchemy import func, select

from engine import clock, work_items
from engine.models import (AuditEvent, Milestone, ProcessInstance, ProcessModel, UserAccount,
                           WorkItem)
from engine.registry import ModelBundle
from tests.integration.diagram_variants import without_legal_referral
from workflows.children import records as children
from workflows import sample_answers
from workflows.demo import scotland as demo
from workflows.process_models import diagram_elements, drafts as model_drafts, model_validation
from workflows.measures import pdsa
from workflows.engine_config import BPMN_DIR
from workflows.process_models.drafts import ModelDraft

from .conftest import cached_client, csrf_token, post, sign_in
from .journeys import child_at, open_items

pytestmark = pytest.mark.xdist_group("models")

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC",
      "di": "http://www.omg.org/spec/DD/20100524/DI",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
PJ = "permanence_journey"


# -- diagrams -------------------------------------------------------------------------------
def shipped() -> ModelBundle:
    return ModelBundle.from_directory(BPMN_DIR / PJ)


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def two_week_version() -> ModelBundle:
    """Midlothian's change: the initial LAR within 2 weeks (not 3), then a new two-week
    review held by the team leader before the interim review."""
    bundle = shipped()
    bundle.bpmn_xml = bundle.bpmn_xml.replace('value="LA_START+3w"', 'value="LA_START+2w"')
    root = etree.fromstring(bundle.bpmn_xml.encode())
    x = lambda path: root.xpath(path, namespaces=NS)[0]  # noqa: E731
    flow = x("//bpmn:sequenceFlow[@id='Flow_initial_lar_to_interim_lar']")
    flow.set("targetRef", "two_week_review")
    x("//bpmn:userTask[@id='interim_lar']/bpmn:incoming").text = "Flow_two_week_review_to_interim_lar"
    task = etree.fromstring(f"""
      <bpmn:userTask xmlns:bpmn="{NS['bpmn']}" xmlns:spiffworkflow="{NS['spiffworkflow']}"
                     id="two_week_review" name="Hold two-week review">
        <bpmn:extensionElements><spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="two_week_review.schema.json"/>
          <spiffworkflow:property name="due" value="INITIAL_LAR+2w"/>
          <spiffworkflow:property name="remind" value="-2d"/>
          <spiffworkflow:property name="escalate" value="+2d +7d"/>
        </spiffworkflow:properties></bpmn:extensionElements>
        <bpmn:incoming>Flow_initial_lar_to_interim_lar</bpmn:incoming>
        <bpmn:outgoing>Flow_two_week_review_to_interim_lar</bpmn:outgoing>
      </bpmn:userTask>""")
    x("//bpmn:userTask[@id='interim_lar']").addprevious(task)
    flow.addnext(etree.Element(_q("bpmn", "sequenceFlow"), id="Flow_two_week_review_to_interim_lar",
                               sourceRef="two_week_review", targetRef="interim_lar"))
    etree.SubElement(x("//bpmn:lane[@name='team_leader']"), _q("bpmn", "flowNodeRef")).text = \
        "two_week_review"
    plane = x("//bpmndi:BPMNPlane")
    shape = etree.SubElement(plane, _q("bpmndi", "BPMNShape"), id="two_week_review_di",
                             bpmnElement="two_week_review")
    etree.SubElement(shape, _q("dc", "Bounds"), x="700", y="100", width="120", height="80")
    edge = x("//bpmndi:BPMNEdge[@bpmnElement='Flow_initial_lar_to_interim_lar']")
    for point in list(edge):
        edge.remove(point)
    for px, py in ((645, 325), (672, 325), (672, 140), (700, 140)):
        etree.SubElement(edge, _q("di", "waypoint"), x=str(px), y=str(py))
    new_edge = etree.SubElement(plane, _q("bpmndi", "BPMNEdge"),
                                id="Flow_two_week_review_to_interim_lar_di",
                                bpmnElement="Flow_two_week_review_to_interim_lar")
    for px, py in ((760, 180), (760, 285)):
        etree.SubElement(new_edge, _q("di", "waypoint"), x=str(px), y=str(py))
    bundle.bpmn_xml = etree.tostring(root, encoding="unicode")
    bundle.forms["two_week_review.schema.json"] = json.dumps({
        "type": "object", "title": "Hold two-week review", "required": ["date_held"],
        "properties": {"date_held": {"type": "string", "format": "date", "title": "Date held"},
                       "notes": {"type": "string", "title": "Notes", "maxLength": 2000}}})
    return bundle


CAMUNDA = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_1x" targetNamespace="http://bpmn.io/schema/bpmn"
    exporter="Camunda Modeler" exporterVersion="5.31.0" modeler:executionPlatform="Camunda Platform">
  <bpmn:process id="Process_0kq3m1a" name="Review" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Activity_review" name="Hold review" camunda:formKey="embedded:review.html"
                   camunda:assignee="chair" camunda:dueDate="${dateTime().plusWeeks(2)}">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="Event_end"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_review"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_review" targetRef="Event_end"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_0kq3m1a">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1"><dc:Bounds x="179" y="99" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_review_di" bpmnElement="Activity_review"><dc:Bounds x="270" y="77" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_end_di" bpmnElement="Event_end"><dc:Bounds x="432" y="99" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="215" y="117"/><di:waypoint x="270" y="117"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2"><di:waypoint x="370" y="117"/><di:waypoint x="432" y="117"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def as_files(bundle: ModelBundle) -> list[tuple[io.BytesIO, str]]:
    files = [(io.BytesIO(bundle.bpmn_xml.encode()), f"{bundle.process_id}.bpmn")]
    files += [(io.BytesIO(text.encode()), name) for name, text in bundle.forms.items()]
    return files


def upload(client, files, url: str = f"/models/{PJ}/upload", **data):
    return client.post(url, data={"files": files, "csrf_token": csrf_token(client), **data},
                       content_type="multipart/form-data")


def drafts(world) -> int:
    with world.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(ModelDraft))


def versions(world) -> int:
    with world.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(ProcessModel)
                              .where(ProcessModel.process_id == PJ))


def draft_id(response) -> int:
    found = re.search(r"/models/drafts/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def text(response) -> str:
    """The page with whitespace collapsed and HTML entities decoded."""
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


@pytest.fixture
def shared(shared_world):
    shared_world.clients = getattr(shared_world, "clients", {})
    return shared_world


# -- reading ----------------------------------------------------------------------------------
def test_versions_are_listed_viewed_and_downloaded(shared):
    owner = cached_client(shared, "owner")
    index = text(owner.get("/models"))
    assert "Permanence journey" in index and "Version 1" in index
    assert 'href="/models"' in index  # "Processes" in the service navigation
    page = text(owner.get(f"/models/{PJ}"))
    assert "Diagrams shipped with PACE Flow" in page and "by system" in page
    version = owner.get(f"/models/{PJ}/versions/1")
    body = text(version)
    assert version.status_code == 200 and "LA_START+3w" in body and "Hold initial looked-after review" in body
    assert 'data-src="/models/permanence_journey/versions/1.bpmn?view=1"' in body
    archive = owner.get(f"/models/{PJ}/versions/1.zip")
    assert archive.headers["Content-Disposition"] == f'attachment; filename="{PJ}-v1.zip"'
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert f"{PJ}.bpmn" in names and "forms/initial_lar.schema.json" in names
    bpmn = owner.get(f"/models/{PJ}/versions/1.bpmn")
    assert bpmn.data.decode() == shipped().bpmn_xml and "attachment" in bpmn.headers["Content-Disposition"]
    assert owner.get(f"/models/{PJ}/versions/9").status_code == 404
    assert owner.get("/models/no_such_process").status_code == 404


@pytest.mark.parametrize("user, reads, writes", [
    ("manager", 200, 403), ("auditor", 200, 403), ("admin", 200, 403), ("sw.north", 403, 403),
    ("tl.north", 403, 403), ("owner", 200, 200)])
def test_who_may_read_and_change_models(shared, user, reads, writes):
    client = cached_client(shared, user)
    for path in ("/models", f"/models/{PJ}", f"/models/{PJ}/versions/1", f"/models/{PJ}/versions/1.zip"):
        assert client.get(path).status_code == reads, path
    for path in (f"/models/{PJ}/upload", f"/models/{PJ}/versions/1/migrate", "/models/upload"):
        assert client.get(path).status_code == writes, path
    nav = text(client.get("/notifications"))
    assert ('href="/models"' in nav) == (reads == 200)


# -- uploads: validation and refusals --------------------------------------------------------
def test_camunda_modeler_diagram_gets_precise_messages_never_a_500(shared):
    owner = cached_client(shared, "owner")
    response = upload(owner, [(io.BytesIO(CAMUNDA.encode()), "review.bpmn")])
    assert response.status_code == 302
    draft = draft_id(response)
    page = owner.get(f"/models/drafts/{draft}")
    body = text(page)
    assert page.status_code == 200
    assert "saved by Camunda Modeler" in body
    assert "the executable process has id 'Process_0kq3m1a'" in body
    for words in ("has no form: set the property formJsonSchemaFilename",
                  "has no due rule: set the property due", "is not in any lane"):
        assert words in body, words
    assert "Activity_review" in body and "Hold review" in body
    assert "Select the task and enter a due rule such as LA_START+3w." in body
    before = versions(shared)
    refused = post(owner, f"/models/drafts/{draft}/deploy", {"reason": "try", "confirm": "yes"})
    assert refused.status_code == 400 and "Correct the problems listed" in text(refused)
    assert versions(shared) == before
    assert owner.get(f"/models/drafts/{draft}/changes").status_code == 200
    # As a new process of its own: the same precise messages, for its own id.
    new = upload(owner, [(io.BytesIO(CAMUNDA.encode()), "review.bpmn")], url="/models/upload")
    body = text(owner.get(f"/models/drafts/{draft_id(new)}"))
    assert "is not in any lane" in body and "Process_0kq3m1a" in body


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</bpmn:definitions>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="x">&xxe;</bpmn:process></bpmn:definitions>"""


def _zip(entries: dict[str, str]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    out.seek(0)
    return out


@pytest.mark.parametrize("case, files, status, words", [
    ("xxe", lambda: [(io.BytesIO(XXE.encode()), "pj.bpmn")], 400, "declares a DOCTYPE or entities"),
    ("billion laughs", lambda: [(io.BytesIO(BOMB.encode()), "pj.bpmn")], 400, "DOCTYPE or entities"),
    ("50 MB", lambda: [(io.BytesIO(b"<x>" + b" " * (50 * 1024 * 1024) + b"</x>"), "pj.bpmn")], 413,
     "the limit is 5 MB"),
    ("invalid utf-8", lambda: [(io.BytesIO(shipped().bpmn_xml.encode().replace(
        b"Hold planning meeting", b"Hold planning m\xe9eting")), "pj.bpmn")], 400,
     "is not UTF-8 text (a byte on line"),
    ("UTF-8 letters declared latin-1", lambda: [(io.BytesIO(shipped().bpmn_xml.replace(
        'encoding="UTF-8"', 'encoding="ISO-8859-1"').replace("Hold planning meeting", "Hold réunion")
        .encode()), "pj.bpmn")], 400, "declares the encoding ISO-8859-1 but holds UTF-8 text"),
    ("traversal in a form name", lambda: [(io.BytesIO(shipped().bpmn_xml.encode()), "pj.bpmn"),
                                          (io.BytesIO(b"{}"), "../../etc/evil.schema.json")], 400,
     "is not allowed: use a plain name"),
    ("traversal in a zip", lambda: [(_zip({f"{PJ}.bpmn": shipped().bpmn_xml,
                                            "forms/../../evil.schema.json": "{}"}), "pj.zip")], 400,
     "is not allowed: the zip may hold only"),
    ("not a diagram", lambda: [(io.BytesIO(b"<html><body>hi</body></html>"), "pj.bpmn")], 400,
     "not a BPMN 2.0 diagram"),
    ("broken xml", lambda: [(io.BytesIO(shipped().bpmn_xml[:5000].encode()), "pj.bpmn")], 400,
     "not well-formed XML"),
    ("a program", lambda: [(io.BytesIO(b"MZ\x90\x00"), "setup.exe")], 400, "is not a diagram (.bpmn)"),
])
def test_hostile_uploads_are_refused_with_clear_messages(shared, case, files, status, words):
    owner = cached_client(shared, "owner")
    before = drafts(shared)
    response = upload(owner, files())
    assert response.status_code == status, (case, text(response)[:500])
    assert words in text(response), case
    assert "There is a problem" in text(response)
    assert drafts(shared) == before


def test_code_in_a_condition_is_listed_with_its_element_and_cannot_be_deployed(shared):
    owner = cached_client(shared, "owner")
    bundle = shipped()
    assert "route in [" in bundle.bpmn_xml
    bundle.bpmn_xml = bundle.bpmn_xml.replace("route in [", "__import__('os').system('id') or route in [", 1)
    response = upload(owner, as_files(bundle))
    draft = draft_id(response)
    body = text(owner.get(f"/models/drafts/{draft}"))
    flow = re.search(r'<bpmn:sequenceFlow id="([^"]+)"[^>]*>\s*<bpmn:conditionExpression[^>]*>'
                     r"__import__", bundle.bpmn_xml).group(1)
    assert flow in body and "uses a function call, which diagrams may not use" in body
    assert "Write the condition as a comparison of form fields" in body
    before = versions(shared)
    assert post(owner, f"/models/drafts/{draft}/deploy", {"reason": "x", "confirm": "yes"}).status_code == 400
    assert versions(shared) == before


def test_draft_routes_need_the_csrf_token_and_change_nothing_without_it(shared):
    owner = cached_client(shared, "owner")
    draft = draft_id(post(owner, f"/models/{PJ}/drafts", {"version": "1"}))
    with shared.database.transaction() as session:
        before = session.get(ModelDraft, draft).revision
    for path in (f"/models/drafts/{draft}/edit", f"/models/drafts/{draft}/properties",
                 f"/models/drafts/{draft}/files", f"/models/drafts/{draft}/forms/remove",
                 f"/models/drafts/{draft}/discard", f"/models/drafts/{draft}/deploy",
                 f"/models/{PJ}/versions/1/migrate"):
        assert owner.post(path, data={"name": "initial_lar.schema.json"}).status_code == 400, path
    with shared.database.transaction() as session:
        found = session.get(ModelDraft, draft)
        assert (found.revision, found.status) == (before, "open")


def test_properties_form_changes_a_due_rule_and_the_changes_page_shows_it(shared):
    owner = cached_client(shared, "owner")
    draft = draft_id(post(owner, f"/models/{PJ}/drafts", {"version": "1"}))
    form = text(owner.get(f"/models/drafts/{draft}/properties"))
    assert 'name="p.initial_lar.due"' in form and 'value="LA_START+3w"' in form
    saved = post(owner, f"/models/drafts/{draft}/properties",
                 {"p.initial_lar.due": "LA_START+2w", "p.initial_lar.remind": "-5d"})
    assert saved.status_code == 302
    check = text(owner.get(f"/models/drafts/{draft}"))
    assert "No problems found" in check and "Deploy as version" in check
    changes = text(owner.get(f"/models/drafts/{draft}/changes"))
    assert "Hold initial looked-after review: due rule LA_START+3w → LA_START+2w" in changes
    assert ">1 change<" in changes and 'data-markers="{"initial_lar": "changed"}"' in changes
    # a bad rule is listed with its element, line and fix
    post(owner, f"/models/drafts/{draft}/properties", {"p.initial_lar.due": "LA_START+2 weeks"})
    check = text(owner.get(f"/models/drafts/{draft}"))
    assert "initial_lar" in check and "due rule" in check and "Write the due rule as ANCHOR+N unit" in check
    line = re.search(r"<code class=\"govuk-body-s\">initial_lar</code></td> <td class=\"govuk-table__cell "
                     r"govuk-table__cell--numeric\">(\d+)</td>", check)
    assert line and int(line.group(1)) > 1
    # a stale save (another owner saved meanwhile) is refused
    stale = post(owner, f"/models/drafts/{draft}/properties",
                 {"p.initial_lar.due": "LA_START+4w", "revision": "1"})
    assert stale.status_code == 302
    with shared.database.transaction() as session:
        assert "LA_START+4w" not in session.get(ModelDraft, draft).bpmn_xml
    assert post(owner, f"/models/drafts/{draft}/discard").status_code == 302
    assert owner.get(f"/models/drafts/{draft}/edit").status_code == 409


def test_editor_page_and_saving_the_modeler_xml(shared):
    owner = cached_client(shared, "owner")
    draft = draft_id(post(owner, f"/models/{PJ}/drafts", {"version": "1"}))
    page = text(owner.get(f"/models/drafts/{draft}/edit"))
    assert 'src="/static/vendor/bpmn-modeler.production.min.js"' in page
    assert 'data-property="due"' in page and "initial_lar.schema.json" in page
    xml = owner.get(f"/models/drafts/{draft}.bpmn?view=1").data.decode()
    changed = xml.replace('value="LA_START+3w"', 'value="LA_START+2w"')
    saved = owner.post(f"/models/drafts/{draft}/edit", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(owner), "action": "check", "revision": "1",
        "files": [(io.BytesIO(changed.encode()), "diagram.bpmn")]})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/models/drafts/{draft}"
    unsafe = owner.post(f"/models/drafts/{draft}/edit", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(owner), "action": "save",
        "files": [(io.BytesIO(XXE.encode()), "diagram.bpmn")]})
    assert unsafe.status_code == 302
    with shared.database.transaction() as session:
        assert "LA_START+2w" in session.get(ModelDraft, draft).bpmn_xml
    assert "DOCTYPE" in text(owner.get(f"/models/drafts/{draft}/edit"))
    post(owner, f"/models/drafts/{draft}/discard")


# -- the acceptance test: v2 deployed, diff, dry run, migration -----------------------------
def test_two_week_review_version_is_deployed_and_children_move_to_it(world):
    today = date.today()
    db = world.database
    at_meeting, meeting_item = child_at(db, "P0001", "north", "planning_meeting", today - timedelta(days=2))
    la_start = today - timedelta(days=10)
    at_review, review_item = child_at(db, "I0001", "north", "initial_lar", la_start)
    with db.transaction() as session:
        assert session.get(WorkItem, review_item).due_date == la_start + timedelta(weeks=3)
        cycle = pdsa.record_cycle(session, pdsa.CycleInput(
            aim=2, change_idea="Initial LAR within two weeks, then a two-week review",
            cycle_number=1, start_date=today, prediction="More recommendations within 30 weeks"),
            "owner")
        cycle_id = cycle.id
    owner = sign_in(world.app.test_client(), "owner")

    # upload v2 as a zip (the download format), check it, see exactly the two changes
    v2 = two_week_version()
    response = upload(owner, [(io.BytesIO(model_drafts.bundle_zip(PJ, v2.bpmn_xml, v2.forms)), "v2.zip")])
    draft = draft_id(response)
    assert "No problems found" in text(owner.get(f"/models/drafts/{draft}"))
    with db.transaction() as session:
        v1 = session.scalars(select(ProcessModel).where(ProcessModel.process_id == PJ)).one()
        report = model_validation.validate(v2, model_validation.validation_context(db.runtime, PJ))
        lines = diagram_elements.compare(v1, report).lines()
    assert lines == ["Added: Hold two-week review",
                     "Hold initial looked-after review: due rule LA_START+3w → LA_START+2w"]
    changes = text(owner.get(f"/models/drafts/{draft}/changes"))
    assert ">2 changes<" in changes and all(line in changes for line in lines)
    assert "After Hold initial looked-after review; before Hold interim review" in changes
    assert '"two_week_review": "added"' in changes

    # deploy with a reason and the PDSA cycle
    empty = post(owner, f"/models/drafts/{draft}/deploy", {"reason": "  ", "confirm": "yes"})
    assert empty.status_code == 400 and "Enter why this version is being deployed" in text(empty)
    deployed = post(owner, f"/models/drafts/{draft}/deploy",
                    {"reason": "Midlothian: initial LAR at two weeks", "pdsa_cycle": str(cycle_id),
                     "confirm": "yes"})
    assert deployed.status_code == 302 and deployed.headers["Location"] == f"/models/{PJ}/versions/2"
    listing = text(owner.get(f"/models/{PJ}"))
    assert "Midlothian: initial LAR at two weeks" in listing
    assert "Aim 2: Initial LAR within two weeks, then a two-week review (cycle 1)" in listing
    with db.transaction() as session:
        v2_model = session.scalars(select(ProcessModel).where(ProcessModel.process_id == PJ,
                                                              ProcessModel.version == 2)).one()
        assert (v2_model.pdsa_cycle_id, v2_model.deployed_by) == (cycle_id, "owner")
        assert pdsa.cycles(session)[0].model_version == 2
        assert session.get(ModelDraft, draft).status == "deployed"
        newcomer = children.register_child(session, "NEW01", "New Child", "north", "test")
        assert children.accommodate(session, db.runtime, newcomer, today, "test").model.version == 2
    assert post(owner, f"/models/drafts/{draft}/deploy", {"reason": "again", "confirm": "yes"}).status_code == 409

    # dry run: every running v1 child can move; the newcomer is already on v2; nothing written
    with db.transaction() as session:
        before_events = session.scalar(select(func.count()).select_from(AuditEvent))
        instance_of = {i.subject.reference: i.id for i in session.scalars(
            select(ProcessInstance).where(ProcessInstance.process_id == PJ))}
    dry = text(owner.get(f"/models/{PJ}/versions/2/migrate"))
    assert "5 children on other versions, 5 can move" in dry and "NEW01" not in dry
    assert "Hold initial looked-after review → Hold initial looked-after review" in dry
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before_events

    # move two children chosen by the owner, then all that can
    moved = post(owner, f"/models/{PJ}/versions/2/migrate",
                 {"action": "selected", "confirm": "yes",
                  "instance": [str(instance_of["I0001"]), str(instance_of["P0001"])]})
    assert moved.status_code == 302
    page = text(owner.get(f"/models/{PJ}/versions/2/migrate"))
    assert "Moved to version 2: P0001, I0001" in page or "Moved to version 2: I0001, P0001" in page
    assert "3 children on other versions, 3 can move" in page
    post(owner, f"/models/{PJ}/versions/2/migrate", {"action": "all", "confirm": "yes"})
    assert "No running child is on another version" in text(owner.get(f"/models/{PJ}/versions/2/migrate"))

    # work items and due dates follow v2
    review = [i for i in open_items(db, at_review) if i.task_name == "initial_lar"][0]
    assert review.id == review_item and review.due_date == la_start + timedelta(weeks=2)
    with db.transaction() as session:
        assert session.get(ProcessInstance, instance_of["I0001"]).model.version == 2
        migrated = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "instance_migrated", AuditEvent.subject_id == at_review)).one()
        assert (migrated.actor, migrated.data["from_version"], migrated.data["to_version"]) == ("owner", 1, 2)
    chair = sign_in(world.app.test_client(), "chair")
    form = chair.get(f"/tasks/{review_item}")
    assert form.status_code == 200
    clock.set_now(today)
    try:
        with db.transaction() as session:
            user = session.scalars(select(UserAccount).filter_by(username="chair")).one()
            instance = session.get(ProcessInstance, instance_of["I0001"])
            schema, _ = db.runtime.form_for(instance, "initial_lar")
            answers = sample_answers.fill(schema, today, random.Random(1), demo.WEIGHTS)
            work_items.claim(session, review_item, user)
            db.runtime.complete(session, review_item, answers, user)
    finally:
        clock.set_now(None)
    after = {i.task_name: i for i in open_items(db, at_review)}
    assert after["two_week_review"].role == "team_leader"
    assert after["two_week_review"].due_date == \
        date.fromisoformat(answers["date_held"]) + timedelta(weeks=2)
    meeting_due = [i for i in open_items(db, at_meeting) if i.task_name == "planning_meeting"][0]
    assert meeting_due.id == meeting_item

    # history keeps the v1 steps
    with db.transaction() as session:
        done = session.scalars(select(Milestone).where(Milestone.subject_id == at_review,
                                                       Milestone.code == "PLANNING_MTG")).one()
        assert done.model_version == 1
        started = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "instance_started", AuditEvent.subject_id == at_review)).one()
        assert started.data["version"] == 1
    leader = sign_in(world.app.test_client(), "tl.north")
    child_page = text(leader.get(f"/children/{at_review}"))
    assert "Hold planning meeting" in child_page and "diagram version 2" in child_page
    assert "Hold two-week review" in child_page


def test_children_on_a_removed_step_are_refused_one_by_one(world):
    owner = sign_in(world.app.test_client(), "owner")
    draft = draft_id(upload(owner, as_files(without_legal_referral())))
    changes = text(owner.get(f"/models/drafts/{draft}/changes"))
    assert "Removed: Send referral for legal advice" in changes and ">1 change<" in changes
    assert 'id="deployed-diagram"' in changes and '"legal_referral": "removed"' in changes
    assert post(owner, f"/models/drafts/{draft}/deploy",
                {"reason": "Legal advice requested at the interim review", "confirm": "yes"}).status_code == 302
    dry = text(owner.get(f"/models/{PJ}/versions/2/migrate"))
    assert "3 children on other versions, 1 can move" in dry
    assert "It is at Send referral for legal advice, which the new version removes" in dry
    with world.database.transaction() as session:
        ids = {i.subject.reference: i.id for i in session.scalars(select(ProcessInstance))}
    response = post(owner, f"/models/{PJ}/versions/2/migrate",
                    {"action": "selected", "confirm": "yes",
                     "instance": [str(ids["N0001"]), str(ids["N0002"])]})
    page = text(owner.get(response.headers["Location"]))
    assert "Moved to version 2: N0002" in page
    assert "N0001 was not moved" in page and "cannot move to version 2" in page
    with world.database.transaction() as session:
        assert session.get(ProcessInstance, ids["N0001"]).model.version == 1
        assert session.get(ProcessInstance, ids["N0002"]).model.version == 2
        assert session.get(WorkItem, world.tasks["north"]).status == "ready"


# -- zips that cannot be unpacked, an unknown PDSA cycle (issue 26): never a 500 --------------
def _single(name: str, body: str, method: int = zipfile.ZIP_DEFLATED) -> bytearray:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        archive.writestr(name, body)
    return bytearray(out.getvalue())


def _set_method(data: bytearray, method: int) -> bytes:
    """The compression method a zip tool wrote (9 Deflate64, 99 AES) in the local and the
    central header of the zip's one entry."""
    central = data.rfind(b"PK\x01\x02")
    for at in (8, central + 10):
        data[at:at + 2] = method.to_bytes(2, "little")
    return bytes(data)


def encrypted_zip(folder, bundle: ModelBundle) -> bytes:
    """A password-protected zip of the diagram and its forms: made by the zip command
    (``-P``: ``zip -e`` without a terminal), or flagged encrypted where zip is missing."""
    import shutil
    import subprocess
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{bundle.process_id}.bpmn").write_text(bundle.bpmn_xml, encoding="utf-8")
    target = folder / "locked.zip"
    if shutil.which("zip"):
        subprocess.run(["zip", "-q", "-j", "-P", "secret", str(target),
                        str(folder / f"{bundle.process_id}.bpmn")], check=True)
        return target.read_bytes()
    data = _single(f"{bundle.process_id}.bpmn", bundle.bpmn_xml)
    central = data.rfind(b"PK\x01\x02")
    data[6] |= 1
    data[central + 8] |= 1
    return bytes(data)


def _bad_crc() -> bytes:
    data = _single(f"{PJ}.bpmn", shipped().bpmn_xml, zipfile.ZIP_STORED)
    data[30 + len(f"{PJ}.bpmn") + 200] ^= 0x01  # one bit of the stored diagram
    return bytes(data)


def _corrupt_stream() -> bytes:
    data = _single(f"{PJ}.bpmn", shipped().bpmn_xml)
    start = 30 + len(f"{PJ}.bpmn")
    data[start:start + 16] = b"\xff" * 16  # the deflate stream's first blocks
    return bytes(data)


def _bomb() -> bytes:  # a 1.5 MB "diagram" of spaces, compressed about a thousand times
    return bytes(_single(f"{PJ}.bpmn", "<x>" + " " * (1536 * 1024) + "</x>"))


def _too_much() -> bytes:  # 25 forms of 256,000 bytes: more than 5 MB unpacked, 3.6 MB packed
    import os
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(25):
            archive.writestr(f"forms/f{number}.schema.json", os.urandom(128000).hex())
    return out.getvalue()


BAD_ZIPS = {
    "password": (lambda folder: encrypted_zip(folder, shipped()), 400,
                 "locked.zip is protected with a password"),
    "deflate64": (lambda _: _set_method(_single(f"{PJ}.bpmn", shipped().bpmn_xml), 9), 400,
                  "uses a compression method PACE Flow does not read"),
    "aes": (lambda _: _set_method(_single(f"{PJ}.bpmn", shipped().bpmn_xml), 99), 400,
            "is protected with a password"),
    "bad crc": (lambda _: _bad_crc(), 400, "is damaged: permanence_journey.bpmn cannot be unpacked"),
    "corrupt stream": (lambda _: _corrupt_stream(), 400,
                       "is damaged: permanence_journey.bpmn cannot be unpacked"),
    "zip in a zip": (lambda _: bytes(_single("inner.zip", "PK")), 400, "holds another archive"),
    "zip bomb": (lambda _: _bomb(), 413, "it looks like a zip bomb and was not unpacked"),
    "too much unpacked": (lambda _: _too_much(), 413, "may be at most 5,242,880 bytes in all"),
}


@pytest.mark.parametrize("case", BAD_ZIPS)
def test_zips_that_cannot_be_unpacked_are_refused_on_the_upload_page(shared, tmp_path, case):
    make, status, words = BAD_ZIPS[case]
    owner = cached_client(shared, "owner")
    before = drafts(shared)
    name = "locked.zip" if case == "password" else "pj.zip"
    for url in (f"/models/{PJ}/upload", "/models/upload"):
        response = upload(owner, [(io.BytesIO(make(tmp_path)), name)], url=url)
        assert response.status_code == status, (case, text(response)[:500])
        assert words in text(response) and "There is a problem" in text(response), case
        assert "Traceback" not in text(response)
    assert drafts(shared) == before


@pytest.mark.parametrize("case", BAD_ZIPS)
def test_zips_that_cannot_be_unpacked_are_refused_when_added_to_a_draft(shared, tmp_path, case):
    make, status, words = BAD_ZIPS[case]
    owner = cached_client(shared, "owner")
    draft = draft_id(post(owner, f"/models/{PJ}/drafts", {"version": "1"}))
    with shared.database.transaction() as session:
        found = session.get(ModelDraft, draft)
        before = (found.revision, found.bpmn_xml, dict(found.forms))
    response = owner.post(f"/models/drafts/{draft}/files", content_type="multipart/form-data",
                          data={"csrf_token": csrf_token(owner),
                                "files": [(io.BytesIO(make(tmp_path)), "locked.zip"
                                           if case == "password" else "pj.zip")]})
    body = text(response)
    assert response.status_code == status, (case, body[:500])
    assert "There is a problem" in body and "Nothing was added: " in body and words in body
    assert 'id="add-files-error"' in response.get_data(as_text=True)
    with shared.database.transaction() as session:
        found = session.get(ModelDraft, draft)
        assert (found.revision, found.bpmn_xml, dict(found.forms)) == before
    post(owner, f"/models/drafts/{draft}/discard")


def test_deploying_with_a_pdsa_cycle_that_does_not_exist_says_so(shared):
    owner = cached_client(shared, "owner")
    draft = draft_id(post(owner, f"/models/{PJ}/drafts", {"version": "1"}))
    post(owner, f"/models/drafts/{draft}/properties", {"p.initial_lar.due": "LA_START+2w"})
    before = versions(shared)
    for cycle in ("99999", "abc"):
        response = post(owner, f"/models/drafts/{draft}/deploy",
                        {"reason": "Two weeks", "pdsa_cycle": cycle, "confirm": "yes"})
        body = text(response)
        assert response.status_code == 400, body[:500]
        assert f"There is no PDSA cycle {cycle}: choose another, or none." in body
        assert "There is a problem" in body and "Two weeks" in body  # the reason kept
    assert versions(shared) == before
    with shared.database.transaction() as session:
        assert session.get(ModelDraft, draft).status == "open"
    post(owner, f"/models/drafts/{draft}/discard")


def _page_findings(response) -> set[tuple[str, str, str]]:
    from lxml import html as lxml_html
    rows = lxml_html.fromstring(response.get_data(as_text=True)).xpath(
        "//table[@id='problems']/tbody/tr")
    found = set()
    for row in rows:
        cells = row.xpath("./td")
        element = cells[0].xpath(".//code/text()")
        found.add((element[0] if element else "", cells[1].text_content().strip().replace("–", "-"),
                   cells[2].text_content().strip()))
    return found


def _cli_findings(output: str) -> set[tuple[str, str, str]]:
    found = set()
    for line in output.splitlines():
        match = re.match(r"^(\S+)(?: \(.*?\))?, line (\S+): (.*)$", line)
        if match:
            element = "" if match.group(1) == "the" else match.group(1)
            found.add((element, match.group(2), match.group(3)))
    return found


@pytest.mark.parametrize("case", ["camunda", "broken due rule and missing form"])
def test_the_page_and_the_command_line_list_the_same_problems(shared, tmp_path, case):
    owner = cached_client(shared, "owner")
    if case == "camunda":
        files, url, options = {"review.bpmn": CAMUNDA}, "/models/upload", []
    else:
        broken = shipped()
        broken.bpmn_xml = broken.bpmn_xml.replace('value="LA_START+3w"', 'value="LA_START+2 weeks"')
        del broken.forms["legal_opinion.schema.json"]
        files = {f"{PJ}.bpmn": broken.bpmn_xml, **broken.forms}
        url, options = f"/models/{PJ}/upload", ["--process", PJ]
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    response = upload(owner, [(io.BytesIO(body.encode()), name) for name, body in files.items()],
                      url=url)
    draft = draft_id(response)
    page = _page_findings(owner.get(f"/models/drafts/{draft}"))
    result = shared.app.test_cli_runner().invoke(
        args=["models", "check", *[str(tmp_path / n) for n in files], *options])
    assert result.exit_code == 1, result.output
    assert page and _cli_findings(result.output) == page
    post(owner, f"/models/drafts/{draft}/discard")
    # and the same refusal for the same unreadable zip
    locked = encrypted_zip(tmp_path / "zip", shipped())
    refused = text(upload(owner, [(io.BytesIO(locked), "locked.zip")]))
    cli = shared.app.test_cli_runner().invoke(args=["models", "check",
                                                    str(tmp_path / "zip" / "locked.zip")])
    message = re.search(r"Refused: (.*)", cli.output).group(1)
    assert cli.exit_code == 1 and message in refused
