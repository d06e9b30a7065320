"""Reading what was recorded for a child: the child page, a task page and
``GET /api/v1/children/{id}`` show the same steps, to whoever may see the child
(``workflows.policy.can_view_child``: the workers of the child's team, team leaders,
managers, the service-wide roles and auditors).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import Subject
from engine.runtime import Runtime

from .. import policy
from ..children import records as child_records
from ..children.record_reads import recorded_steps
from ..children.recorded_answers import RecordedStep
from ..policy import Actor


def steps(session: Session, runtime: Runtime, actor: Actor, subject_id: int) -> list[RecordedStep]:
    """The child's completed steps with their answers, newest first. A child the actor may
    not see is a 404, as if it did not exist."""
    child = session.get(Subject, subject_id)
    if child is None or not policy.can_view_child(actor, child.team):
        raise NotFound(f"There is no child with id {subject_id} in your teams.")
    return recorded_steps(session, runtime, child.id)


def brothers_and_sisters(session: Session, actor: Actor, child: Subject) -> list[Subject]:
    """The child's brothers and sisters (same family reference) that the actor may see: a
    sibling in a team the actor does not work with is not named to them."""
    return [other for other in child_records.brothers_and_sisters(session, child)
            if policy.can_view_child(actor, other.team)]
