"""Who a task goes to when it is made: the diagram's ``assign`` property on a user task.

Without it a new task waits in its lane's queue for someone to claim it. With
``assign="allocated_worker"`` it goes straight to the subject's allocated worker (the
child's social worker) — their work, still visible to the team — because that is who
the council expects to do it, and a task that sits unclaimed in a queue is a task whose
due date slips. When the allocated worker cannot take it (there is none, they are
inactive, they do not hold the lane's role or work in another team) the task stays in
the queue as it would without the property: routing never blocks the process.

A task's queue is its lane's role, unless the task has ``laneFromSetting``: the name of a
setting the domain's rule policy reads (``rules.setting_value``), whose value is the role
whose queue the task goes to instead (an Aim 1 review chaired by the team leader in one
council and an independent chair in another, from one diagram). A setting that names no
role (the policy has no such setting, or it is unset) leaves the task in its lane.

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


def queue_role(task_spec, rules) -> str:
    """The role whose queue a new task of ``task_spec`` lands in: its lane's, or the role
    its ``laneFromSetting`` names now."""
    lane = task_spec.lane or ""
    name = (properties(task_spec).get("laneFromSetting") or "").strip()
    reader = getattr(rules, "setting_value", None)
    if not name or reader is None:
        return lane
    return (reader(name) or "").strip() or lane


def lane_setting_problem(value: str, rules) -> str | None:
    """Why ``value`` cannot be a ``laneFromSetting`` property under ``rules``, or None."""
    check = getattr(rules, "setting_problem", None)
    if check is None:
        return f"laneFromSetting {value!r}: this deployment has no settings a diagram may name"
    problem = check(value.strip(), "role")
    return f"laneFromSetting {value!r}: {problem}" if problem else None


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
