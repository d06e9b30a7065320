"""Changing a child's allocated worker (``/children/<id>/allocated-worker``).

The service ``workflows.services.allocation.change_allocated_worker`` does the change and
moves the tasks the diagrams give the allocated worker; this page only reads the form,
shows refusals next to the fields with what was chosen still chosen, and says what moved.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine.errors import InvalidData
from workflows import policy
from workflows.policy import ALLOCATE_ROLES
from workflows.services import allocation as allocation_service

from web.security.access import require_roles
from web.shared.database import db

bp = Blueprint("allocation", __name__, url_prefix="/children")


@bp.app_context_processor
def _may_allocate():
    """``can_allocate(team)`` for the child page's "Change" link, asked of the policy."""
    return {"can_allocate": lambda team: current_user.is_authenticated
            and policy.can_allocate(current_user, team)}


def _form(subject_id: int, values: dict, errors: dict[str, str], status: int = 200):
    with db().transaction() as session:
        child = allocation_service.child_to_allocate(session, current_user, subject_id)
        workers = [(u.id, u.display_name)
                   for u in allocation_service.workers_to_choose(session, child)]
        current = child.allocated_worker_id
        child_name, reference = child.display_name, child.reference
    return render_template("allocation/edit.html", subject_id=subject_id, child_name=child_name,
                           reference=reference, workers=workers, current=current, values=values,
                           errors=errors, summary=list(errors.items()),
                           page_has_errors=bool(errors), active_nav="children.index"), status


@bp.get("/<int:subject_id>/allocated-worker")
@require_roles(ALLOCATE_ROLES)
def edit(subject_id: int):
    return _form(subject_id, {}, {})


@bp.post("/<int:subject_id>/allocated-worker")
@require_roles(ALLOCATE_ROLES)
def change(subject_id: int):
    wanted = (request.form.get("worker") or "").strip()
    reason = request.form.get("reason") or ""
    try:
        with db().transaction() as session:
            done = allocation_service.change_allocated_worker(
                session, db().runtime, current_user, subject_id,
                int(wanted) if wanted.isascii() and wanted.isdigit() and len(wanted) < 10
                else None, reason)
            name, child = done.worker.display_name, done.child.display_name
            moved, returned, changed = len(done.moved), len(done.returned), done.changed
    except InvalidData as exc:
        errors = {e.field: e.message for e in exc.errors}
        return _form(subject_id, {"worker": wanted, "reason": reason}, errors, status=422)
    if not changed:
        flash(f"{name} was already {child}'s allocated worker; nothing changed.", "info")
    else:
        words = [f"{name} is now {child}'s allocated worker."]
        if moved:
            words.append(f"{moved} task{'s' if moved != 1 else ''} moved to them, and they "
                         "have been told.")
        if returned:
            words.append(f"{returned} task{'s' if returned != 1 else ''} they cannot hold "
                         "went back to the team queue.")
        flash(" ".join(words), "success")
    return redirect(url_for("children.show", subject_id=subject_id))
