"""Queues and work items: each action is the task page's own service
(``workflows.services.tasks``), so a task worked here leaves the same state, the same audit
events and the same refusals as one worked in the browser; this module only translates
JSON in and out.
"""
from __future__ import annotations

from dataclasses import replace

from flask_smorest import Blueprint

from engine import clock, form_schemas
from engine.models import OPEN, ProcessInstance, WorkItem
from engine.queues import QueueFilter, list_work
from web.shared.database import db
from workflows import policy
from workflows.policy import QUEUE_ROLES
from workflows.services import tasks as task_service

from . import auth, present
from .errors import answers_under, documented
from .schemas import (CompletionSchema, QueueArgs, ReassignSchema, TaskDataSchema,
                      WorkItemDetailSchema, WorkItemPageSchema, WorkItemSchema)

bp = Blueprint("work", __name__, url_prefix="/api/v1",
               description="Work queues and tasks: claim, release, reassign, save a draft, "
                           "complete. For the roles that hold queues.")
ITEM = "/work-items/<int(max=2147483647):item_id>"
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
        return _detail(session, caller, task_service.visible_task(session, caller, item_id))


def _detail(session, caller, item: WorkItem) -> dict:
    instance = session.get(ProcessInstance, item.instance_id)
    schema, ui = db().runtime.form_for(instance, item.task_name)
    oversee = policy.manages(caller, item) and item.status in OPEN
    assignees = [{"username": u.username, "display_name": u.display_name}
                 for u in task_service.assignees(session, item) if u.id != item.assignee_id] \
        if oversee else []
    # a worker is never offered the choices only an import records ("not recorded")
    return {**_one(session, item), "form": {"schema": form_schemas.for_workers(schema),
                                            "ui_schema": ui},
            "draft": item.draft,
            "permissions": {"claim": policy.can_claim(caller, item),
                            "release": policy.can_release(caller, item),
                            "edit": policy.can_edit(caller, item), "reassign": oversee},
            "assignees": assignees}


@bp.post(f"{ITEM}/claim")
@documented(bp, 403, 404, 409)
@auth.roles(QUEUE_ROLES)
@bp.response(200, WorkItemSchema)
def claim(item_id: int):
    """Take a task from the team queue.

    409 when someone else claimed it first."""
    with db().transaction() as session:
        return _one(session, task_service.claim(session, auth.principal(), item_id))


@bp.post(f"{ITEM}/release")
@documented(bp, 403, 404, 409)
@auth.roles(QUEUE_ROLES)
@bp.response(200, WorkItemSchema)
def release(item_id: int):
    """Put a task back in the team queue (its holder, or a team leader or manager)."""
    with db().transaction() as session:
        return _one(session, task_service.release(session, auth.principal(), item_id))


@bp.post(f"{ITEM}/reassign")
@documented(bp, 403, 404, 409, 422)
@auth.roles(QUEUE_ROLES)
@bp.arguments(ReassignSchema)
@bp.response(200, WorkItemSchema)
def reassign(body, item_id: int):
    """Give a task to another worker with its role (team leaders and service managers).

    The reason is required: the child's history keeps it and the new holder's notice (and
    e-mail, when they take them) says the task came to them."""
    with db().transaction() as session:
        item, _ = task_service.reassign(session, auth.principal(), item_id, body["assignee"],
                                        body["reason"])
        return _one(session, item)


@bp.put(f"{ITEM}/draft")
@documented(bp, 403, 404, 409, 422)
@auth.roles(QUEUE_ROLES)
@bp.arguments(TaskDataSchema)
@bp.response(200, WorkItemDetailSchema)
def save_draft(body, item_id: int):
    """Save a draft of the task's form.

    Checked only for what could not be stored or is longer than the form allows; claims
    the task if it is ready."""
    caller = auth.principal()
    with db().transaction() as session:
        with answers_under("data"):
            item = task_service.save_draft(session, db().runtime, caller, item_id, body["data"])
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
    with db().transaction() as session:
        with answers_under("data"):
            done = task_service.complete(session, db().runtime, auth.principal(), item_id,
                                         body["data"])
        today = clock.today()
        return {"work_item": _one(session, done.work_item), "repeated": done.repeated,
                "instance": {"id": done.instance.id, "process_id": done.instance.process_id,
                             "status": done.instance.status},
                "open_tasks": present.work_items(session, done.open_tasks, today)}
