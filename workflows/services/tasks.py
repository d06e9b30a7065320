"""Working a task: claim, release, reassign, save a draft, complete.

The task page and ``/api/v1/work-items`` both come here, so a task completed through either
leaves the same state, the same audit events and the same refusals. Completing is
idempotent in the engine: a repeated identical submit gets the first result.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import form_schemas, work_items
from engine.errors import Conflict, FieldError, Forbidden, InvalidData, NotFound
from engine.models import OPEN, ProcessInstance, UserAccount, WorkItem
from engine.plain_text import single_line_problem, storable_problem
from engine.runtime import Runtime

from .. import policy
from ..policy import Actor
from . import documents
from .actors import account

# A draft is kept with the task; more than this is not a worker's typing (a form's text
# fields are limited far below it) and would only weigh down every read of the task.
MAX_DRAFT_BYTES = 256 * 1024
# Draft checks: only what would make a draft unstorable or oversized. A draft may be
# incomplete or still wrong in other ways; completing checks everything.
_DRAFT_LIMITS = frozenset({"maxLength", "maxItems", "maxProperties", "additionalProperties"})


@dataclass
class Completed:
    work_item: WorkItem
    instance: ProcessInstance
    repeated: bool
    open_tasks: list[WorkItem]   # the child's tasks open after this one, oldest first


def visible_task(session: Session, actor: Actor, item_id: int) -> WorkItem:
    """The task, if the actor may see it; otherwise 404 as for one that does not exist."""
    item = session.get(WorkItem, item_id)
    if item is None or not policy.can_view_task(actor, item):
        raise NotFound("There is no such task, or it is not in your team's work.")
    return item


def assignees(session: Session, item: WorkItem) -> list[UserAccount]:
    """Active users holding the task's role who see the child's team."""
    users = session.scalars(select(UserAccount).where(UserAccount.active.is_(True))
                            .order_by(UserAccount.display_name)).all()
    return [u for u in users if item.role in (u.roles or [])
            and (u.team is None or u.team == item.team)]


def claim(session: Session, actor: Actor, item_id: int) -> WorkItem:
    item = visible_task(session, actor, item_id)
    if not policy.can_work(actor, item):
        raise Forbidden("Your roles do not include this task's role.")
    return work_items.claim(session, item.id, account(session, actor))


def release(session: Session, actor: Actor, item_id: int) -> WorkItem:
    """Back to the team queue: by its holder, or by a team leader or service manager."""
    item = visible_task(session, actor, item_id)
    allowed = policy.can_release(actor, item) if item.status == "claimed" else \
        (policy.can_work(actor, item) or policy.manages(actor, item))
    if not allowed:
        raise Forbidden("Only the holder, a team leader or a service manager can release it.")
    as_manager = item.assignee_id != actor.id and policy.manages(actor, item)
    return work_items.release(session, item.id, account(session, actor), as_manager=as_manager)


def reassign(session: Session, actor: Actor, item_id: int, assignee: int | str | None,
             reason: str | None) -> tuple[WorkItem, UserAccount]:
    """Give the task to another worker with its role (``assignee``: user id or username).

    The reason is required: the child's history keeps it and the new holder is told it,
    so whoever picks the task up knows why it came to them."""
    item = visible_task(session, actor, item_id)
    if not policy.manages(actor, item):
        raise Forbidden("Only a team leader or service manager can reassign tasks.")
    target = next((u for u in assignees(session, item)
                   if assignee is not None and assignee in (u.id, u.username)), None)
    problems = [] if target is not None else [FieldError(
        "assignee", "Choose an active worker with this task's role who works with the "
                    "child's team.")]
    reason = (reason or "").strip()
    if problem := reason_problem(reason):
        problems.append(FieldError("reason", problem))
    if problems:
        raise InvalidData(problems)
    work_items.reassign(session, item.id, target, account(session, actor), reason=reason)
    return item, target


MAX_REASON = 300  # a sentence or two: the history and the holder's notice show it whole


def reason_problem(reason: str) -> str | None:
    """Why ``reason`` cannot be a reassignment's reason, or None when it can."""
    if not reason:
        return "Give a reason for moving the task, such as who is on leave or whose case it is."
    if len(reason) > MAX_REASON:
        return f"The reason must be {MAX_REASON} characters or fewer; it has {len(reason)}."
    if problem := single_line_problem(reason) or storable_problem(reason):
        return f"The reason {problem[0].lower()}{problem[1:]}" if problem[0].isupper() \
            else f"The reason {problem}."
    return None


def check_may_edit(session: Session, actor: Actor, item: WorkItem) -> None:
    """403 without the task's role; 409 when it moved on or someone else holds it."""
    if item.status == "completed":
        if not policy.can_work(actor, item):
            raise Forbidden("Your roles do not include this task's role.")
        return
    if policy.can_edit(actor, item):
        return
    if not policy.can_work(actor, item):
        raise Forbidden("Your roles do not include this task's role.")
    if item.status == "claimed":
        holder = session.get(UserAccount, item.assignee_id) if item.assignee_id else None
        raise Conflict(f"{holder.display_name if holder else 'Another worker'} holds this task, "
                       "so nothing was saved. Ask them or a team leader to release it.")
    raise Conflict("This task is no longer open: the process moved on without it, so nothing "
                   "was saved. Reload the child's record to see what is open now.")


def save_draft(session: Session, runtime: Runtime, actor: Actor, item_id: int,
               data: dict, *, while_typing: bool = False) -> WorkItem:
    """Keep the entries with the task (claiming it if ready). Not checked as a whole, but
    refused when it could not be stored or is larger than the form allows.

    ``while_typing``: saved by the task page in the background as the worker types. Such a
    save never claims a task and goes only to a task the worker holds (a task released or
    given to someone else meanwhile keeps its own draft), and a draft identical to the one
    kept writes nothing, so pauses in typing do not fill the child's audit trail."""
    item = visible_task(session, actor, item_id)
    check_may_edit(session, actor, item)
    if while_typing and not policy.holds(actor, item):
        raise Conflict("You no longer hold this task, so your entries were not saved "
                       "automatically. Reload the page to see who holds it now.")
    if while_typing and item.draft == data:
        return item
    schema = _schema(session, runtime, item)
    _check_storable(schema, data)
    if len(json.dumps(data, ensure_ascii=False).encode("utf-8")) > MAX_DRAFT_BYTES:
        raise InvalidData([FieldError("", f"The draft is larger than {MAX_DRAFT_BYTES // 1024} "
                                          "KB, more than this task's form can hold.")])
    limits = [FieldError(_path(e), e.message) for e in form_schemas.problems(schema, data)
              if e.validator in _DRAFT_LIMITS]
    if limits:
        raise InvalidData(limits)
    user = account(session, actor)
    if item.status == "ready":
        work_items.claim(session, item.id, user)
    return work_items.save_draft(session, item.id, data, user)


def complete(session: Session, runtime: Runtime, actor: Actor, item_id: int,
             data: dict) -> Completed:
    """Complete with the form's answers (claiming the task if ready). 422 with each field's
    problem; 409 when the task moved on, is held by someone else, or was completed with
    different answers; the same answers again return the first result, ``repeated``."""
    item = visible_task(session, actor, item_id)
    check_may_edit(session, actor, item)
    _check_storable(_schema(session, runtime, item), data)
    user = account(session, actor)
    if item.status == "ready":
        work_items.claim(session, item.id, user)
    result = runtime.complete(session, item.id, data, user)
    if not result.repeated:  # the task's document (action minute, legal referral), if any
        documents.made_on_completion(session, runtime, user, result.work_item, result.instance)
    still_open = session.scalars(select(WorkItem).where(
        WorkItem.subject_id == item.subject_id, WorkItem.status.in_(OPEN),
        WorkItem.id != item.id).order_by(WorkItem.id)).unique().all()
    return Completed(result.work_item, result.instance, result.repeated, list(still_open))


def _schema(session: Session, runtime: Runtime, item: WorkItem) -> dict:
    instance = session.get(ProcessInstance, item.instance_id)
    return runtime.form_for(instance, item.task_name)[0]


def _path(error) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def _check_storable(schema: dict, data: dict) -> None:
    """Only the form's own fields, as storable text and finite numbers (the databases'
    JSON columns refuse NUL, lone surrogates and NaN); the JSON Schema checks the rest."""
    errors: list[FieldError] = []
    _bad_text(data, "", errors)
    known = schema.get("properties")
    if isinstance(known, dict):
        errors += [FieldError(key, "This task's form has no such field.")
                   for key in data if key not in known]
    if errors:
        raise InvalidData(errors)


def _bad_text(value, path: str, found: list[FieldError]) -> None:
    if isinstance(value, str):
        if problem := storable_problem(value):
            found.append(FieldError(path, problem))
    elif isinstance(value, float) and not math.isfinite(value):
        found.append(FieldError(path, "Must be a finite number."))
    elif isinstance(value, dict):
        for key, inner in value.items():
            _bad_text(key, path, found)
            _bad_text(inner, f"{path}.{key}" if path else str(key), found)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _bad_text(inner, f"{path}.{index}" if path else str(index), found)
