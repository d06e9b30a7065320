"""Checks that a database holds no lost, doubled or half-written work, after races and crashes.

Shared by the concurrency, soak and crash tests so each proves the same things.
"""
from __future__ import annotations

from sqlalchemy import select
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine import audit
from engine.models import Base, ProcessInstance, Timer, WorkItem


def assert_indexes_match_workflows(db) -> None:
    """Every instance deserializes, its open work items are exactly its READY user tasks,
    its timer rows exactly its WAITING timer events (found here by SpiffWorkflow's own
    iterator, not the engine's read of the task maps), and every audit chain verifies."""
    with db.transaction() as session:
        for instance in session.scalars(select(ProcessInstance)):
            wf = db.runtime.load_workflow(instance)
            ready = {str(t.id) for t in wf.get_tasks(state=TaskState.READY, manual=True)}
            open_items = set(session.scalars(select(WorkItem.task_id).where(
                WorkItem.instance_id == instance.id, WorkItem.status.in_(("ready", "claimed")))))
            assert ready == open_items, f"instance {instance.id}: work items {open_items} " \
                                        f"but READY tasks {ready}"
            waiting = {str(t.id) for t in wf.get_tasks(state=TaskState.WAITING)
                       if isinstance(getattr(t.task_spec, "event_definition", None),
                                     TimerEventDefinition)}
            rows = set(session.scalars(select(Timer.task_id).where(Timer.instance_id == instance.id)))
            assert waiting == rows, f"instance {instance.id}: timer rows {rows} " \
                                    f"but WAITING timers {waiting}"
        broken = audit.verify(session)
        assert broken is None, broken


def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every table: equal snapshots mean no write at all became visible."""
    with db.transaction() as session:
        return {name: [tuple(row) for row in session.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for name, table in sorted(Base.metadata.tables.items())}
