"""The engine is generic: a public library's inter-library loans run on it untouched.

The diagram, forms and engine configuration in tests/engine/library/ are the library's own:
its lanes (librarian, branch manager), escalation chain, milestone codes, due-rule grammar
with an opening-days calendar, a script function, and the wording of its notices. Nothing
in this module or in the library's imports the PACE domain (``workflows``) or the web
layer (``web``); the last test checks that. The database comes from the shared fixture
(schema only, both backends); the runtime is built here from the library's configuration.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from SpiffWorkflow.util.task import TaskState

from engine import audit, clock, queues, registry, sweeper, work_items
from engine.db import make_session_factory, unit_of_work
from engine.errors import InvalidData
from engine.models import (AuditEvent, Milestone, Notification, OutboxMessage, ProcessInstance,
                           Subject, Team, Timer, UserAccount, WorkItem)
from engine.outbox import MailSettings
from engine.registry import InvalidModel, ModelBundle, parse_bundle
from engine.runtime import Runtime

from .library import config as library

LIBRARY = Path(library.__file__).resolve().parent
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI}
FRI = date(2026, 3, 6)  # the request day; Sunday 8 March and Wednesday 11 March are closed days
SERVICE = "Riverside Libraries: inter-library loans"


# -- the bundle itself ------------------------------------------------------------------
def test_the_library_bundle_is_bpmn_with_lanes_and_a_drawn_diagram():
    bundle = library.bundle()
    root = etree.fromstring(bundle.bpmn_xml.encode())
    lanes = {lane.get("name"): set(lane.xpath("bpmn:flowNodeRef/text()", namespaces=NS))
             for lane in root.xpath("//bpmn:lane", namespaces=NS)}
    assert set(lanes) == set(library.ROLES) == {"librarian", "branch_manager"}
    process = root.find(f"{{{BPMN}}}process")
    nodes = {n.get("id") for n in process if etree.QName(n).localname not in
             ("laneSet", "sequenceFlow", "documentation", "extensionElements")}
    assert set().union(*lanes.values()) == nodes  # every flow node in exactly one lane
    assert sum(map(len, lanes.values())) == len(nodes)
    # Diagram interchange: every lane, node and participant drawn, every flow routed.
    drawn = set(root.xpath("//bpmndi:BPMNShape/@bpmnElement", namespaces=NS))
    routed = set(root.xpath("//bpmndi:BPMNEdge/@bpmnElement", namespaces=NS))
    lane_ids = set(root.xpath("//bpmn:lane/@id", namespaces=NS))
    assert drawn == nodes | lane_ids | {"Participant_book_loan"}
    assert routed == set(process.xpath("bpmn:sequenceFlow/@id", namespaces=NS))
    bounds = {shape.get("bpmnElement"): [float(shape[0].get(k)) for k in ("x", "y", "width", "height")]
              for shape in root.xpath("//bpmndi:BPMNShape", namespaces=NS)}

    def touches(point, element):  # a waypoint on (or in) the element's drawn box
        x, y, width, height = bounds[element]
        return x <= point[0] <= x + width and y <= point[1] <= y + height

    for flow in process.xpath("bpmn:sequenceFlow", namespaces=NS):
        [edge] = root.xpath(f"//bpmndi:BPMNEdge[@bpmnElement='{flow.get('id')}']", namespaces=NS)
        points = [(float(w.get("x")), float(w.get("y"))) for w in edge.xpath("di:waypoint", namespaces={
            "di": "http://www.omg.org/spec/DD/20100524/DI"})]
        assert touches(points[0], flow.get("sourceRef")) and touches(points[-1], flow.get("targetRef")), \
            flow.get("id")
    # Valid BPMN 2.0 (SpiffWorkflow checks it against the OMG schema) and the library's rules.
    spec, _, name = parse_bundle(bundle, library.library_config().validation_context())
    assert name == "Inter-library loan"
    user_tasks = {t.bpmn_id: t.lane for t in spec.task_specs.values()
                  if type(t).__name__ == "UserTask"}
    assert user_tasks == {"check_request": "librarian", "order_book": "librarian",
                          "record_return": "librarian", "approve_costly_loan": "branch_manager"}
    codes = set(root.xpath("//*[local-name()='property'][@name='milestone']/@value"))
    assert codes == set(library.MILESTONES)
    forms = set(root.xpath("//*[local-name()='property'][@name='formJsonSchemaFilename']/@value"))
    assert forms == set(bundle.forms)


# Words of the PACE deployment that must appear nowhere in the library's files.
PACE_WORDS = re.compile(r"social_worker|team_leader|service_manager|independent_chair|LA_START|"
                        r"permanen|child|looked.after|hearing|\bpace\b|council", re.IGNORECASE)


def test_the_library_files_speak_of_loans_not_of_the_other_deployment():
    files = [p for p in LIBRARY.rglob("*") if p.is_file() and p.suffix in (".py", ".bpmn", ".json")]
    assert {p.name for p in files} >= {"config.py", "book_loan.bpmn", "check_request.schema.json"}
    for path in files:
        found = PACE_WORDS.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name}: {sorted(set(found))}"
    config = library.library_config()
    words = " ".join([*config.roles, *config.escalation_roles, *library.MILESTONES,
                      *config.script_functions, library.PROCESS_ID])
    assert not PACE_WORDS.findall(words)


# -- the library's own grammar and calendar ---------------------------------------------
def test_due_rules_are_read_in_the_library_grammar_and_calendar():
    rules = library.library_config().rules
    anchors = {"REQUEST": FRI}
    assert rules.resolve("REQUEST+2d", anchors) == date(2026, 3, 8)       # a Sunday
    assert rules.resolve("REQUEST+2od", anchors) == date(2026, 3, 9)      # Sunday skipped
    assert rules.shift(date(2026, 3, 9), "+1d +3od") == [date(2026, 3, 10), date(2026, 3, 13)]
    assert rules.shift(date(2026, 3, 12), "-1od") == [date(2026, 3, 10)]  # closed on the 11th
    assert rules.resolve("needed_by-1d or CHECKED+5od", {"CHECKED": date(2026, 3, 9)}) \
        == date(2026, 3, 16)
    assert rules.resolve("needed_by-1d or CHECKED+5od",
                         {"CHECKED": date(2026, 3, 9), "needed_by": date(2026, 3, 27)}) \
        == date(2026, 3, 26)
    assert rules.resolve("RETURNED_PLANNED+2od", anchors) is None          # not known yet
    # Units and separators of other grammars are not the library's.
    for rule in ("REQUEST+2wd", "REQUEST+1m", "REQUEST | CHECKED", "REQUEST+2 days", ""):
        with pytest.raises(ValueError):
            rules.check_rule(rule)
    with pytest.raises(ValueError):
        rules.check_offsets("soon")


def _problems(xml: str, config=None) -> list[str]:
    bundle = library.bundle()
    config = config or library.library_config()
    with pytest.raises(InvalidModel) as err:
        parse_bundle(ModelBundle(bundle.process_id, xml, bundle.forms), config.validation_context())
    return [str(p) for p in err.value.problems]


def test_deploy_checks_the_diagram_against_the_library_configuration():
    """Due rules in the library's grammar, lanes among its roles, scripts among its
    functions: what deploy accepts is the configuration's, not built into the engine."""
    xml = library.bundle().bpmn_xml
    found = _problems(xml.replace('value="REQUEST+2od"', 'value="REQUEST+2wd"'))
    assert len(found) == 1 and found[0].startswith("check_request") and "due rule" in found[0]
    found = _problems(xml.replace('name="branch_manager"', 'name="porter"'))
    assert any(p.startswith("approve_costly_loan") and "'porter'" in p for p in found), found
    without_scripts = library.library_config()
    without_scripts.script_functions = {}
    found = _problems(xml, without_scripts)
    assert any(p.startswith("price_loan") and "price_loan()" in p for p in found), found


# -- running it ----------------------------------------------------------------------------
@dataclass
class Library:
    factory: sessionmaker[Session]
    runtime: Runtime

    def transaction(self):
        return unit_of_work(self.factory)


def _library(database, config) -> Library:
    """The library wired as any deployment wires the engine: a session factory on the
    shared database whose flushes derive the notices of the library's runtime (its
    configuration's policy), not those of the runtime the fixture built."""
    factory = make_session_factory(database.engine)
    runtime = Runtime(config)
    runtime.notices.listen(factory)
    lib = Library(factory, runtime)
    with lib.transaction() as session:
        model, created = registry.deploy(session, library.bundle(), config.validation_context(),
                                         "deployer", reason="first version")
        assert (model.process_id, model.version, created) == ("book_loan", 1, True)
        session.add(Team(code="central", name="Central library"))
        session.flush()
        for username, name, roles, team in [
                ("lib", "Lee", ["librarian"], "central"), ("lib2", "Lou", ["librarian"], "central"),
                ("mgr", "Mo", ["branch_manager"], "central"),
                ("head", "Hal", ["head_of_libraries"], None)]:
            session.add(UserAccount(username=username, display_name=name, roles=roles, team=team,
                                    email=f"{username}@library.invalid", password_hash="!"))
    return lib


@pytest.fixture
def lib(empty_database):
    """The shared schema-only database (SQLite and PostgreSQL), run by the library's runtime."""
    return _library(empty_database, library.library_config())


@pytest.fixture
def lib_with_mail(empty_database):
    settings = MailSettings(host="mail.library.invalid", sender="Loans <loans@library.invalid>")
    return _library(empty_database, library.library_config(mail_settings=lambda: settings))


def _user(session: Session, username: str) -> UserAccount:
    return session.scalars(select(UserAccount).where(UserAccount.username == username)).one()


def request_loan(lib: Library, member: str, title: str, needed_by: date, on: date = FRI) -> int:
    """A member's request: the start form checked against the start event's own schema."""
    clock.set_now(on)
    data = {"title": title, "member": member, "needed_by": needed_by.isoformat(),
            "requested_on": on.isoformat()}
    with lib.transaction() as session:
        loaded = registry.load(registry.latest(session, library.PROCESS_ID))
        lib.runtime.validate(loaded.form_schema(loaded.spec.task_specs["loan_requested"]), data)
        subject = Subject(reference=member, display_name=f"Member {member}", team="central")
        session.add(subject)
        session.flush()
        return lib.runtime.start(session, library.PROCESS_ID, subject, data, "member-portal").id


def queue(lib: Library, role: str) -> list[WorkItem]:
    with lib.transaction() as session:
        return queues.list_work(session, queues.QueueFilter(roles=(role,), teams=("central",)),
                                clock.today()).items


def complete(lib: Library, instance_id: int, task: str, data: dict, username: str) -> None:
    with lib.transaction() as session:
        item_id = session.scalars(select(WorkItem.id).where(
            WorkItem.instance_id == instance_id, WorkItem.task_name == task,
            WorkItem.status.in_(("ready", "claimed")))).one()
        user = _user(session, username)
        work_items.claim(session, item_id, user)
        lib.runtime.complete(session, item_id, data, user)


def instance_state(lib: Library, instance_id: int) -> tuple[str, str | None]:
    with lib.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        return instance.status, instance.end_event


def milestones_of(lib: Library, instance_id: int) -> dict:
    with lib.transaction() as session:
        return {(m.code, m.occurrence): (m.planned_date, m.actual_date, m.data)
                for m in session.scalars(select(Milestone).where(Milestone.instance_id == instance_id))}


def events_of(lib: Library, instance_id: int) -> list[str]:
    with lib.transaction() as session:
        return list(session.scalars(select(AuditEvent.event_type).where(
            AuditEvent.instance_id == instance_id).order_by(AuditEvent.chain_seq)))


def chain_intact(lib: Library) -> bool:
    with lib.transaction() as session:
        return audit.verify(session) is None


def test_a_standard_loan_runs_from_request_to_return(lib):
    instance_id = request_loan(lib, "M-1001", "The Peat Bogs of Caithness", date(2026, 3, 27))

    # The check lands in the librarians' queue, dated by the library's rules and calendar.
    [item] = queue(lib, "librarian")
    assert (item.task_name, item.title, item.role, item.team) == \
        ("check_request", "Check the loan request", "librarian", "central")
    assert (item.due_date, item.remind_date) == (date(2026, 3, 9), date(2026, 3, 8))
    assert item.escalate_dates == ["2026-03-10", "2026-03-13"]
    assert queue(lib, "branch_manager") == []
    with lib.transaction() as session:
        notes = {(n.user_id, n.kind, n.title) for n in session.scalars(select(Notification))}
        ids = {name: _user(session, name).id for name in ("lib", "lib2")}
    assert notes == {(ids[name], "new_request",
                      "New in your queue: Check the loan request for member M-1001")
                     for name in ("lib", "lib2")}

    # Answers are checked against the task's own form; nothing is saved when they fail.
    clock.set_now(date(2026, 3, 9))
    with lib.transaction() as session:
        work_items.claim(session, item.id, _user(session, "lib"))
    for bad, fields in [({"decision": "maybe", "fee": -3}, {"decision", "fee", "reason"}),
                        ({"decision": "approve"}, {"lender", "fee"}),
                        ({"decision": "approve", "lender": "Northfield", "fee": 4, "extra": 1}, {""})]:
        with pytest.raises(InvalidData) as err, lib.transaction() as session:
            lib.runtime.complete(session, item.id, bad, _user(session, "lib"))
        assert {e.field for e in err.value.errors} == fields, err.value.errors
    [still] = queue(lib, "librarian")
    assert (still.id, still.status) == (item.id, "claimed")

    # Approved: the library's script works out the charge; below the limit, no manager.
    complete(lib, instance_id, "check_request",
             {"decision": "approve", "lender": "Northfield Library", "fee": 4.5}, "lib")
    [order] = queue(lib, "librarian")
    assert (order.task_name, order.due_date) == ("order_book", date(2026, 3, 26))  # needed_by-1d
    assert queue(lib, "branch_manager") == []
    with lib.transaction() as session:
        wf = lib.runtime.load_workflow(session.get(ProcessInstance, instance_id))
        [ready] = [t for t in wf.get_tasks(state=TaskState.READY)
                   if t.task_spec.bpmn_id == "order_book"]
        assert (ready.data["charge"], ready.data["costly"]) == (7.0, False)

    # Lent: the intermediate timer waits for the day the book is due back.
    clock.set_now(date(2026, 3, 12))
    complete(lib, instance_id, "order_book", {"lent_on": "2026-03-12", "due_back": "2026-04-02"}, "lib")
    with lib.transaction() as session:
        [timer] = session.scalars(select(Timer)).all()
        assert (timer.name, timer.fire_at.date()) == ("Book due back", date(2026, 4, 2))
    assert queue(lib, "librarian") == []
    clock.set_now(date(2026, 4, 1))
    report = sweeper.sweep(lib.factory, lib.runtime)
    assert (report.errors, report.timers_fired) == ([], 0)
    clock.set_now(date(2026, 4, 2))
    report = sweeper.sweep(lib.factory, lib.runtime)
    assert (report.errors, report.timers_fired, report.reminders, report.escalations) == ([], 1, 0, 0)
    assert sweeper.sweep(lib.factory, lib.runtime).timers_fired == 0  # fires once
    [back] = queue(lib, "librarian")
    assert (back.task_name, back.due_date, back.escalate_dates) == \
        ("record_return", date(2026, 4, 4), ["2026-04-08"])
    with lib.transaction() as session:
        alerts = session.scalars(select(Notification.title).where(
            Notification.work_item_id == back.id)).all()
    assert alerts == ["Loan period over: Record the return for member M-1001"] * 2

    complete(lib, instance_id, "record_return", {"returned_on": "2026-04-02", "condition": "good"}, "lib2")
    assert instance_state(lib, instance_id) == ("completed", "book_returned")
    assert milestones_of(lib, instance_id) == {
        ("REQUEST", 1): (None, FRI, {}),
        ("CHECKED", 1): (date(2026, 3, 9), date(2026, 3, 9),
                         {"decision": "approve", "lender": "Northfield Library", "fee": 4.5}),
        ("LENT", 1): (date(2026, 3, 26), date(2026, 3, 12), {}),
        ("RETURNED", 1): (date(2026, 4, 2), date(2026, 4, 2), {"condition": "good"}),
    }
    # A completion's event follows those of the save it caused (the next task, the end).
    assert events_of(lib, instance_id) == [
        "instance_started", "task_ready", "task_claimed",
        "task_ready", "task_completed",                  # checked: the order task opens
        "task_claimed", "task_completed",                # lent: the timer waits
        "timer_fired", "task_ready",                     # due back: the return task opens
        "task_claimed", "instance_completed", "task_completed"]
    assert chain_intact(lib)


def test_the_decision_gateway_goes_both_ways_and_costly_loans_go_to_the_branch_manager(lib):
    with pytest.raises(InvalidData) as err:  # the start form is checked before anything starts
        request_loan(lib, "2001", "Atlas of Remote Islands", date(2026, 3, 27))
    assert [e.field for e in err.value.errors] == ["member"]
    declined = request_loan(lib, "M-2001", "Atlas of Remote Islands", date(2026, 3, 27))
    costly = request_loan(lib, "M-2002", "A Rare Herbal", date(2026, 3, 27))
    refused = request_loan(lib, "M-2003", "Another Rare Herbal", date(2026, 3, 27))
    assert len(queue(lib, "librarian")) == 3
    clock.set_now(date(2026, 3, 9))

    # Declined: the reason is required by the form, then the request ends.
    with pytest.raises(InvalidData) as err:
        complete(lib, declined, "check_request", {"decision": "decline"}, "lib")
    assert [e.field for e in err.value.errors] == ["reason"]
    complete(lib, declined, "check_request", {"decision": "decline", "reason": "Out of print"}, "lib")
    assert instance_state(lib, declined) == ("completed", "request_declined")
    assert set(milestones_of(lib, declined)) == {("REQUEST", 1), ("CHECKED", 1)}

    # Approved at a charge above the limit: the branch manager decides, not a librarian.
    for instance_id in (costly, refused):
        complete(lib, instance_id, "check_request",
                 {"decision": "approve", "lender": "Southport Library", "fee": 30}, "lib")
    assert queue(lib, "librarian") == []
    approvals = queue(lib, "branch_manager")
    assert {(i.instance_id, i.task_name, i.due_date, i.remind_date) for i in approvals} == {
        (costly, "approve_costly_loan", date(2026, 3, 13), date(2026, 3, 12)),
        (refused, "approve_costly_loan", date(2026, 3, 13), date(2026, 3, 12))}
    with lib.transaction() as session:  # the boundary timer waits on each approval
        assert {(t.instance_id, t.name, t.fire_at.date()) for t in session.scalars(select(Timer))} == {
            (costly, "Needed-by date reached", date(2026, 3, 27)),
            (refused, "Needed-by date reached", date(2026, 3, 27))}

    clock.set_now(date(2026, 3, 10))
    with pytest.raises(InvalidData):
        complete(lib, costly, "approve_costly_loan", {"approval": "yes"}, "mgr")
    complete(lib, costly, "approve_costly_loan", {"approval": "approve"}, "mgr")
    complete(lib, refused, "approve_costly_loan", {"approval": "refuse", "note": "Too dear"}, "mgr")
    [order] = queue(lib, "librarian")
    assert (order.instance_id, order.task_name) == (costly, "order_book")
    assert instance_state(lib, refused) == ("completed", "loan_refused")
    assert instance_state(lib, costly) == ("running", None)
    with lib.transaction() as session:  # the approvals' boundary timers went with them
        assert session.scalars(select(Timer)).all() == []
    assert milestones_of(lib, costly)[("APPROVED", 1)] == (date(2026, 3, 13), date(2026, 3, 10), {})
    assert ("APPROVED", 1) not in {k for k, (_p, actual, _d) in milestones_of(lib, refused).items()
                                   if actual is not None}
    assert chain_intact(lib)


def test_a_costly_request_lapses_when_its_needed_by_date_comes_first(lib):
    instance_id = request_loan(lib, "M-3001", "Tide Tables 1911", date(2026, 3, 20))
    clock.set_now(date(2026, 3, 9))
    complete(lib, instance_id, "check_request",
             {"decision": "approve", "lender": "Harbour Library", "fee": 25}, "lib")
    clock.set_now(date(2026, 3, 12))  # the day before the approval is due: a reminder
    report = sweeper.sweep(lib.factory, lib.runtime)
    assert (report.errors, report.timers_fired, report.reminders) == ([], 0, 1)
    with lib.transaction() as session:
        [note] = session.scalars(select(Notification).where(Notification.kind == "reminder")).all()
        assert note.user_id == _user(session, "mgr").id
        assert note.title == "Reminder: Approve a costly loan for member M-3001 is due 13 Mar 2026"
    clock.set_now(date(2026, 3, 20))  # nobody decided, and the member needed the book today
    report = sweeper.sweep(lib.factory, lib.runtime)
    assert (report.errors, report.timers_fired) == ([], 1)
    assert instance_state(lib, instance_id) == ("completed", "request_lapsed")
    with lib.transaction() as session:
        statuses = {i.task_name: i.status for i in session.scalars(select(WorkItem).where(
            WorkItem.instance_id == instance_id))}
        fired = session.scalars(select(AuditEvent.data).where(
            AuditEvent.instance_id == instance_id, AuditEvent.event_type == "timer_fired")).all()
        ended = session.scalars(select(AuditEvent.data).where(
            AuditEvent.instance_id == instance_id, AuditEvent.event_type == "instance_completed")).one()
    assert statuses == {"check_request": "completed", "approve_costly_loan": "cancelled"}
    assert fired == [{"timer": "Needed-by date reached"}]
    assert ended == {"end": "request_lapsed", "end_name": "Request lapsed"}
    assert chain_intact(lib)


def test_an_unchecked_request_escalates_along_the_library_chain(lib_with_mail):
    lib = lib_with_mail
    instance_id = request_loan(lib, "M-4001", "Lighthouse Keeping", date(2026, 4, 30))
    clock.set_now(date(2026, 3, 8))
    assert sweeper.sweep(lib.factory, lib.runtime, mail=False).reminders == 1
    clock.set_now(date(2026, 3, 10))
    report = sweeper.sweep(lib.factory, lib.runtime, mail=False)
    assert (report.errors, report.escalations) == ([], 1)
    clock.set_now(date(2026, 3, 13))
    report = sweeper.sweep(lib.factory, lib.runtime, mail=False)
    assert (report.errors, report.escalations) == ([], 1)
    with lib.transaction() as session:
        [item] = session.scalars(select(WorkItem)).all()
        assert item.escalation_level == 2
        escalated = session.scalars(select(AuditEvent.data).where(
            AuditEvent.instance_id == instance_id, AuditEvent.event_type == "escalated")
            .order_by(AuditEvent.id)).all()
        assert [(e["level"], e["to_role"]) for e in escalated] == \
            [(1, "branch_manager"), (2, "head_of_libraries")]
        users = {u.id: u.username for u in session.scalars(select(UserAccount))}
        notes = sorted((users[n.user_id], n.kind, n.title, n.body) for n in session.scalars(
            select(Notification).where(Notification.kind.in_(("escalation", "overdue")))))
        assert notes == [
            ("head", "escalation", "Loan work escalated to you: Check the loan request for member M-4001",
             "“Check the loan request” for member M-4001 was due 4 days ago. It is escalated to "
             "you as Head of libraries (level 2)."),
            ("lib", "overdue", "Overdue loan work: Check the loan request for member M-4001",
             "“Check the loan request” for member M-4001 was due 9 Mar 2026; it is now with the "
             "Branch manager."),
            ("lib2", "overdue", "Overdue loan work: Check the loan request for member M-4001",
             "“Check the loan request” for member M-4001 was due 9 Mar 2026; it is now with the "
             "Branch manager."),
            ("mgr", "escalation", "Loan work escalated to you: Check the loan request for member M-4001",
             "“Check the loan request” for member M-4001 was due yesterday. It is escalated to "
             "you as Branch manager (level 1)."),
        ]
        # Mail in the library's name (queued only: the sweep above did not send).
        mails = {(m.to_address, m.subject) for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "escalation"))}
        assert mails == {
            ("mgr@library.invalid",
             f"[{SERVICE}] Loan work escalated to you: Check the loan request for member M-4001"),
            ("head@library.invalid",
             f"[{SERVICE}] Loan work escalated to you: Check the loan request for member M-4001")}
        body = session.scalars(select(OutboxMessage.text_body).where(
            OutboxMessage.kind == "escalation")).first()
        assert SERVICE in body and "/loans/tasks/" in body
        assert not PACE_WORDS.findall(body)
    assert chain_intact(lib)


# -- nothing of the PACE domain or the web layer ------------------------------------------
def _imports(path: Path, package: str) -> set[str]:
    """Every module ``path`` imports (relative imports resolved from ``package``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) \
                in ("__import__", "import_module"):
            found.update(arg.value for arg in node.args if isinstance(arg, ast.Constant))
    return found


def test_the_library_and_its_tests_import_nothing_of_the_pace_domain_or_the_web_layer():
    modules = {Path(__file__): "tests.engine",
               **{p: "tests.engine.library" for p in LIBRARY.glob("*.py")}}
    assert {p.name for p in modules} == {"test_generic_engine.py", "config.py", "__init__.py"}
    for path, package in modules.items():
        imported = _imports(path, package)
        assert "engine.runtime" in imported or path.name == "__init__.py"
        bad = sorted(m for m in imported if m.split(".")[0] in ("workflows", "web"))
        assert not bad, f"{path.name} imports {bad}"
