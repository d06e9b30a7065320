"""The runtime on a small diagram of its own: start, timers, completion, locking, idempotency."""
from datetime import date

import pytest
from sqlalchemy import func, select

from engine import audit, clock, registry, sweeper, timers
from engine.errors import Conflict, InvalidData
from engine.models import AuditEvent, Milestone, ProcessInstance, Timer, WorkItem
from workflows import accounts
from workflows.children import records as children
from workflows.engine_config import pace_config

from .diagrams import TIMER_FORM, diagram, props, timer_diagram

def test_timer_waits_then_fires_once_and_task_gets_due_dates(mini, start_child):
    db = mini
    instance_id = start_child(db)
    with db.transaction() as session:
        timer = session.scalars(select(Timer)).one()
        assert timer.fire_at.date() == date(2026, 1, 19)
        assert session.scalar(select(func.count()).select_from(WorkItem)) == 0
    clock.set_now(date(2026, 1, 18))
    assert sweeper.sweep(db.factory, db.runtime).timers_fired == 0
    clock.set_now(date(2026, 2, 20))  # the worker was down for a month
    report = sweeper.sweep(db.factory, db.runtime)
    assert report.errors == []
    # the task is already past due: no "is due" reminder, the escalations say it is overdue
    assert (report.timers_fired, report.reminders, report.escalations) == (1, 0, 2)
    again = sweeper.sweep(db.factory, db.runtime)
    assert (again.timers_fired, again.reminders, again.escalations) == (0, 0, 0)
    with db.transaction() as session:
        item = session.scalars(select(WorkItem)).one()
        assert (item.role, item.team, item.due_date, item.remind_date) == \
            ("social_worker", "north", date(2026, 1, 26), date(2026, 1, 21))
        assert item.escalate_dates == ["2026-01-28", "2026-02-02"]
        assert item.escalation_level == 2
        kinds = [e.event_type for e in session.scalars(select(AuditEvent).where(
            AuditEvent.instance_id == instance_id).order_by(AuditEvent.id))]
        assert kinds == ["instance_started", "timer_fired", "task_ready",
                         "escalated", "escalated"]
        assert audit.verify(session) is None


def test_completion_validates_records_milestone_and_is_idempotent(mini, start_child):
    db = mini
    instance_id = start_child(db)
    clock.set_now(date(2026, 1, 20))
    sweeper.sweep(db.factory, db.runtime)
    with db.transaction() as session:
        item_id = session.scalars(select(WorkItem.id)).one()
        sw = accounts.find_user(session, "sw")
    with pytest.raises(InvalidData) as err, db.transaction() as session:
        db.runtime.complete(session, item_id, {"note": "x" * 30}, sw)
    assert {e.field for e in err.value.errors} == {"date_held", "note"}
    clock.set_now(date(2026, 1, 22))  # the meeting is recorded on the day it was held
    payload = {"date_held": "2026-01-22", "note": "held"}
    with db.transaction() as session:
        first = db.runtime.complete(session, item_id, payload, sw)
        assert not first.repeated
    with db.transaction() as session:
        assert db.runtime.complete(session, item_id, payload, sw).repeated
    with pytest.raises(Conflict), db.transaction() as session:
        db.runtime.complete(session, item_id, {"date_held": "2026-01-23"}, sw)
    with db.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == "completed"
        rows = {(m.code, m.planned_date, m.actual_date) for m in session.scalars(select(Milestone))}
        assert rows == {("START", None, date(2026, 1, 5)),
                        ("MEETING", date(2026, 1, 26), date(2026, 1, 22))}
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.event_type == "task_completed")) == 1


def test_claim_is_won_once(mini, start_child):
    db = mini
    start_child(db)
    clock.set_now(date(2026, 1, 20))
    sweeper.sweep(db.factory, db.runtime)
    from engine import work_items
    with db.transaction() as session:
        item_id = session.scalars(select(WorkItem.id)).one()
        sw, sw2 = accounts.find_user(session, "sw"), accounts.find_user(session, "sw2")
        work_items.claim(session, item_id, sw)
        work_items.claim(session, item_id, sw)  # double click
    with pytest.raises(Conflict, match="Sam claimed this task first"), db.transaction() as session:
        work_items.claim(session, item_id, sw2)
    with pytest.raises(Conflict, match="Another worker holds"), db.transaction() as session:
        db.runtime.complete(session, item_id, {"date_held": "2026-01-20"}, sw2)


def _deploy_andstart_child(db, process_id: str, xml: str, reference: str, day=date(2026, 1, 5),
                      started: date | None = None) -> int:
    """Deploy ``xml`` as ``process_id`` and start it on ``day`` for a new child whose start
    date is ``started`` (``day`` when not given)."""
    with db.transaction() as session:
        registry.deploy(session, registry.ModelBundle(process_id, xml, {"task.schema.json": TIMER_FORM}),
                        pace_config().validation_context(), "test")
    clock.set_now(day)
    with db.transaction() as session:
        child = children.register_child(session, reference, "Ben", "north", "test")
        return db.runtime.start(session, process_id, child,
                                {"start": (started or day).isoformat()}, "test").id


def subprocess_diagram() -> str:
    """The timer and the task of timer_diagram inside an embedded subprocess, beside a
    task of the top process (a parallel split), so WAITING and READY tasks live in two
    task maps."""
    inner = timer_diagram().split('<bpmn:process id="mini" isExecutable="true">')[1]
    inner = inner.split("</bpmn:laneSet>")[1].split("</bpmn:process>")[0]
    inner = inner.replace('id="start"', 'id="sub_start"').replace('sourceRef="start"', 'sourceRef="sub_start"') \
        .replace('id="end"', 'id="sub_end"').replace('targetRef="end"', 'targetRef="sub_end"') \
        .replace(props(milestone="START", milestoneDateField="start"), "")
    for flow in ("f1", "f2", "f3"):
        inner = inner.replace(f'"{flow}"', f'"s{flow}"').replace(f">{flow}<", f">s{flow}<")
    body = ('<bpmn:startEvent id="start">' + props(milestone="START", milestoneDateField="start") +
            '<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />'
            '<bpmn:parallelGateway id="split"><bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>'
            '<bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="sub" />'
            '<bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="top_task" />'
            '<bpmn:subProcess id="sub" name="Meeting"><bpmn:incoming>f2</bpmn:incoming>'
            '<bpmn:outgoing>f4</bpmn:outgoing>' + inner + '</bpmn:subProcess>'
            '<bpmn:userTask id="top_task" name="Visit">' +
            props(formJsonSchemaFilename="task.schema.json", due="START+1w") +
            '<bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>'
            '<bpmn:sequenceFlow id="f4" sourceRef="sub" targetRef="join" />'
            '<bpmn:sequenceFlow id="f5" sourceRef="top_task" targetRef="join" />'
            '<bpmn:parallelGateway id="join"><bpmn:incoming>f4</bpmn:incoming>'
            '<bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:parallelGateway>'
            '<bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="end" />'
            '<bpmn:endEvent id="end"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>')
    return diagram(body, process_id="nested", nodes=(
        "start", "split", "sub", "sub_start", "wait", "task", "sub_end", "top_task", "join", "end"))


def test_timers_and_tasks_inside_a_subprocess_are_indexed_and_fire(mini, start_child):
    """The engine reads WAITING timers and READY tasks from each task map (not through
    SpiffWorkflow's tree iterator): at every step they are exactly what get_tasks finds,
    inside the subprocess too."""
    from SpiffWorkflow.util.task import TaskState

    from engine import work_items
    db = mini
    instance_id = _deploy_andstart_child(db, "nested", subprocess_diagram(), "C2")

    def indexed_as_iterated():
        with db.transaction() as session:
            wf = db.runtime.load_workflow(session.get(ProcessInstance, instance_id))
            waiting = {str(t.id) for t in wf.get_tasks(state=TaskState.WAITING)
                       if type(t.task_spec).__name__ == "IntermediateCatchEvent"}
            ready = {str(t.id) for t in wf.get_tasks(state=TaskState.READY, manual=True)}
            assert set(timers.wanted_rows(wf)) == waiting
            assert work_items.ready_ids(wf) == ready
            rows = set(session.scalars(select(Timer.task_id).where(Timer.instance_id == instance_id)))
            items = set(session.scalars(select(WorkItem.task_id).where(
                WorkItem.instance_id == instance_id, WorkItem.status == "ready")))
            assert (rows, items) == (waiting, ready)
            return {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.WAITING | TaskState.READY)
                    if t.id and str(t.id) in waiting | ready}

    assert indexed_as_iterated() == {"wait", "top_task"}
    clock.set_now(date(2026, 1, 20))
    report = sweeper.sweep(db.factory, db.runtime)
    assert (report.errors, report.timers_fired) == ([], 1)
    assert indexed_as_iterated() == {"task", "top_task"}
    with db.transaction() as session:
        fired = session.scalars(select(AuditEvent.data).where(
            AuditEvent.instance_id == instance_id, AuditEvent.event_type == "timer_fired")).all()
        assert fired == [{"timer": "Alert"}]


def two_boundary_timers_diagram() -> str:
    """A task with two interrupting boundary timers, each leading to a task of its own."""
    def boundary(event_id: str, name: str, when: str, flow: str) -> str:
        return (f'<bpmn:boundaryEvent id="{event_id}" name="{name}" attachedToRef="task">'
                f'<bpmn:outgoing>{flow}</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDate '
                f'xsi:type="bpmn:tFormalExpression">{when}</bpmn:timeDate></bpmn:timerEventDefinition>'
                '</bpmn:boundaryEvent>')

    def follow_up(task_id: str, name: str, source: str, flow_in: str, flow_out: str) -> str:
        return (f'<bpmn:sequenceFlow id="{flow_in}" sourceRef="{source}" targetRef="{task_id}" />'
                f'<bpmn:userTask id="{task_id}" name="{name}">' +
                props(formJsonSchemaFilename="task.schema.json", due="START+5w") +
                f'<bpmn:incoming>{flow_in}</bpmn:incoming><bpmn:outgoing>{flow_out}</bpmn:outgoing>'
                f'</bpmn:userTask><bpmn:sequenceFlow id="{flow_out}" sourceRef="{task_id}" targetRef="end" />')

    body = ('<bpmn:startEvent id="start">' + props(milestone="START", milestoneDateField="start") +
            '<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />'
            '<bpmn:userTask id="task" name="Hold meeting">' +
            props(formJsonSchemaFilename="task.schema.json", due="START+3w") +
            '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>'
            '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />'
            + boundary("early", "Chase", "START+1w", "f3") + boundary("late", "Escalate", "START+2w", "f5")
            + follow_up("chase", "Chase meeting", "early", "f3", "f4")
            + follow_up("push", "Push meeting", "late", "f5", "f6") +
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>'
            '<bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>')
    return diagram(body, process_id="two_timers", nodes=(
        "start", "task", "early", "late", "chase", "push", "end"))


def test_of_two_interrupting_timers_due_at_one_sweep_only_the_earlier_fires(mini, start_child):
    """After downtime both interrupting timers of a task are overdue. As BPMN has it, the
    earlier fires, cancelling the task and the other timer, which is not recorded as fired
    (SpiffWorkflow 3.2 alone would run both and open both follow-up tasks)."""
    db = mini
    instance_id = _deploy_andstart_child(db, "two_timers", two_boundary_timers_diagram(), "C3")
    with db.transaction() as session:
        assert {t.name for t in session.scalars(select(Timer))} == {"Chase", "Escalate"}
    clock.set_now(date(2026, 1, 30))  # the worker was down: both overdue
    report = sweeper.sweep(db.factory, db.runtime)
    assert (report.errors, report.timers_fired) == ([], 1)
    with db.transaction() as session:
        fired = session.scalars(select(AuditEvent.data).where(
            AuditEvent.instance_id == instance_id, AuditEvent.event_type == "timer_fired")).all()
        items = {i.title: i.status for i in session.scalars(select(WorkItem).where(
            WorkItem.instance_id == instance_id))}
        assert fired == [{"timer": "Chase"}]
        assert items == {"Hold meeting": "cancelled", "Chase meeting": "ready"}
        assert session.scalars(select(Timer)).all() == []
    assert sweeper.sweep(db.factory, db.runtime).timers_fired == 0  # nothing left to fire


def test_interrupting_timers_falling_due_one_by_one_fire_the_first_only(mini, start_child):
    """With the worker running, the first timer fires on its day and cancels the other."""
    db = mini
    instance_id = _deploy_andstart_child(db, "two_timers", two_boundary_timers_diagram(), "C4")
    clock.set_now(date(2026, 1, 13))  # a week and a day: only "Chase" is due
    assert sweeper.sweep(db.factory, db.runtime).timers_fired == 1
    clock.set_now(date(2026, 1, 30))
    assert sweeper.sweep(db.factory, db.runtime).timers_fired == 0
    with db.transaction() as session:
        items = {i.title: i.status for i in session.scalars(select(WorkItem).where(
            WorkItem.instance_id == instance_id))}
        assert items == {"Hold meeting": "cancelled", "Chase meeting": "ready"}


def test_a_task_reached_after_both_its_timer_dates_opens_only_the_earlier_path(mini, start_child):
    """A child entered late (accommodated three weeks back): both timers are past when the
    task is reached, inside the start's own engine steps, and still only the earlier fires."""
    db = mini
    late_id = _deploy_andstart_child(db, "two_timers", two_boundary_timers_diagram(), "C5",
                                day=date(2026, 1, 30), started=date(2026, 1, 5))
    with db.transaction() as session:
        items = {i.title: i.status for i in session.scalars(select(WorkItem).where(
            WorkItem.instance_id == late_id))}
        assert items == {"Chase meeting": "ready"}
        assert session.scalars(select(Timer).where(Timer.instance_id == late_id)).all() == []
    assert sweeper.sweep(db.factory, db.runtime).timers_fired == 0
