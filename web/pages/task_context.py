"""What a task page shows about the child before anyone claims the task: who the child is,
where their journey stands, and what colleagues recorded in the steps before (the same
steps, in the same words, as the child page: ``workflows.services.child_record``).

A worker deciding whether to pick a task up, or a chair preparing a review, needs that
context; before this the page named the child and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.models import WorkItem
from workflows import profiles
from workflows.children.recorded_answers import RecordedStep
from workflows.due_words import council_today
from workflows.services import child_record

from web.shared.database import db
from web.shared.read_models import child_page


@dataclass
class ChildSummary:
    child: object
    age: str
    team_name: str
    worker: str | None
    stages: list[tuple[str, str | None, object]]  # process, latest milestone, its date


@dataclass
class TaskContext:
    summary: ChildSummary
    steps: list[RecordedStep] = field(default_factory=list)


def for_task(session, actor, item: WorkItem) -> TaskContext:
    """The child of ``item`` as the task page shows it (the caller has checked the actor may
    see the task, and so the child)."""
    child = item.subject
    page = child_page(session, child, council_today())
    profile = profiles.of_subject(child)
    stages = [(stage.process, profile.milestones.get(stage.latest.code, stage.latest.label)
               if stage.latest else None, stage.latest.actual if stage.latest else None)
              for stage in page.stages if stage.status == "running"]
    return TaskContext(
        summary=ChildSummary(child=child, age=page.age, team_name=page.team_name,
                             worker=page.worker, stages=stages),
        steps=child_record.steps(session, db().runtime, actor, child.id))
