"""The task page: claim, fill in the task's form, save a draft, complete; release, reassign.

Whatever happens to a submit (invalid, stale, someone else got there first) the worker's
entries are shown again, so nothing typed is lost. Completing is idempotent in the engine:
a repeated identical submit (double click, resubmitted page) gets the same success result.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engine import clock, work_items
from engine.form_schemas import FormCannotBeChecked
from engine.errors import Conflict, InvalidData
from engine.models import ProcessInstance, WorkItem
from engine.queues import due_status
from workflows import profiles

from . import db, form_errors, schema_form
from .access import (QUEUE_ROLES, account, can_claim, can_edit, can_release, can_work,
                     eligible_assignees, manages, require_roles, task_or_404)
from .auth import safe_next
from .read_models import display_names

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
OPEN = ("ready", "claimed")


@dataclass
class TaskView:
    """Everything the page shows, read in one transaction and safe to use after it."""
    item: WorkItem
    schema: dict
    ui: dict
    due: str
    holder: str | None
    completed_by: str | None
    can_claim: bool
    can_release: bool
    can_edit: bool
    manages: bool
    assignees: list[tuple[int, str]] = field(default_factory=list)


def _view(session, item: WorkItem) -> TaskView:
    instance = session.get(ProcessInstance, item.instance_id)
    schema, ui = db().runtime.form_for(instance, item.task_name)
    names = display_names(session, [item.assignee_id, item.completed_by])
    oversee = manages(current_user, item)
    assignees = [(u.id, u.display_name) for u in eligible_assignees(session, item)
                 if u.id != item.assignee_id] if oversee and item.status in OPEN else []
    return TaskView(item=item, schema=schema, ui=ui, due=due_status(item, clock.today()),
                    holder=names.get(item.assignee_id), completed_by=names.get(item.completed_by),
                    can_claim=can_claim(current_user, item),
                    can_release=can_release(current_user, item),
                    can_edit=can_edit(current_user, item) and item.assignee_id == current_user.id,
                    manages=oversee, assignees=assignees)


def _load(item_id: int) -> TaskView:
    with db().transaction() as session:
        return _view(session, task_or_404(session, current_user, item_id))


def _render(view: TaskView, values: dict, errors: dict[str, str] | None = None, *,
            conflict: str | None = None, focus: str | None = None, status: int = 200):
    errors = errors or {}
    fields = schema_form.build(view.schema, view.ui, values, errors)
    summary = [(f.anchor, f.error) for f in schema_form.all_fields(fields) if f.error]
    shown = {f.name for f in schema_form.all_fields(fields) if f.error}
    summary += [("task-form", message) for path, message in errors.items() if path not in shown]
    return render_template("tasks/task.html", view=view, item=view.item, fields=fields,
                           summary=summary, conflict=conflict,
                           role_name=profiles.role_label(view.item.role, view.item.subject),
                           focus_id=schema_form.focus_target(fields, focus),
                           page_has_errors=bool(summary or conflict)), status


@bp.get("/<int:item_id>")
@require_roles(QUEUE_ROLES)
def show(item_id: int):
    view = _load(item_id)
    return _render(view, view.item.draft or {})


def _next_steps(session, item: WorkItem) -> str:
    items = session.scalars(select(WorkItem).where(
        WorkItem.subject_id == item.subject_id, WorkItem.status.in_(OPEN),
        WorkItem.id != item.id).order_by(WorkItem.id)).unique().all()
    if not items:
        return ""
    steps = ", ".join(f"{i.title} ({profiles.role_label(i.role, i.subject)})" for i in items)
    return f" Now open for this child: {steps}."


def _refuse_edit(view: TaskView, data: dict, problems: dict):
    """A worker with the role whose task moved on or went to someone else gets a clear 409,
    with every entry shown again; anyone else gets 403."""
    item = view.item
    if not can_work(current_user, item):
        abort(403)
    if item.status == "claimed":
        conflict = (f"{view.holder or 'Another worker'} holds this task, so your entries were "
                    "not saved. Ask the holder or a team leader to release the task.")
    else:
        conflict = ("This task is no longer open: the process moved on without it, so your "
                    "entries were not saved. Reload the child's page to see what is open now.")
    return _render(view, data, problems, status=409, conflict=conflict)


@bp.post("/<int:item_id>")
@require_roles(QUEUE_ROLES)
def submit(item_id: int):
    view = _load(item_id)
    item = view.item
    action = request.form.get("action") or "complete"
    rows_change = action.startswith(("add:", "remove:"))
    data, problems = schema_form.read(view.schema, request.form, keep_blank_rows=rows_change)
    if rows_change:
        focus = schema_form.change_rows(view.schema, data, action)
        return _render(view, data, focus=focus)
    if action not in ("draft", "complete"):
        abort(400)
    if item.status != "completed" and not can_edit(current_user, item):
        return _refuse_edit(view, data, problems)
    if item.status == "completed" and not can_work(current_user, item):
        abort(403)
    if action == "draft":
        return _save_draft(view, data, problems)
    try:
        if problems:
            errors = form_errors.messages(view.schema, data)
            errors.update(problems)
            return _render(view, data, errors, status=422)
        with db().transaction() as session:
            item = task_or_404(session, current_user, item_id)
            user = account(session, current_user)
            if item.status == "ready":
                work_items.claim(session, item.id, user)
            result = db().runtime.complete(session, item.id, data, user)
            child = result.work_item.subject
            message = (f"{result.work_item.title} completed for {child.display_name} "
                       f"({child.reference}).{_next_steps(session, result.work_item)}")
    except InvalidData as exc:
        errors = form_errors.for_field_errors(view.schema, data, exc.errors)
        return _render(view, data, errors, status=422)
    except (Conflict, FormCannotBeChecked) as exc:
        return _render(view, data, problems, conflict=str(exc), status=409)
    flash(message, "success")
    return redirect(url_for("queue.my_work"))


def _save_draft(view: TaskView, data: dict, problems: dict):
    try:
        with db().transaction() as session:
            item = task_or_404(session, current_user, view.item.id)
            user = account(session, current_user)
            if item.status == "ready":
                work_items.claim(session, item.id, user)
            work_items.save_draft(session, item.id, data, user)
    except Conflict as exc:
        return _render(view, data, problems, conflict=str(exc), status=409)
    flash("Draft saved. Complete the task when you are ready.", "success")
    return redirect(url_for("tasks.show", item_id=view.item.id))


@bp.post("/<int:item_id>/claim")
@require_roles(QUEUE_ROLES)
def claim(item_id: int):
    back = safe_next(request.form.get("next")) or url_for("queue.team_queue")
    try:
        with db().transaction() as session:
            item = task_or_404(session, current_user, item_id)
            if not can_work(current_user, item):
                abort(403)
            work_items.claim(session, item.id, account(session, current_user))
            title, child = item.title, item.subject.display_name
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(back)
    flash(f"You have claimed “{title}” for {child}. It is in My work.", "success")
    return redirect(url_for("tasks.show", item_id=item_id))


@bp.post("/<int:item_id>/release")
@require_roles(QUEUE_ROLES)
def release(item_id: int):
    back = safe_next(request.form.get("next")) or url_for("queue.my_work")
    try:
        with db().transaction() as session:
            item = task_or_404(session, current_user, item_id)
            allowed = can_release(current_user, item) if item.status == "claimed" else \
                (can_work(current_user, item) or manages(current_user, item))
            if not allowed:
                abort(403)
            as_manager = item.assignee_id != current_user.id and manages(current_user, item)
            work_items.release(session, item.id, account(session, current_user),
                               as_manager=as_manager)
            title = item.title
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(back)
    flash(f"“{title}” is back in the team queue.", "success")
    return redirect(back)


@bp.post("/<int:item_id>/reassign")
@require_roles(QUEUE_ROLES)
def reassign(item_id: int):
    page = url_for("tasks.show", item_id=item_id)
    wanted = request.form.get("assignee") or ""
    try:
        with db().transaction() as session:
            item = task_or_404(session, current_user, item_id)
            if not manages(current_user, item):
                abort(403)
            target = next((u for u in eligible_assignees(session, item) if str(u.id) == wanted),
                          None)
            if target is None:
                flash("Choose who to give this task to.", "error")
                return redirect(page)
            work_items.reassign(session, item.id, target, account(session, current_user))
            title, name = item.title, target.display_name
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(page)
    flash(f"“{title}” is now with {name}.", "success")
    return redirect(page)
