"""Every task of a workflow, read from the task maps rather than SpiffWorkflow's iterator.

``get_tasks`` walks the task tree in order, several calls per task; the indexes (READY
user tasks, WAITING timers) need no order and are read on every load and save. A READY
or WAITING task is never below one not yet reached, nor inside a finished subprocess, so
the maps of the workflow and its subprocesses hold the same tasks the iterator finds.
"""
from __future__ import annotations

from collections.abc import Iterator


def every_task(wf) -> Iterator:
    for workflow in (wf, *wf.subprocesses.values()):
        yield from workflow.tasks.values()
