"""Queues and work items: the same rules as the worker UI (web/tasks.py, web/queue.py).

Claim, release and reassign are the engine's conditional updates; completing runs the
engine's ``Runtime.complete`` (validation against the task's JSON Schema, idempotent
repeat, optimistic locking) exactly as the task page does, so a task completed here leaves
the same state and the same audit events as one completed in the browser.
"""
from __future__ import annotations

import math
from dataclasses import replace

from flask_smorest import Blueprint
from sqlalchemy import select

from engine import clock, work_items
from engine.models import ProcessInstance, UserAccount, WorkItem
from engine.queues import QueueFilter, list_work
from web import db
from web.access import (QUEUE_ROLES, account, can_claim, can_edit, can_release, can_work,
                        eligible_assignees, manages, task_or_404)

from . import auth, present
from .errors import documented, fail
from .schemas import (CompletionSchema, QueueArgs, ReassignSchema, TaskDataSchema,
                      WorkItemDetailSchema, WorkItemPageSchema, WorkItemSchema)

bp = Blueprint("work", __name__, url_prefix="/api/v1",
               description="Work queues and tasks: claim, release, reassign, save a draft, "
                           "complete. For the roles that hold queues.")
ITEM = "/work-items/<int(max=2147483647):item_id>"
OPEN = ("ready", "claimed")
auth.protect(bp)


# -- queues -----------------------------------------------------------------------------------
def _queue(base: QueueFilter, args: dict) -> dict:
    today = clock.today()
    query = replace(base, status=args.get("status"), child=args.get("child") or None,
                    task=args.get("task") or None)
    with db().transaction() as session:
        page = list_work(session, query, today, sort=args["sort"], page=args["page"],
                         per_page=args["per_page"])
        items = present.work_items(session, page.items, today)
    return {"items": items, "page": page.page, "per_page": page.per_page, "total": page.total,
            "pages": page.pages}


@bp.get("/queues/my-work")
@documented(bp, 403)
@auth.roles(QUEUE_ROLES)
@bp.arguments(QueueArgs, location="query")
@bp.response(200, WorkItemPageSchema)
def my_work(args):
    """Tasks the caller holds ("My work")."""
    caller = auth.principal()
    return _queue(QueueFilter(assignee_id=caller.id), args)


@bp.get("/queues/team")
@documented(bp, 403)
@auth.roles(QUEUE_ROLES)
@bp.arguments(QueueArgs, location="query")
@bp.response(200, WorkItemPageSchema)
def team_queue(args):
    """Unclaimed tasks for the caller's roles in their team ("Team queue")."""
    caller = auth.principal()
    return _queue(QueueFilter(unassigned=True, roles=caller.queue_roles,
                              teams=caller.team_scope), args)


# -- one work item ----------------------------------------------------------------------------
def _one(session, item: WorkItem) -> dict:
    return present.work_items(session, [item], clock.today())[0]


@bp.get(ITEM)
@documented(bp, 403, 404)
@auth.roles(QUEUE_ROLES)
@bp.response(200, WorkItemDetailSchema)
def show(item_id: int):
    """A task with its form (JSON Schema), draft and what the caller may do with it."""
    caller = auth.principal()
    with db().transaction() as session:
        return _detail(session, caller, task_or_404(session, caller, item_id))


def _detail(session, caller, item: WorkItem) -> dict:
    instance = session.get(ProcessInstance, item.instance_id)
    schema, ui = db().runtime.form_for(instance, item.task_name)
    oversee = manages(caller, item) and item.status in OPEN
    assignees = [{"username": u.username, "display_name": u.display_name}
                 for u in eligible_assignees(session, item) if u.id != item.assignee_id] \
        if oversee else []
    return {**_one(session, item), "form": {"schema": schema, "ui_schema": ui},
            "draft": item.draft,
            "permissions": {"claim": can_claim(caller, item), "release": can_release(caller, item),
                            "edit": can_edit(caller, item), "reassign": oversee},
            "assignees": assignees}


@bp.post(f"{ITEM}/claim")
@documented(bp, 403, 404, 409)
@auth.roles(QUEUE_ROLES)
@bp.response(200, WorkItemSchema)
def claim(item_id: int):
    """Take a task from the team queue.

    409 when someone else claimed it first."""
    caller = auth.principal()
    with db().transaction() as session:
        item = task_or_404(session, caller, item_id)
        if not can_work(caller, item):
            fail(403, "Your roles do not include this task's role.")
        work_items.claim(session, item.id, account(session, caller))
        return _one(session, item)


@bp.post(f"{ITEM}/release")
@documented(bp, 403, 404, 409)
@auth.roles(QUEUE_ROLES)
@bp.response(200, WorkItemSchema)
def release(item_id: int):
    """Put a task back in the team queue (its holder, or a team leader or manager)."""
    caller = auth.principal()
    with db().transaction() as session:
        item = task_or_404(session, caller, item_id)
        allowed = can_release(caller, item) if item.status == "claimed" else \
            (can_work(caller, item) or manages(caller, item))
        if not allowed:
            fail(403, "Only the holder, a team leader or a service manager can release it.")
        as_manager = item.assignee_id != caller.id and manages(caller, item)
        work_items.release(session, item.id, account(session, caller), as_manager=as_manager)
        return _one(session, item)


@bp.post(f"{ITEM}/reassign")
@documented(bp, 403, 404, 409, 422)
@auth.roles(QUEUE_ROLES)
@bp.arguments(ReassignSchema)
@bp.response(200, WorkItemSchema)
def reassign(body, item_id: int):
    """Give a task to another worker with its role (team leaders and service managers)."""
    caller = auth.principal()
    with db().transaction() as session:
        item = task_or_404(session, caller, item_id)
        if not manages(caller, item):
            fail(403, "Only a team leader or service manager can reassign tasks.")
        target = next((u for u in eligible_assignees(session, item)
                       if u.username == body["assignee"]), None)
        if target is None:
            fail(422, errors={"assignee": [f"Choose an active user with the role {item.role} "
                                           "who works with this child's team."]})
        work_items.reassign(session, item.id, target, account(session, caller))
        return _one(session, item)


# -- drafts and completion ----------------------------------------------------------------------
def _holder_name(session, item: WorkItem) -> str:
    holder = session.get(UserAccount, item.assignee_id) if item.assignee_id else None
    return holder.display_name if holder else "Another worker"


def _check_may_edit(session, caller, item: WorkItem) -> None:
    """As the task page: 403 without the task's role; 409 when it moved on or is held."""
    if item.status != "completed" and not can_edit(caller, item):
        if not can_work(caller, item):
            fail(403, "Your roles do not include this task's role.")
        if item.status == "claimed":
            fail(409, f"{_holder_name(session, item)} holds this task, so nothing was saved. Ask "
                      "the holder or a team leader to release it, then reload the task.")
        fail(409, "This task is no longer open: the process moved on without it, so nothing "
                  "was saved. Reload the child's record to see what is open now.")
    if item.status == "completed" and not can_work(caller, item):
        fail(403, "Your roles do not include this task's role.")


def _bad_text(value, path: str, found: dict) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            found.setdefault(path, []).append("Must not contain NUL characters.")
        else:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                found.setdefault(path, []).append("Must be valid Unicode text.")
    elif isinstance(value, float) and not math.isfinite(value):
        found.setdefault(path, []).append("Must be a finite number.")
    elif isinstance(value, dict):
        for key, inner in value.items():
            _bad_text(key, path, found)
            _bad_text(inner, f"{path}.{key}", found)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _bad_text(inner, f"{path}.{index}", found)


def _check_data(schema: dict, data: dict) -> None:
    """Only the form's own fields, as storable text and finite numbers (the databases'
    JSON columns refuse NUL, lone surrogates and NaN); the JSON Schema checks the rest."""
    errors: dict[str, list[str]] = {}
    _bad_text(data, "data", errors)
    known = schema.get("properties")
    if isinstance(known, dict):
        for key in data:
            if key not in known:
                errors.setdefault(f"data.{key}", []).append("This task's form has no such field.")
    if errors:
        fail(422, errors=errors)


@bp.put(f"{ITEM}/draft")
@documented(bp, 403, 404, 409, 422)
@auth.roles(QUEUE_ROLES)
@bp.arguments(TaskDataSchema)
@bp.response(200, WorkItemDetailSchema)
def save_draft(body, item_id: int):
    """Save a draft of the task's form.

    Not validated against the form; claims the task if it is ready."""
    caller = auth.principal()
    with db().transaction() as session:
        item = task_or_404(session, caller, item_id)
        _check_may_edit(session, caller, item)
        instance = session.get(ProcessInstance, item.instance_id)
        schema, ui = db().runtime.form_for(instance, item.task_name)
        _check_data(schema, body["data"])
        user = account(session, caller)
        if item.status == "ready":
            work_items.claim(session, item.id, user)
        work_items.save_draft(session, item.id, body["data"], user)
        return _detail(session, caller, item)


@bp.post(f"{ITEM}/complete")
@documented(bp, 403, 404, 409, 422)
@auth.roles(QUEUE_ROLES)
@bp.arguments(TaskDataSchema)
@bp.response(200, CompletionSchema)
def complete(body, item_id: int):
    """Complete a task with its form data.

    Claims the task first if it is ready. 422 with the errors per field when the data does
    not fit the task's JSON Schema; 409 when the task moved on, is held by someone else, or
    was completed with different data. Sending the same data again returns the first result
    with `repeated: true`."""
    caller = auth.principal()
    data = body["data"]
    with db().transaction() as session:
        item = task_or_404(session, caller, item_id)
        _check_may_edit(session, caller, item)
        instance = session.get(ProcessInstance, item.instance_id)
        schema, _ = db().runtime.form_for(instance, item.task_name)
        _check_data(schema, data)
        user = account(session, caller)
        if item.status == "ready":
            work_items.claim(session, item.id, user)
        result = db().runtime.complete(session, item.id, data, user)
        still_open = session.scalars(select(WorkItem).where(
            WorkItem.subject_id == item.subject_id, WorkItem.status.in_(OPEN))
            .order_by(WorkItem.id)).unique().all()
        today = clock.today()
        return {"work_item": _one(session, result.work_item), "repeated": result.repeated,
                "instance": {"id": result.instance.id, "process_id": result.instance.process_id,
                             "status": result.instance.status},
                "open_tasks": present.work_items(session, still_open, today)}
