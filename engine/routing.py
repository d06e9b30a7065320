"""Who a task goes to when it is made: the diagram's ``assign`` property on a user task.

Without it a new task waits in its lane's queue for someone to claim it. With
``assign="allocated_worker"`` it goes straight to the subject's allocated worker (the
child's social worker) — their work, still visible to the team — because that is who
the council expects to do it, and a task that sits unclaimed in a queue is a task whose
due date slips. When the allocated worker cannot take it (there is none, they are
inactive, they do not hold the lane's role or work in another team) the task stays in
the queue as it would without the property: routing never blocks the process.

The property is checked when a diagram is deployed (``engine/registry.py`` refuses a value
not in ``ASSIGN_TARGETS``), so a misspelt target is a process owner's message, never a
task quietly left in the queue.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from .milestones import properties
from .models import Subject, UserAccount

# Values of ``assign`` the engine understands, with what each means in words.
ASSIGN_TARGETS = {"allocated_worker": "the allocated worker of the subject (the child)"}


def assign_target(task_spec) -> str | None:
    """The ``assign`` property of a task spec (None when it has none)."""
    value = (properties(task_spec).get("assign") or "").strip()
    return value or None


def assign_problem(value: str) -> str | None:
    """Why ``value`` cannot be an ``assign`` property, or None when it can."""
    if value.strip() in ASSIGN_TARGETS:
        return None
    known = ", ".join(sorted(ASSIGN_TARGETS))
    return f"assign {value!r} is not a known assignment: use {known}, or remove the property"


def may_hold(user: UserAccount | None, role: str, team: str | None) -> bool:
    """Whether ``user`` can be given a task of ``role`` for a subject of ``team``."""
    return (user is not None and bool(user.active) and role in (user.roles or [])
            and (user.team is None or user.team == team))


def holder_for(session: Session, target: str | None, subject: Subject, role: str,
               team: str | None) -> UserAccount | None:
    """The user a new task of ``target`` goes to, or None: it stays in the queue."""
    if target != "allocated_worker" or subject.allocated_worker_id is None:
        return None
    with session.no_autoflush:  # read while the save path collects its rows
        user = session.get(UserAccount, subject.allocated_worker_id)
    return user if may_hold(user, role, team) else None
