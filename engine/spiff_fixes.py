"""Every place the engine corrects SpiffWorkflow 3.2's behaviour, in one module.

Each fix says what upstream does, why the engine cannot live with it and how it is
corrected; tests/engine/test_spiff_fixes.py shows each upstream behaviour as the fix
assumes it (so a SpiffWorkflow upgrade that changes it fails there, not in production)
and the fix correcting it.

- ``apply()``: the one run-time patch of a third-party module (the timer module's clock),
  made from ``Runtime.__init__``; it changes a module global, so it holds for the process.
- ``hold_later_interrupting`` and ``after_task``: no patch, hooks the runtime calls around
  SpiffWorkflow's engine steps (``Runtime.step``).
"""
from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState

from . import clock


# -- 1. timers read the wall clock --------------------------------------------------------
class ClockedDatetime(datetime):
    """``datetime`` whose ``now`` answers from engine/clock.py (the injected time when one
    is set, else the wall clock)."""

    @classmethod
    def now(cls, tz=None):  # noqa: D102 - mirrors datetime.now
        moment = clock.now()
        return moment if tz is None else moment.astimezone(tz)


UPSTREAM_DATETIME = spiff_timer.datetime  # what the timer module had before ``apply``


def apply() -> None:
    """Point SpiffWorkflow's timer module at the engine's clock (idempotent).

    Upstream: the timer event definitions (``TimeDateEventDefinition.has_fired``, the
    duration and cycle timers) compare a timer's date with ``datetime.now(timezone.utc)``,
    the module's global ``datetime``; no clock can be passed in. Why it matters: tests, the
    demo generator and imports of historic caseloads run the production code at a chosen
    time (``clock.frozen_at``); with the wall clock a timer due in 2025 would not fire in
    an import replaying 2025, or would fire in a test set in 2026 only by the real date.
    Fix: the module's ``datetime`` becomes ``ClockedDatetime``, whose ``now`` is
    ``clock.now()``; everything else about ``datetime`` is unchanged. A patch of a module
    global is the only way in, so it is made once for the process, from the runtime's
    construction (``Runtime.__init__``), never as a side effect of an import."""
    spiff_timer.datetime = ClockedDatetime


# -- 2. every interrupting boundary timer that is due fires --------------------------------
def hold_later_interrupting(wf) -> None:
    """Of a task's interrupting boundary timers that are READY together, put all but the
    earliest back to WAITING; the task's boundary join then cancels them when the earliest
    has run.

    Upstream: BPMN cancels a task and its other boundary events when the first interrupting
    one fires, but SpiffWorkflow 3.2 runs every boundary event that is READY, so after
    downtime (or for a task reached after both dates) a "chase" and an "escalate" timer
    would both open their follow-up tasks. Fix: the runtime calls this after
    ``refresh_timers`` and, as ``did_complete_task``, ``after_task`` after each task the
    engine steps run. Costs nothing for diagrams without a task carrying two interrupting
    timers."""
    for workflow in (wf, *wf.subprocesses.values()):
        if _timer_splits(workflow.spec):
            for task in list(workflow.tasks.values()):
                after_task(task)


def after_task(task) -> None:
    """``did_complete_task`` of the engine steps: a task's boundary events are updated (and
    fire when due) as the split before it completes."""
    if task.task_spec.name in _timer_splits(task.workflow.spec):
        _hold(task.children)


def _timer_splits(spec) -> frozenset:
    """Names of the boundary splits in ``spec`` with two or more interrupting timers, kept on
    the parsed spec (parsed once per model version, see registry.load)."""
    found = getattr(spec, "_interrupting_timer_splits", None)
    if found is None:
        found = frozenset(name for name, task_spec in spec.task_specs.items()
                          if isinstance(task_spec, BoundaryEventSplit)
                          and sum(map(_interrupting_timer, task_spec.outputs)) > 1)
        spec._interrupting_timer_splits = found
    return found


def _interrupting_timer(task_spec) -> bool:
    return isinstance(task_spec, BoundaryEvent) and task_spec.cancel_activity \
        and isinstance(task_spec.event_definition, TimerEventDefinition)


def _hold(children) -> None:
    ready = sorted(((clock.aware(TimerEventDefinition.get_datetime(task.internal_data["event_value"])),
                     task.task_spec.bpmn_id, task) for task in children
                    if task.state == TaskState.READY and _interrupting_timer(task.task_spec)
                    and isinstance(task.internal_data.get("event_value"), str)),
                   key=lambda found: found[:2])
    for _at, _bpmn_id, task in ready[1:]:
        task._set_state(TaskState.WAITING)  # as CatchingEvent._update_hook leaves one not due
        task.workflow.top_workflow.event_manager.add_task(task)
