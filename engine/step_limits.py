"""Bounds on what one action may make the engine do, and the check that a child whose
process SpiffWorkflow calls finished really reached an end.

A diagram deployed before ``runnable_checks`` existed (or a fault they do not foresee) can
hold a loop with nothing on it that waits: SpiffWorkflow's ``do_engine_steps`` then runs
round it, and as the task tree grows deeper than its task iterator looks (1,000 levels) it
loses sight of the task still running and reports the workflow *completed*, with no end
event reached. An end event whose ``startsProcess`` starts its own process again recurses
until Python's stack runs out. Here each action gets a step budget, chained starts a depth,
and a completion is believed only when no task is left unfinished: anything else raises
``ProcessCannotRun``, which rolls the caller's transaction back, so the child stays exactly
as it was.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError
from .expressions import ExpressionTooCostly, UnsafeExpression

# Steps (gateways, events, script tasks the engine runs itself) one action may take, per
# task spec of the process: a run without loops passes each element about once per branch.
STEPS_PER_ELEMENT = 2
MIN_STEPS = 100
# Processes one action may start one after another (an end event's startsProcess).
MAX_CHAINED_STARTS = 10

_TELL = ("Nothing was saved: the child is as before. Tell the process owner, who can "
         "correct the diagram and move the child to the corrected version.")


class ProcessCannotRun(EngineError):
    """The diagram makes the engine exceed its bounds here (HTTP 409); nothing was saved."""
    status = 409


def step_budget(wf) -> int:
    specs = len(wf.spec.task_specs) + sum(len(s.task_specs) for s in wf.subprocess_specs.values())
    return MIN_STEPS + STEPS_PER_ELEMENT * specs


def counted(will_complete_task: Callable, wf) -> Callable:
    """``will_complete_task`` for ``do_engine_steps`` that raises ProcessCannotRun once the
    engine has run more steps than the process's budget (a loop that never waits)."""
    budget = step_budget(wf)
    count = 0

    def will_complete(task) -> None:
        nonlocal count
        count += 1
        if count > budget:
            raise ProcessCannotRun(
                f"The process {wf.spec.name!r} went round its steps more than {budget:,} "
                f"times without stopping at a task (last at {task.task_spec.bpmn_id!r}): its "
                f"diagram has a loop with no user task or timer on it. {_TELL}")
        will_complete_task(task)
    return will_complete


def check_really_completed(wf) -> None:
    """Raise ProcessCannotRun unless every task of the workflow has finished and an end
    event was reached (SpiffWorkflow's ``is_completed`` looks only 1,000 levels deep)."""
    unfinished = [t for t in wf.tasks.values() if t.has_state(TaskState.NOT_FINISHED_MASK)]
    ended = any(type(t.task_spec).__name__ == "EndEvent" and t.has_state(TaskState.COMPLETED)
                for t in wf.tasks.values())
    if unfinished or not ended:
        where = unfinished[0].task_spec.bpmn_id if unfinished else None
        raise ProcessCannotRun(
            f"The process {wf.spec.name!r} stopped without reaching an end event"
            + (f" (a step at {where!r} is still open deeper than the engine can follow)"
               if where else "") + f". {_TELL}")


@contextlib.contextmanager
def bounded_expressions(wf) -> Iterator[None]:
    """A condition that would cost more than the engine allows for this child's answers
    (``'x' * 1000000000`` when ``chair`` holds text: the check cannot know a field's type),
    or one deployed before the check refused it, becomes ProcessCannotRun; SpiffWorkflow
    wraps what a condition raises in its own exception, which would be an error page."""
    try:
        yield
    except (ExpressionTooCostly, UnsafeExpression) as exc:  # milestoneWhen: the engine's own
        raise ProcessCannotRun(f"A milestone condition of the process {wf.spec.name!r} {exc}. "
                               f"{_TELL}") from None
    except WorkflowTaskException as exc:
        cause = exc.__context__
        if isinstance(cause, ProcessCannotRun):  # a date worked out for an element (below)
            raise cause from None
        if not isinstance(cause, (ExpressionTooCostly, UnsafeExpression)):
            raise
        where = getattr(exc.task_spec, "bpmn_id", None) or exc.task_spec.name
        raise ProcessCannotRun(f"A condition on the flows out of {where!r} in the process "
                               f"{wf.spec.name!r} {cause}. {_TELL}") from None


def cannot_work_out(task, problem: str) -> ProcessCannotRun:
    """The error for a timer date or due rule the engine cannot work out when a child
    reaches ``task``: one deployed before the check refused it (``'P7D'`` unquoted, a rule
    reaching 9,999 years ahead). ``problem`` is what the check says of it."""
    workflow = getattr(task.workflow, "top_workflow", task.workflow)
    return ProcessCannotRun(f"The process {workflow.spec.name!r} cannot go on at "
                            f"{task.task_spec.bpmn_id!r}: its {problem}. {_TELL}")


def chained_depth(parent) -> int:
    """How many processes this action has already started one after another; raises
    ProcessCannotRun past MAX_CHAINED_STARTS (an end event that starts its own process)."""
    depth = 0 if parent is None else getattr(parent, "chained_starts", 0) + 1
    if depth > MAX_CHAINED_STARTS:
        raise ProcessCannotRun(
            f"Ending {parent.process_id!r} would start more than {MAX_CHAINED_STARTS} "
            "processes one after another (an end event whose startsProcess starts its own "
            f"process again, without a task to wait at). {_TELL}")
    return depth
