"""The timer index: one ``timer`` row per waiting timer, holding when it fires.

The worker (engine/sweeper.py) finds due timers from these rows alone, oldest first,
without loading a workflow. Every save makes an instance's rows match its waiting timers,
in the transaction that writes its state, so the index and the workflows never disagree;
anything missed while no worker ran is simply "due" and fires on the next sweep.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, tuple_, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .models import ProcessInstance, Timer
from .task_maps import every_task


def wanted_rows(wf) -> dict[str, tuple[str, datetime]]:
    """task id -> (name, fire at): the timer rows the workflow's waiting timers imply."""
    found = {}
    waiting = TaskState.WAITING
    for task in every_task(wf):
        if task.state != waiting:
            continue
        definition = getattr(task.task_spec, "event_definition", None)
        value = task.internal_data.get("event_value")
        if isinstance(definition, TimerEventDefinition) and isinstance(value, str):
            found[str(task.id)] = (task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                                   TimerEventDefinition.get_datetime(value))
    return found


class DeferredRows:
    """Timer-row changes of several instances, kept to be written together: a sweep's batch
    changes the rows of all its children (the fired timer's row is deleted) in one statement
    instead of one per child. The sweeper makes one for a batch, hands it to each save of
    the batch (``Runtime.fire_timers(timer_rows=...)``) and writes it with the batch's flush.
    """

    def __init__(self) -> None:
        self.changes: dict[int, list] = {}  # instance id -> [rows before, rows wanted]

    def keep(self, instance_id: int, before: dict, wanted: dict) -> None:
        self.changes.setdefault(instance_id, [before, wanted])[1] = wanted

    def write(self, session: Session) -> None:
        """Write the changes kept so far (from the first rows to the last wanted, so an
        instance saved twice is written once), in the session's transaction, and keep
        collecting from nothing."""
        changes, self.changes = self.changes, {}
        if changes:
            _write_changes(session.connection(), [(instance_id, before, wanted) for
                                                  instance_id, (before, wanted) in changes.items()])


def sync(session: Session, instance: ProcessInstance, wf, indexed: dict | None = None,
         deferred: DeferredRows | None = None) -> None:
    """Make the instance's timer rows match its waiting timers (unread when ``indexed``
    says what they hold, and written only where they differ, as milestones.sync_rows).
    With ``deferred`` the changes are kept there, to be written with the others'; rows read
    (no ``indexed``) are read after what was kept is written."""
    wanted = wanted_rows(wf)
    if indexed is not None:
        before = indexed["timers"]
        if before != wanted:
            if deferred is None:
                _write_changes(session.connection(), [(instance.id, before, wanted)])
            else:  # the sweeper's batch: written with the others' by DeferredRows.write
                deferred.keep(instance.id, before, wanted)
            indexed["timers"] = wanted
        return
    if deferred is not None:
        deferred.write(session)  # the rows read below must be the ones written so far
    rows = {t.task_id: t for t in session.scalars(select(Timer).where(Timer.instance_id == instance.id))}
    for task_id, row in rows.items():
        if task_id not in wanted:
            session.delete(row)
    for task_id, (name, fire_at) in wanted.items():
        row = rows.get(task_id)
        if row is None:
            session.add(Timer(instance_id=instance.id, task_id=task_id, name=name, fire_at=fire_at))
        elif row.fire_at != fire_at:
            row.fire_at = fire_at


def _write_changes(connection, changes) -> None:
    """Statements sent now, in the caller's transaction (see milestones._write_changes),
    for ``changes`` of (instance id, rows before, rows wanted): usually one, deleting the
    rows of the timers that fired, however many instances there are."""
    gone, added, moved = [], [], []
    for instance_id, before, wanted in changes:
        gone += [(instance_id, task_id) for task_id in sorted(before.keys() - wanted.keys())]
        for task_id, (name, fire_at) in wanted.items():
            if task_id not in before:
                added.append({"instance_id": instance_id, "task_id": task_id, "name": name,
                              "fire_at": fire_at})
            elif before[task_id][1] != fire_at:
                moved.append({"instance": instance_id, "task": task_id, "new_fire_at": fire_at})
    if gone:
        connection.execute(_DELETE, {"keys": gone})
    if moved:
        connection.execute(_UPDATE, moved)
    if added:
        connection.execute(_INSERT, added)


# Built once (see audit.chain_lock).
_ROWS = Timer.__table__
_DELETE = delete(_ROWS).where(tuple_(_ROWS.c.instance_id, _ROWS.c.task_id)
                              .in_(bindparam("keys", expanding=True)))
_UPDATE = update(_ROWS).where(_ROWS.c.instance_id == bindparam("instance"),
                              _ROWS.c.task_id == bindparam("task")).values(
    fire_at=bindparam("new_fire_at"))
_INSERT = insert(_ROWS)
