"""The per-child preview of a move (engine/migration_preview.py) says what the move then
does: dates before → after, a timer that no longer waits, a task that opens. On the timer
process of the engine's tests (start → timer START+2w → task due START+3w → end), on both
databases, with the real runtime; the preview writes nothing.
"""
from datetime import date

from sqlalchemy import func, select

from engine import clock, migration, migration_preview, registry
from engine.models import AuditEvent, ProcessInstance, WorkItem
from workflows.engine_config import pace_config

from .diagrams import TIMER_FORM, timer_diagram


def _deploy(db, xml: str):
    with db.transaction() as session:
        model, _ = registry.deploy(session, registry.ModelBundle(
            "mini", xml, {"task.schema.json": TIMER_FORM}), pace_config().validation_context(),
            "owner", reason="test")
        return model.id


def _preview_then_move(db, instance_id: int, target_id: int):
    with db.transaction() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        instance = session.get(ProcessInstance, instance_id)
        seen = migration_preview.preview(db.runtime, instance, session.get(
            registry.ProcessModel, target_id))
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
        instance = session.get(ProcessInstance, instance_id)
        migration.migrate(session, db.runtime, instance,
                          session.get(registry.ProcessModel, target_id), "owner")
    return seen


def test_a_waiting_timer_moved_earlier_is_previewed_as_the_move_then_does(mini, start_child):
    db = mini
    instance_id = start_child(db, date(2026, 1, 5))  # the timer waits until 19 Jan
    target = _deploy(db, timer_diagram().replace("START+2w", "START+10d"))
    clock.set_now(date(2026, 1, 6))
    seen = _preview_then_move(db, instance_id, target)
    assert seen.check.can_move
    assert [c.text() for c in seen.changes] == ["Alert: waiting until 19 Jan 2026 → 15 Jan 2026"]


def test_a_timer_already_past_under_the_new_rule_opens_the_task(mini, start_child):
    db = mini
    instance_id = start_child(db, date(2026, 1, 5))
    target = _deploy(db, timer_diagram().replace("START+2w", "START+1d").replace(
        "START+3w", "START+10d"))
    clock.set_now(date(2026, 1, 8))
    seen = _preview_then_move(db, instance_id, target)
    assert sorted(c.text() for c in seen.changes) == [
        "Alert: would no longer wait (was until 19 Jan 2026)",
        "Hold meeting: would open, due 15 Jan 2026"]
    with db.transaction() as session:
        item = session.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
        assert (item.task_name, item.status, item.due_date) == ("task", "ready", date(2026, 1, 15))


def test_an_open_task_whose_due_rule_changes_is_previewed_before_and_after(mini, start_child):
    db = mini
    instance_id = start_child(db, date(2026, 1, 5))
    clock.set_now(date(2026, 1, 20))
    with db.transaction() as session:
        db.runtime.fire_timers(session, session.get(ProcessInstance, instance_id))
    target = _deploy(db, timer_diagram().replace("START+3w", "START+4w"))
    seen = _preview_then_move(db, instance_id, target)
    assert [c.text() for c in seen.changes] == ["Hold meeting: due 26 Jan 2026 → 2 Feb 2026"]
    with db.transaction() as session:
        item = session.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
        assert item.due_date == date(2026, 2, 2)
