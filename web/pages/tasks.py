"""The task page: claim, fill in the task's form, save a draft, complete; release, reassign.

Whatever happens to a submit (invalid, stale, someone else got there first) the worker's
entries are shown again, so nothing typed is lost. Completing is idempotent in the engine:
a repeated identical submit (double click, resubmitted page) gets the same success result.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine import clock
from engine.errors import Conflict, EngineError, InvalidData
from engine.form_schemas import FormCannotBeChecked
from engine.models import OPEN, ProcessInstance, WorkItem
from engine.queues import due_status
from engine.runtime import ENDED_EARLY
from workflows import policy, profiles
from workflows.services import journey_endings, tasks as task_service

from web.pages import form_errors, schema_form, task_context
from web.shared.database import db
from web.security.access import QUEUE_ROLES, require_roles
from web.security.sign_in import safe_next
from web.shared.read_models import display_names

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


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
    context: task_context.TaskContext | None = None  # the child and the steps before
    ended: str | None = None  # withdrawn because the child's journey ended early: why


def _view(session, item: WorkItem) -> TaskView:
    instance = session.get(ProcessInstance, item.instance_id)
    schema, ui = db().runtime.form_for(instance, item.task_name)
    names = display_names(session, [item.assignee_id, item.completed_by])
    oversee = policy.manages(current_user, item)
    assignees = [(u.id, u.display_name) for u in task_service.assignees(session, item)
                 if u.id != item.assignee_id] if oversee and item.status in OPEN else []
    return TaskView(item=item, schema=schema, ui=ui, due=due_status(item, clock.today()),
                    holder=names.get(item.assignee_id), completed_by=names.get(item.completed_by),
                    can_claim=policy.can_claim(current_user, item),
                    can_release=policy.can_release(current_user, item),
                    can_edit=policy.can_edit(current_user, item)
                    and item.assignee_id == current_user.id,
                    manages=oversee, assignees=assignees,
                    context=task_context.for_task(session, current_user, item),
                    ended=_ended_early(session, item, instance))


def _ended_early(session, item: WorkItem, instance: ProcessInstance) -> str | None:
    """Why a withdrawn task was withdrawn, when its journey was ended early."""
    if item.status != "cancelled" or instance.status != ENDED_EARLY:
        return None
    found = [e for e in journey_endings.ended_journeys(session, instance.subject)
             if e.instance_id == instance.id]
    return f"the child's journey ended early ({found[0].label}, on " \
           f"{found[0].ended_on:%-d %B %Y})" if found else "the child's journey ended early"


def _load(item_id: int) -> TaskView:
    with db().transaction() as session:
        return _view(session, task_service.visible_task(session, current_user, item_id))


def _render(view: TaskView, values: dict, errors: dict[str, str] | None = None, *,
            conflict: str | None = None, focus: str | None = None, status: int = 200,
            reassign: dict | None = None):
    errors = errors or {}
    fields = schema_form.build(view.schema, view.ui, values, errors)
    summary = [(f.anchor, f.error) for f in schema_form.all_fields(fields) if f.error]
    shown = {f.name for f in schema_form.all_fields(fields) if f.error}
    summary += [("task-form", message) for path, message in errors.items() if path not in shown]
    summary += [(name, message) for name, message in (reassign or {}).get("errors", {}).items()]
    return render_template("tasks/task.html", view=view, item=view.item, fields=fields,
                           summary=summary, conflict=conflict, reassign=reassign,
                           role_name=profiles.role_label(view.item.role, view.item.subject),
                           focus_id=schema_form.focus_target(fields, focus),
                           page_has_errors=bool(summary or conflict)), status


@bp.get("/<int:item_id>")
@require_roles(QUEUE_ROLES)
def show(item_id: int):
    view = _load(item_id)
    return _render(view, view.item.draft or {})


def _next_steps(items: list[WorkItem]) -> str:
    if not items:
        return ""
    steps = ", ".join(f"{i.title} ({profiles.role_label(i.role, i.subject)})" for i in items)
    return f" Now open for this child: {steps}."


@bp.post("/<int:item_id>")
@require_roles(QUEUE_ROLES)
def submit(item_id: int):
    view = _load(item_id)
    action = request.form.get("action") or "complete"
    rows_change = action.startswith(("add:", "remove:"))
    data, problems = schema_form.read(view.schema, request.form,
                                      keep_blank_rows=rows_change or action == "restore")
    if rows_change:
        focus = schema_form.change_rows(view.schema, data, action)
        return _render(view, data, focus=focus)
    if action == "restore":  # kept in the browser while the worker signed in again
        return _entries_shown(view, data, ENTRIES_BACK)
    if action not in ("draft", "complete"):
        abort(400)
    if action == "draft":
        return _save_draft(view, data, problems)
    try:
        if problems:
            with db().transaction() as session:  # refusals first: 403, or 409 keeping entries
                task_service.check_may_edit(session, current_user,
                                            task_service.visible_task(session, current_user,
                                                                      item_id))
            errors = form_errors.messages(view.schema, data)
            errors.update(problems)
            return _render(view, data, errors, status=422)
        with db().transaction() as session:
            done = task_service.complete(session, db().runtime, current_user, item_id, data)
            child = done.work_item.subject
            message = (f"{done.work_item.title} completed for {child.display_name} "
                       f"({child.reference}).{_next_steps(done.open_tasks)}")
    except InvalidData as exc:
        errors = form_errors.for_field_errors(view.schema, data, exc.errors)
        return _render(view, data, errors, status=422)
    except (Conflict, FormCannotBeChecked) as exc:
        return _render(view, data, problems, conflict=str(exc), status=409)
    flash(message, "success")
    return redirect(url_for("queue.my_work"))


ENTRIES_BACK = ("Your entries from before you were signed out are back in the form. "
                "Check them, then complete the task.")


def _entries_shown(view: TaskView, data: dict, message: str, status: int = 200):
    """The form filled with entries posted back, saving nothing (web/pages/kept_entries.py);
    when the worker no longer holds the task, the entries are shown to copy."""
    if not view.can_edit:
        return _render(view, data, conflict="You no longer hold this task, so your entries "
                                            "cannot go back into its form.", status=409)
    flash(message, "info")
    return _render(view, data, status=status)


def entries_again(item_id: int | None, message: str):
    """This task page with the entries of a post refused for its stale form token; None
    when the task cannot be shown to the worker (the plain error page then)."""
    if item_id is None or not current_user.has_any(QUEUE_ROLES):
        return None
    try:
        view = _load(item_id)
    except EngineError:
        return None
    data, _problems = schema_form.read(view.schema, request.form, keep_blank_rows=True)
    return _entries_shown(view, data, message, status=400)


def _save_draft(view: TaskView, data: dict, problems: dict):
    try:
        with db().transaction() as session:
            task_service.save_draft(session, db().runtime, current_user, view.item.id, data)
    except InvalidData as exc:
        errors = form_errors.for_field_errors(view.schema, data, exc.errors)
        return _render(view, data, errors, status=422)
    except (Conflict, FormCannotBeChecked) as exc:
        return _render(view, data, problems, conflict=str(exc), status=409)
    flash("Draft saved. Complete the task when you are ready.", "success")
    return redirect(url_for("tasks.show", item_id=view.item.id))


@bp.post("/<int:item_id>/claim")
@require_roles(QUEUE_ROLES)
def claim(item_id: int):
    back = safe_next(request.form.get("next")) or url_for("queue.team_queue")
    try:
        with db().transaction() as session:
            item = task_service.claim(session, current_user, item_id)
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
            title = task_service.release(session, current_user, item_id).title
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(back)
    flash(f"“{title}” is back in the team queue.", "success")
    return redirect(back)


@bp.post("/<int:item_id>/reassign")
@require_roles(QUEUE_ROLES)
def reassign(item_id: int):
    page = url_for("tasks.show", item_id=item_id)
    wanted = (request.form.get("assignee") or "").strip()
    reason = request.form.get("reason") or ""
    try:
        with db().transaction() as session:
            item, target = task_service.reassign(
                session, current_user, item_id,
                int(wanted) if wanted.isascii() and wanted.isdigit() and len(wanted) < 10
                else None, reason)
            title, name = item.title, target.display_name
    except InvalidData as exc:  # the form again, with what was typed and what to change
        errors = {e.field: e.message for e in exc.errors}
        view = _load(item_id)
        return _render(view, view.item.draft or {}, status=422,
                       reassign={"assignee": wanted, "reason": reason, "errors": errors})
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(page)
    flash(f"“{title}” is now with {name}.", "success")
    return redirect(page)
