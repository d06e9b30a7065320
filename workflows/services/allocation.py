"""Changing a child's allocated worker, and the tasks that follow them.

Tasks whose diagram says ``assign="allocated_worker"`` (engine/routing.py) go to the
child's allocated worker when they are made. When a team leader allocates someone else,
those tasks must not stay on the desk of a worker who no longer has the case: each open
task of that kind held by the previous worker, or waiting unheld in the queue, is given to
the new worker as a reassignment with the reason "allocated worker changed" — so the
child's history shows it and the new worker is told (the ``assigned`` notice and its mail).
A task the new worker cannot hold (not their role) goes back to the team queue instead.
Tasks of other kinds, and tasks the previous worker was given by hand, stay where they are.

The child page (``/children/<id>/allocated-worker``), ``PUT
/api/v1/children/<id>/allocated-worker`` and nothing else come here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, routing, work_items
from engine.errors import FieldError, Forbidden, InvalidData, NotFound
from engine.models import OPEN, ProcessInstance, Subject, UserAccount, WorkItem
from engine.runtime import Runtime

from .. import policy
from ..policy import Actor
from .actors import account
from .tasks import reason_problem

MOVED_REASON = "The child's allocated worker changed"


@dataclass
class Allocation:
    child: Subject
    previous: UserAccount | None
    worker: UserAccount
    changed: bool                     # False: the worker was already allocated
    moved: list[WorkItem] = field(default_factory=list)      # now with the new worker
    returned: list[WorkItem] = field(default_factory=list)   # back in the team queue


def workers_to_choose(session: Session, child: Subject) -> list[UserAccount]:
    """Active social workers who may hold the child's case: their team or service-wide."""
    users = session.scalars(select(UserAccount).where(UserAccount.active.is_(True))
                            .order_by(UserAccount.display_name)).all()
    return [u for u in users if "social_worker" in (u.roles or [])
            and u.team in (None, child.team)]


def child_to_allocate(session: Session, actor: Actor, subject_id: int) -> Subject:
    """The child, when the actor may change its allocated worker: 404 outside their scope
    (as for every record), 403 within it without a manager's role."""
    child = session.get(Subject, subject_id)
    if child is None or not policy.can_view_child(actor, child.team):
        raise NotFound("There is no such child, or they are not in your team's work.")
    if not policy.can_allocate(actor, child.team):
        raise Forbidden("Only a team leader or service manager can change a child's "
                        "allocated worker.")
    return child


def change_allocated_worker(session: Session, runtime: Runtime, actor: Actor, subject_id: int,
                            worker: int | str | None, reason: str | None = None) -> Allocation:
    """Allocate ``worker`` (user id or username) to the child and move the tasks the
    diagrams give the allocated worker. ``reason`` is optional here (kept in the history
    when given): the moved tasks carry their own."""
    child = child_to_allocate(session, actor, subject_id)
    chosen = next((u for u in workers_to_choose(session, child)
                   if worker is not None and worker in (u.id, u.username)), None)
    problems = [] if chosen is not None else [FieldError(
        "worker", "Choose an active social worker in the child's team.")]
    reason = (reason or "").strip()
    if reason and (problem := reason_problem(reason)):
        problems.append(FieldError("reason", problem))
    if problems:
        raise InvalidData(problems)
    by = account(session, actor)
    audit.lock_chain(session, child.id)  # every write about a child takes its lock first
    previous = session.get(UserAccount, child.allocated_worker_id) \
        if child.allocated_worker_id else None
    if previous is not None and previous.id == chosen.id:
        return Allocation(child, previous, chosen, changed=False)
    child.allocated_worker_id = chosen.id
    data = {"from": previous.username if previous else None, "to": chosen.username}
    if reason:
        data["reason"] = reason
    audit.record(session, "allocated_worker_changed", by.username, subject_id=child.id,
                 data=data)
    result = Allocation(child, previous, chosen, changed=True)
    for item in _following(session, runtime, child, previous):
        if routing.may_hold(chosen, item.role, item.team):
            result.moved.append(work_items.reassign(session, item.id, chosen, by,
                                                    reason=MOVED_REASON))
        elif item.status == "claimed":
            result.returned.append(work_items.release(session, item.id, by, as_manager=True,
                                                      reason=MOVED_REASON))
    return result


def _following(session: Session, runtime: Runtime, child: Subject,
               previous: UserAccount | None) -> list[WorkItem]:
    """The child's open tasks the diagrams give the allocated worker, held by the previous
    one or by nobody, oldest first."""
    items = session.scalars(select(WorkItem).where(
        WorkItem.subject_id == child.id, WorkItem.status.in_(OPEN))
        .order_by(WorkItem.id)).unique().all()
    holders = {None} | ({previous.id} if previous is not None else set())
    found = []
    for item in items:
        if item.assignee_id not in holders:
            continue
        instance = session.get(ProcessInstance, item.instance_id)
        if runtime.assign_target(instance, item.task_name) == "allocated_worker":
            found.append(item)
    return found
