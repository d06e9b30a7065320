"""At run time a diagram that never stops (deployed before the check refused such loops)
raises a clear error and changes nothing: no child is marked completed without reaching an
end event, and an end event that starts its own process does not recurse until Python gives
up. Each diagram is deployed without the check, as an older version would have been."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine import audit, clock, registry, step_limits
from engine.models import AuditEvent, ProcessInstance, Subject, WorkItem
from engine.step_limits import ProcessCannotRun
from workflows import accounts
from workflows.children import records as children

from .diagrams import FORM, diagram, props

LOOP = ('<bpmn:exclusiveGateway id="g1"><bpmn:incoming>{into}</bpmn:incoming>'
        '<bpmn:incoming>back</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing></bpmn:exclusiveGateway>'
        '<bpmn:sequenceFlow id="f9" sourceRef="g1" targetRef="g2" />'
        '<bpmn:exclusiveGateway id="g2" default="back"><bpmn:incoming>f9</bpmn:incoming>'
        '<bpmn:outgoing>back</bpmn:outgoing><bpmn:outgoing>out</bpmn:outgoing></bpmn:exclusiveGateway>'
        '<bpmn:sequenceFlow id="back" sourceRef="g2" targetRef="g1" />'
        '<bpmn:sequenceFlow id="out" sourceRef="g2" targetRef="end"><bpmn:conditionExpression '
        'xsi:type="bpmn:tFormalExpression">1 == 2</bpmn:conditionExpression></bpmn:sequenceFlow>'
        '<bpmn:endEvent id="end"><bpmn:incoming>out</bpmn:incoming></bpmn:endEvent>')
START = ('<bpmn:startEvent id="start">' + props(milestone="START", milestoneDateField="start")
         + '<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>')


def loop_at_start() -> str:
    """start → a loop of two gateways that never waits."""
    return diagram(START + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="g1" />'
                   + LOOP.format(into="f1"), nodes=("start", "g1", "g2", "end"))


def loop_after_task() -> str:
    """start → a user task → the same loop."""
    task = ('<bpmn:userTask id="task" name="Hold meeting">'
            + props(formJsonSchemaFilename="task.schema.json", due="START+3w")
            + '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>')
    return diagram(START + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />'
                   + task + '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="g1" />'
                   + LOOP.format(into="f2"), nodes=("start", "task", "g1", "g2", "end"))


def starts_itself() -> str:
    """start → an end event whose startsProcess is this process."""
    return diagram(START + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />'
                   '<bpmn:endEvent id="end">' + props(startsProcess="mini")
                   + '<bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>', nodes=("start", "end"))


def deploy_unchecked(db, xml: str) -> None:
    with db.transaction() as session:
        registry.deploy(session, registry.ModelBundle("mini", xml, {"task.schema.json": FORM}),
                        None, "test")  # no ValidationContext: as before the check existed
        accounts.ensure_team(session, "north")
        accounts.create_user(session, "sw", "Sam", "long-password-1", ["social_worker"], "north")
        children.register_child(session, "C1", "Ava", "north", "test")


def start(db):
    clock.set_now(date(2026, 1, 5))
    with db.transaction() as session:
        child = session.scalars(select(Subject).where(Subject.reference == "C1")).one()
        return db.runtime.start(session, "mini", child, {"start": "2026-01-05"}, "test").id


def nothing_started(db) -> None:
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event_type == "instance_started")) == 0
        assert audit.verify(session) is None


def test_a_loop_that_never_waits_stops_with_a_clear_error_and_nothing_saved(empty_database):
    db = empty_database
    deploy_unchecked(db, loop_at_start())
    with pytest.raises(ProcessCannotRun) as err:
        start(db)
    assert "'mini'" in str(err.value) and "no user task or timer" in str(err.value)
    assert "Nothing was saved" in str(err.value) and err.value.status == 409
    nothing_started(db)


def test_a_completion_running_into_such_a_loop_leaves_the_task_open(empty_database):
    db = empty_database
    deploy_unchecked(db, loop_after_task())
    instance_id = start(db)
    with db.transaction() as session:
        before = session.get(ProcessInstance, instance_id)
        state, version = before.state, before.version
        item_id = session.scalars(select(WorkItem.id)).one()
        sw = accounts.find_user(session, "sw")
    with pytest.raises(ProcessCannotRun), db.transaction() as session:
        db.runtime.complete(session, item_id, {"date_held": "2026-01-05"}, sw)
    with db.transaction() as session:
        after = session.get(ProcessInstance, instance_id)
        assert (after.status, after.state, after.version) == ("running", state, version)
        assert session.get(WorkItem, item_id).status == "ready"
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event_type == "task_completed")) == 0


def test_no_child_is_marked_completed_without_reaching_an_end_event(empty_database,
                                                                    monkeypatch):
    """With the step budget out of the way, SpiffWorkflow runs the loop until its task
    iterator (1,000 levels deep) no longer sees the running task and calls the workflow
    completed: the engine does not believe it."""
    monkeypatch.setattr(step_limits, "MIN_STEPS", 100_000)
    db = empty_database
    deploy_unchecked(db, loop_at_start())
    with pytest.raises(ProcessCannotRun) as err:
        start(db)
    assert "without reaching an end event" in str(err.value)
    nothing_started(db)


def test_an_end_event_starting_its_own_process_stops_after_ten_starts(empty_database):
    db = empty_database
    deploy_unchecked(db, starts_itself())
    with pytest.raises(ProcessCannotRun) as err:
        start(db)
    assert f"more than {step_limits.MAX_CHAINED_STARTS} processes" in str(err.value)
    nothing_started(db)


CHAIR_FORM = ('{"type": "object", "properties": {"date_held": {"type": "string", "format": '
              '"date"}, "chair": {"type": "string", "maxLength": 20}}}')


def test_a_condition_that_would_build_a_gigabyte_refuses_the_completion(empty_database):
    """The check accepts ``chair * 1000000000`` (a number field times a number is fine); for a
    text answer evaluating it would allocate a gigabyte: the completion is refused instead,
    in well under a second, and the task stays open."""
    import time

    from engine.registry import ModelBundle
    from workflows.engine_config import pace_config

    from .diagrams import linear
    db = empty_database
    with db.transaction() as session:
        registry.deploy(session, ModelBundle("mini", linear(
            gateway_condition="chair * 1000000000 == &apos;x&apos;"),
            {"task.schema.json": CHAIR_FORM}), pace_config().validation_context(), "test")
        accounts.ensure_team(session, "north")
        accounts.create_user(session, "sw", "Sam", "long-password-1", ["social_worker"], "north")
        children.register_child(session, "C1", "Ava", "north", "test")
    instance_id = start(db)
    with db.transaction() as session:
        item_id = session.scalars(select(WorkItem.id)).one()
        sw = accounts.find_user(session, "sw")
        version = session.get(ProcessInstance, instance_id).version
    started = time.perf_counter()
    with pytest.raises(ProcessCannotRun) as err, db.transaction() as session:
        db.runtime.complete(session, item_id, {"date_held": "2026-01-05", "chair": "x"}, sw)
    assert time.perf_counter() - started < 1
    assert "A condition on the flows out of 'gw'" in str(err.value) and "would build a value larger" \
        in str(err.value)
    with db.transaction() as session:
        assert session.get(WorkItem, item_id).status == "ready"
        assert session.get(ProcessInstance, instance_id).version == version
