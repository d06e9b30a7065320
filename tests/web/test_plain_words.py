"""Plain words on every worker page: no milestone code, role code, process id, task id, form
field or choice code, no "demo" or other actor that is not a person, no ISO date.

Every page a social worker, a first-line manager, a service manager and a service-wide role
(legal services; in England the IRO) open is rendered over a demo caseload of each profile
(children at every stage, timers fired, reminders and escalations sent), for every child
and a task of each kind in each state. The codes are not a hand list: they are
read from the profiles' vocabulary and from the deployed diagrams and forms, so a code added
to a diagram is checked as soon as it exists. Visible text is the page's body with tags,
attributes, scripts and styles stripped.

The process pages (``/models``) are left out: they show a diagram's element ids, rules and
milestone codes because that is what a process owner edits there; their diagram viewer
draws lanes by role name (test_diagram_viewers_name_lanes_by_role below).
"""
from __future__ import annotations

import json
import re
from datetime import date

import lxml.html
import pytest
from sqlalchemy import func, select

from engine.audit import path as diagram_path
from engine.models import AuditEvent, ProcessModel, Subject, UserAccount, WorkItem
from tests.conftest import BACKENDS, make_database
from workflows import profiles
from workflows.casework.tables import CaseNote
from workflows.documents.tables import GeneratedDocument
from workflows.demo import england as england_demo, scotland as demo

from .conftest import sign_in
from .journeys import make_app
from .page_routes import page_rules

READERS = {"scotland": ("sw.north", "tl.north", "manager", "legal"),
           "england": ("eng.sw.east", "eng.tm.east", "eng.manager", "eng.iro")}
# Path arguments filled from the caseload; pages with other arguments are not worker pages
# (imports, drafts, people, teams: administrators and process owners), which the test checks.
# Not worker pages, or not pages: an attachment is the worker's own file, downloaded.
NOT_WORKER_PAGES = re.compile(
    r"^/(models|import|people|teams|roles|audit|measures/pdsa/<|attachments/<"
    r"|documents/<[^/]*>$)")  # a download, not a page
ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
EVENT_WORDS = ("Timer fired",)  # the event's old label, named in the issue


@pytest.fixture(scope="module", ids=lambda p: f"{p[0]}-{p[1]}",
                params=[(profile, backend) for profile in READERS for backend in BACKENDS])
def caseload(request, tmp_path_factory):
    """(database, app, profile): a deployment of one profile with its demo caseload."""
    profile, backend = request.param
    patch = pytest.MonkeyPatch()
    patch.setenv("PACE_PROFILES", profile)
    request.addfinalizer(patch.undo)
    database = make_database(backend, tmp_path_factory.mktemp(f"plain-{profile}"), request)
    builder = england_demo if profile == "england" else demo
    builder.build(database, children=12, today=date.today())
    return database, make_app(database), profile


def _walk_form(node, labels: list[str], codes: set[str]) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("title"), str):
            labels.append(node["title"])
        if isinstance(node.get("description"), str):
            labels.append(node["description"])
        if isinstance(node.get("const"), str):
            codes.add(node["const"])
        for value in node.get("enum") or []:
            if isinstance(value, str):
                codes.add(value)
        codes.update(node.get("properties") or {})
        for value in node.values():
            _walk_form(value, labels, codes)
    elif isinstance(node, list):
        for value in node:
            _walk_form(value, labels, codes)


def vocabulary(session) -> tuple[set[str], set[str], list[str]]:
    """(codes, codes whose mechanical readable form "Interim lar" is also a code, labels):
    every profile's role codes, milestone codes and process ids, and every deployed diagram's
    element ids, form field names and choice codes; the labels are their human names."""
    named: set[str] = set(profiles.SHARED_ROLES)
    labels: list[str] = list(profiles.SHARED_ROLES.values())
    for profile in profiles.PROFILES.values():
        named |= set(profile.roles) | set(profile.milestones) | set(profile.processes)
        labels += [*profile.roles.values(), *profile.milestones.values(),
                   *profile.process_names.values(), profile.title]
    fields: set[str] = set()
    for model in session.scalars(select(ProcessModel)):
        diagram = diagram_path.Diagram(model.bpmn_xml)
        named |= set(diagram.kinds)
        labels += [name for element, name in diagram.names.items() if name != element]
        labels.append(model.name or "")
        for text in (model.forms or {}).values():
            _walk_form(json.loads(text) if isinstance(text, str) else text, labels, fields)
    return named | fields, named, labels


def _word(text: str) -> re.Pattern:
    return re.compile(r"(?<![A-Za-z0-9_])" + re.escape(text) + r"(?![A-Za-z0-9_])")


def forbidden(codes: set[str], named: set[str], labels: list[str]) -> re.Pattern:
    """The codes a worker must not read. A code that is also a word of the labels ("ADM",
    "legal", "panel") cannot be told from the word and is not checked; a lower-case code
    whose capitals are a word of the labels ("adm", "capr") is an abbreviation shown as a
    code, and is."""
    said = " ".join(labels)

    def in_labels(text: str) -> bool:
        return bool(_word(text).search(said))

    found = set()
    for code in codes:
        if in_labels(code):
            continue
        if "_" in code or code.isupper() or in_labels(code.upper()):
            found.add(code)
    for code in named:
        readable = code.replace("_", " ").capitalize()
        if "_" in code and not in_labels(readable):
            found.add(readable)  # "Interim lar", "Cso home review"
    return re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(
        re.escape(c) for c in sorted(found, key=len, reverse=True)) + r")(?![A-Za-z0-9_])")


def visible_text(html: str) -> tuple[str, list[str]]:
    """The body's text without tags, attributes, scripts and styles; and each table cell's
    and summary value's own text (where who did something is shown)."""
    doc = lxml.html.fromstring(html)
    for hidden in doc.xpath("//script|//style|//template"):
        hidden.drop_tree()
    body = doc.find("body")
    cells = [" ".join(c.text_content().split()) for c in body.xpath(".//td|.//dd")]
    return " ".join(body.text_content().split()), cells


def worker_urls(session) -> list[str]:
    values = {
        "subject_id": [c for c in session.scalars(select(Subject.id))],
        # a task of each kind in each state (open, completed, withdrawn): every task page
        "item_id": [i for i, in session.execute(select(func.min(WorkItem.id)).group_by(
            WorkItem.task_name, WorkItem.status))],
        "aim": [1, 2, 3],
        "profile": [p.name for p in profiles.enabled()],
        # the demo writes no notes: the child and task pages show their empty panels, and
        # the edit page is read in tests/web/test_case_file.py
        "note_id": [n for n in session.scalars(select(CaseNote.id))],
        # documents are made when a worker completes a step (the demo completes them through
        # the runtime, making none): the print page is read in tests/web/test_documents.py
        "document_id": [d for d in session.scalars(select(GeneratedDocument.id))],
    }
    urls = []
    for rule in page_rules():
        names = re.findall(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", rule)
        if NOT_WORKER_PAGES.match(rule) or rule == "/sign-in":
            continue
        assert all(n in values for n in names), f"{rule}: fill its arguments or say why not"
        filled = [rule]
        for name in names:
            filled = [re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?" + name + ">", str(v), url, count=1)
                      for url in filled for v in values[name]]
        urls += filled
    return urls


def test_worker_pages_speak_plain_words(caseload):
    database, app, profile = caseload
    with database.transaction() as session:
        codes, named, labels = vocabulary(session)
        people = set(session.scalars(select(UserAccount.username)))
        not_people = set(session.scalars(select(AuditEvent.actor).distinct())) - people
        urls = worker_urls(session)
    assert {"LA_START", "team_leader", "permanence_journey", "REVIEW_FIRST", "iro"} <= codes
    assert not_people  # the caseload has events no person did (the demo, timers)
    pattern = forbidden(codes, named, labels)
    problems, pages = [], 0
    for reader in READERS[profile]:
        client = sign_in(app.test_client(), reader)
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, (reader, url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            pages += 1
            text, cells = visible_text(response.get_data(as_text=True))
            where = f"{reader} {url}"
            problems += [f"{where}: code {m.group(0)!r} in “…{text[max(m.start() - 40, 0):m.end() + 40]}…”"
                         for m in pattern.finditer(text)]
            problems += [f"{where}: ISO date {m.group(0)}" for m in ISO_DATE.finditer(text)]
            problems += [f"{where}: {w!r}" for w in EVENT_WORDS if w in text]
            problems += [f"{where}: {c!r} named as who did something" for c in cells
                         if c in not_people]
    assert pages > 4 * 20, pages  # the child and task pages of each reader, and the lists
    assert not problems, "\n".join(sorted(set(problems))[:60])


def test_the_check_finds_codes_when_they_are_shown():
    """The check itself: a page naming a code, a readable code, a non-person or an ISO date
    fails it."""
    pattern = forbidden({"INTERIM_LAR", "team_leader", "adm", "panel", "no"},
                        {"interim_lar", "team_leader"},
                        ["Interim review", "Team leader", "ADM decision", "Permanence panel"])
    for shown in ("Due INTERIM_LAR", "to team_leader", "Ratified by the adm",
                  "Interim lar completed"):
        assert pattern.search(shown), shown
    for plain in ("Interim review", "Team leader", "Permanence panel", "no more", "ADM decision"):
        assert not pattern.search(plain), plain
    text, cells = visible_text("<html><body><p title='LA_START'>Due 2026-10-28</p>"
                               "<table><tr><td>demo</td></tr></table></body></html>")
    assert "LA_START" not in text and ISO_DATE.search(text) and cells == ["demo"]


def test_diagram_viewers_name_lanes_by_role(caseload):
    database, app, profile = caseload
    if profile == "england":
        reader, process, codes, names = ("eng.manager", "eng_looked_after", {"iro", "team_manager"},
                                         {"Independent reviewing officer (IRO)", "Team manager"})
    else:
        reader, process, codes, names = ("manager", "permanence_journey", {"team_leader", "adm"},
                                         {"Team leader", "Agency Decision Maker"})
    manager = sign_in(app.test_client(), reader)
    xml = manager.get(f"/models/{process}/versions/1.bpmn?view=1").get_data(as_text=True)
    lanes = set(re.findall(r'<bpmn:lane id="[^"]+" name="([^"]+)"', xml))
    assert names <= lanes and not codes & lanes, lanes
    download = manager.get(f"/models/{process}/versions/1.bpmn").get_data(as_text=True)
    assert all(f'name="{code}"' in download for code in codes)  # the file keeps its codes
