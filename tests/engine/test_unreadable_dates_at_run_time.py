"""A timer date or due rule the check now refuses ('P7D' unquoted, '+9999y') can still be in a
diagram deployed before it did: where a child reaches it, the engine refuses the action with
an error naming the process, the element and what is wrong with the date, and nothing is
saved (no 500, no child left half moved). Each diagram is deployed without the check."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEvent, ProcessInstance, Timer, WorkItem
from engine.step_limits import ProcessCannotRun
from workflows import accounts

from .diagrams import diagram, props
from .test_step_limits import START, deploy_unchecked, nothing_started, start


def timer(timer_id: str, into: str, out: str, when: str) -> str:
    return (f'<bpmn:intermediateCatchEvent id="{timer_id}" name="Alert"><bpmn:incoming>{into}'
            f'</bpmn:incoming><bpmn:outgoing>{out}</bpmn:outgoing><bpmn:timerEventDefinition>'
            f'<bpmn:timeDate xsi:type="bpmn:tFormalExpression">{when}</bpmn:timeDate>'
            '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def task(due: str, into: str, out: str) -> str:
    return ('<bpmn:userTask id="task" name="Hold meeting">'
            + props(formJsonSchemaFilename="task.schema.json", due=due)
            + f'<bpmn:incoming>{into}</bpmn:incoming><bpmn:outgoing>{out}</bpmn:outgoing></bpmn:userTask>')


def flows(*pairs: tuple[str, str]) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}" />'
                   for n, (a, b) in enumerate(pairs, 1))


END = '<bpmn:endEvent id="end"><bpmn:incoming>f{n}</bpmn:incoming></bpmn:endEvent>'


def timer_at_start(when: str) -> str:
    """start → timer → end."""
    return diagram(START + flows(("start", "wait"), ("wait", "end")) + timer("wait", "f1", "f2", when)
                   + END.format(n=2), nodes=("start", "wait", "end"))


def task_due(due: str) -> str:
    """start → task with the due rule → end."""
    return diagram(START + flows(("start", "task"), ("task", "end")) + task(due, "f1", "f2")
                   + END.format(n=2), nodes=("start", "task", "end"))


def timer_after_task(when: str) -> str:
    """start → task → timer → end."""
    return diagram(START + flows(("start", "task"), ("task", "wait"), ("wait", "end"))
                   + task("START+3w", "f1", "f2") + timer("wait", "f2", "f3", when)
                   + END.format(n=3), nodes=("start", "task", "wait", "end"))


@pytest.mark.parametrize("xml, element, says", [
    (timer_at_start("P7D"), "wait", "its timer 'P7D' is an ISO 8601 duration"),
    (timer_at_start("START+9999y"), "wait", "its timer 'START+9999y' reaches 9,999 years ahead"),
    (timer_at_start("NEVER+1d"), "wait", "its timer 'NEVER+1d' counts from dates none of which "
                                         "is known yet"),
    (task_due("START+9999y"), "task", "its due rule 'START+9999y' reaches 9,999 years ahead"),
    (task_due("P7D"), "task", "its due rule 'P7D' is an ISO 8601 duration"),
])
def test_a_start_reaching_an_unreadable_date_is_refused_naming_the_element(empty_database, xml,
                                                                          element, says):
    db = empty_database
    deploy_unchecked(db, xml)
    with pytest.raises(ProcessCannotRun) as err:
        start(db)
    message = str(err.value)
    assert message.startswith(f"The process 'mini' cannot go on at {element!r}: {says}")
    assert "Nothing was saved" in message and err.value.status == 409
    nothing_started(db)


def test_a_completion_reaching_an_unreadable_timer_leaves_the_task_open(empty_database):
    db = empty_database
    deploy_unchecked(db, timer_after_task("P7D"))
    instance_id = start(db)
    with db.transaction() as session:
        before = session.get(ProcessInstance, instance_id)
        state, version = before.state, before.version
        item_id = session.scalars(select(WorkItem.id)).one()
        sw = accounts.find_user(session, "sw")
    with pytest.raises(ProcessCannotRun) as err, db.transaction() as session:
        db.runtime.complete(session, item_id, {"date_held": "2026-01-05"}, sw)
    assert "cannot go on at 'wait': its timer 'P7D'" in str(err.value)
    with db.transaction() as session:
        after = session.get(ProcessInstance, instance_id)
        assert (after.status, after.state, after.version) == ("running", state, version)
        assert session.get(WorkItem, item_id).status == "ready"
        assert session.scalar(select(func.count()).select_from(Timer)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event_type == "task_completed")) == 0


def test_a_quoted_iso_date_is_still_read_by_the_timer(empty_database):
    db = empty_database
    deploy_unchecked(db, timer_at_start("'2026-02-01T00:00:00+00:00'"))
    instance_id = start(db)
    clock.set_now(date(2026, 1, 5))
    with db.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "running"
        [row] = session.scalars(select(Timer)).all()
        assert row.fire_at.date() == date(2026, 2, 1)
