"""The timer sweep fires several children per transaction; a child that cannot fire costs
only its own firing, never the other children's of the same transaction."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, select, update

from engine import audit, clock, sweeper
from engine.models import AuditChain, AuditEvent, Notification, ProcessInstance, Timer, UserAccount
from workflows.children import records as children

from .caseload import seed_children
from .consistency import assert_indexes_match_workflows


def _due_instances(db) -> set[int]:
    with db.transaction() as session:
        return set(session.scalars(select(Timer.instance_id)))


def test_a_child_that_cannot_fire_loses_no_other_childs_firing(database):
    ids = seed_children(database, "B", 6, children.place_on_cso_at_home, date(2024, 1, 10))
    waiting = _due_instances(database)
    assert len(waiting) == 6
    with database.transaction() as session:
        broken = session.scalar(select(Timer.instance_id).join(
            ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(ProcessInstance.subject_id == ids[2]))
        good_state = session.scalar(select(ProcessInstance.state).where(ProcessInstance.id == broken))
        # A row damaged outside the application: its workflow no longer deserializes.
        session.execute(update(ProcessInstance).where(ProcessInstance.id == broken)
                        .values(state='{"not": "a workflow"}'))

    clock.set_now(datetime(2026, 1, 1, 9))
    report = sweeper.SweepReport()
    sweeper.fire_due_timers(database.factory, database.runtime, report, batch=10)  # all in one

    assert report.timers_fired == 5
    assert len(report.errors) == 1 and report.errors[0].startswith(f"instance {broken}:")
    assert _due_instances(database) == {broken}  # still due: the next sweep tries again
    with database.transaction() as session:
        fired = dict(session.execute(select(AuditEvent.instance_id, func.count())
                                     .where(AuditEvent.event_type == "timer_fired")
                                     .group_by(AuditEvent.instance_id)).all())
    assert fired == {instance: 1 for instance in waiting - {broken}}

    with database.transaction() as session:  # repaired, it fires on the next sweep
        session.execute(update(ProcessInstance).where(ProcessInstance.id == broken)
                        .values(state=good_state))
    again = sweeper.SweepReport()
    sweeper.fire_due_timers(database.factory, database.runtime, again, batch=10)
    assert (again.timers_fired, again.errors) == (1, [])
    assert _due_instances(database) == set()
    assert_indexes_match_workflows(database)


def test_a_child_whose_rows_cannot_be_written_loses_no_other_childs_firing(database):
    """A batch writes all its children's rows in one flush; when that fails, the batch is
    fired again a child at a time, so the failure is put on the child whose rows it was."""
    ids = seed_children(database, "F", 6, children.place_on_cso_at_home, date(2024, 1, 10))
    waiting = _due_instances(database)
    with database.transaction() as session:
        broken = session.scalar(select(Timer.instance_id).join(
            ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(ProcessInstance.subject_id == ids[3]))
        head = session.get(AuditChain, audit.chain_for(ids[3]))
        users = session.scalars(select(UserAccount.id)).all()
        # Notices already stored under the keys the child's alert will need: its rows
        # fail only when written (the unique dedupe key), not while it fires.
        for seq in range(head.last_seq + 1, head.last_seq + 5):
            for user_id in users:
                session.add(Notification(user_id=user_id, kind="alert", title="in the way",
                                         dedupe_key=f"{head.chain}#{seq}:{user_id}"))

    clock.set_now(datetime(2026, 1, 1, 9))
    report = sweeper.SweepReport()
    sweeper.fire_due_timers(database.factory, database.runtime, report, batch=10)

    assert report.timers_fired == 5
    assert len(report.errors) == 1 and report.errors[0].startswith(f"instance {broken}:")
    assert _due_instances(database) == {broken}
    with database.transaction() as session:
        fired = dict(session.execute(select(AuditEvent.instance_id, func.count())
                                     .where(AuditEvent.event_type == "timer_fired")
                                     .group_by(AuditEvent.instance_id)).all())
        assert fired == {instance: 1 for instance in waiting - {broken}}
        session.execute(delete(Notification).where(Notification.title == "in the way"))
    again = sweeper.SweepReport()
    sweeper.fire_due_timers(database.factory, database.runtime, again, batch=10)
    assert (again.timers_fired, again.errors) == (1, [])
    assert_indexes_match_workflows(database)
