"""What moving one running instance to another version would change for it, before it moves.

A process owner deciding to move children needs more than "can move": each child's due
dates that would change (before → after), the open tasks that would be cancelled and the
tasks that would open (or open again). The preview does exactly what ``migration.migrate``
does, on a fresh copy of the workflow in memory (``migration.move_in_memory``: the same
alignment, the same step to the next wait, due dates by the same ``work_items.due_dates``
and timers by the same index as a save), and writes nothing, so what it lists is what the
move will do as long as nothing else changes for the child first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from SpiffWorkflow.util.task import TaskState

from . import clock, migration, timers
from .models import ProcessInstance, ProcessModel
from .task_maps import every_task
from .work_items import due_dates

CHANGED, CANCELLED, OPENED, REOPENED, TIMER = "due", "cancelled", "opened", "reopened", "timer"


@dataclass(frozen=True)
class DateChange:
    """One change for one child: a task's or timer's date, or a task cancelled or opened."""
    element_id: str
    label: str
    kind: str                   # due | timer | cancelled | opened | reopened
    before: date | None
    after: date | None

    def text(self) -> str:
        if self.kind == CANCELLED:
            return f"{self.label}: would be cancelled" + \
                (f" (was due {_day(self.before)})" if self.before else "")
        if self.kind in (OPENED, REOPENED):
            again = " again" if self.kind == REOPENED else ""
            return f"{self.label}: would open{again}" + \
                (f", due {_day(self.after)}" if self.after else "")
        if self.kind == TIMER and self.before is None:
            return f"{self.label}: would wait until {_day(self.after)}"
        if self.kind == TIMER and self.after is None:
            return f"{self.label}: would no longer wait (was until {_day(self.before)})"
        what = "waiting until" if self.kind == TIMER else "due"
        return f"{self.label}: {what} {_day(self.before)} → {_day(self.after)}"


@dataclass
class Preview:
    check: migration.MigrationCheck
    changes: list[DateChange] = field(default_factory=list)


def _day(value: date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else "no date"


def _as_date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _ready(wf) -> dict:
    return {str(t.id): t for t in every_task(wf)
            if t.state == TaskState.READY and t.task_spec.manual}


def _label(task) -> str:
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name


def preview(runtime, instance: ProcessInstance, target: ProcessModel,
            due_now: dict[str, date | None] | None = None) -> Preview:
    """The dry run of moving ``instance`` to ``target`` with every date change. ``due_now``:
    the due dates its open work items show (task id → date), as the child's page does;
    when None they are worked out from the current version's rules."""
    check, wf, loaded, top = migration.aligned(runtime, instance, target)
    if not check.can_move:
        return Preview(check)
    rules, today = runtime.config.rules, clock.today()
    ready_before = _ready(wf)
    shown = due_now or {}
    before = {task_id: shown[task_id] if task_id in shown else due_dates(task, rules, today)[0]
              for task_id, task in ready_before.items()}
    labels = {task_id: _label(task) for task_id, task in ready_before.items()}
    ids = {task_id: task.task_spec.bpmn_id for task_id, task in ready_before.items()}
    timers_before = timers.wanted_rows(wf)
    done_before = {t.task_spec.bpmn_id for t in every_task(wf) if t.state == TaskState.COMPLETED}

    migration.move_in_memory(runtime, wf, loaded, top)

    changes: list[DateChange] = []
    ready_after = _ready(wf)
    for task_id, task in ready_after.items():
        after = due_dates(task, rules, today)[0]
        bpmn_id = task.task_spec.bpmn_id
        if task_id not in ready_before:
            kind = REOPENED if bpmn_id in done_before else OPENED
            changes.append(DateChange(bpmn_id, _label(task), kind, None, after))
        elif before[task_id] != after:
            changes.append(DateChange(bpmn_id, _label(task), CHANGED, before[task_id], after))
    for task_id in ready_before.keys() - ready_after.keys():
        changes.append(DateChange(ids[task_id], labels[task_id], CANCELLED, before[task_id], None))
    timers_after = timers.wanted_rows(wf)
    for task_id in timers_before.keys() | timers_after.keys():
        name_before, at_before = timers_before.get(task_id, (None, None))
        name_after, at_after = timers_after.get(task_id, (None, None))
        old, new = _as_date(at_before), _as_date(at_after)
        if old != new:
            changes.append(DateChange("", name_after or name_before or "timer", TIMER, old, new))
    order = {CHANGED: 0, TIMER: 1, OPENED: 2, REOPENED: 2, CANCELLED: 3}
    changes.sort(key=lambda c: (order[c.kind], c.label))
    return Preview(check, changes)
