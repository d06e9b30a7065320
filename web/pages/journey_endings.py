"""Ending a child's journey early (``/children/<id>/end-early``).

The service ``workflows.services.journey_endings.end_journey_early`` decides who may end a
journey, which reasons the child's profile allows, which dates are possible and whether the
journey has already ended; this page reads the form (radios, the GOV.UK date input, a note),
shows each refusal next to its field with what was typed still there, and says on the
child's page what the ending did.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine.errors import Conflict, InvalidData
from workflows import policy
from workflows.policy import END_JOURNEY_ROLES
from workflows.services import journey_endings as endings

from web.security.access import require_roles
from web.shared import date_parts
from web.shared.database import db

bp = Blueprint("journey_endings", __name__, url_prefix="/children")
DATE_FIELD = "ended_on"


@bp.app_context_processor
def _may_end():
    """``can_end_journey(team)`` for the child page's link, asked of the policy."""
    return {"can_end_journey": lambda team: current_user.is_authenticated
            and policy.can_end_journey(current_user, team)}


def _form(subject_id: int, values: dict, errors: dict[str, str], status: int = 200,
          conflict: str | None = None):
    with db().transaction() as session:
        child = endings.child_to_end(session, current_user, subject_id)
        reasons = [(r.code, r.label) for r in endings.reasons(child)]
        ended = endings.ended_journeys(session, child)
        running = bool(endings.running(session, child))
        child_name, reference = child.display_name, child.reference
    return render_template("journey_endings/end.html", subject_id=subject_id,
                           child_name=child_name, reference=reference, reasons=reasons,
                           ended=ended, running=running, values=values, errors=errors,
                           conflict=conflict, summary=_summary(errors),
                           page_has_errors=bool(errors or conflict),
                           active_nav="children.index"), status


def _summary(errors: dict[str, str]) -> list[tuple[str, str]]:
    anchors = {"reason": "reason-0", DATE_FIELD: f"{DATE_FIELD}-day", "note": "note"}
    return [(anchors.get(name, name), message) for name, message in errors.items()]


@bp.get("/<int:subject_id>/end-early")
@require_roles(END_JOURNEY_ROLES)
def edit(subject_id: int):
    return _form(subject_id, {}, {})


@bp.post("/<int:subject_id>/end-early")
@require_roles(END_JOURNEY_ROLES)
def end(subject_id: int):
    form = request.form
    values = {"reason": form.get("reason") or "", "note": form.get("note") or "",
              **{part: (form.get(f"{DATE_FIELD}-{part}") or "").strip()
                 for part in date_parts.DAY_PARTS}}
    typed = {part: values[part] for part in date_parts.DAY_PARTS}
    ended_on = None
    if any(typed.values()):
        try:
            ended_on = date_parts.check("The date the journey ended", typed)
        except ValueError as exc:
            return _form(subject_id, values, {DATE_FIELD: str(exc)}, status=422)
    try:
        with db().transaction() as session:
            done = endings.end_journey_early(session, db().runtime, current_user, subject_id,
                                             values["reason"] or None, ended_on, values["note"])
            name, label, cancelled = done.child.display_name, done.reason.label, done.cancelled_tasks
            day = done.ended_on
    except InvalidData as exc:
        return _form(subject_id, values, {e.field: e.message for e in exc.errors}, status=422)
    except Conflict as exc:
        return _form(subject_id, values, {}, status=409, conflict=str(exc))
    withdrawn = (f" {cancelled} open task{'s were' if cancelled != 1 else ' was'} withdrawn."
                 if cancelled else "")
    flash(f"{name}'s journey has ended ({day:%-d %B %Y}): {label}.{withdrawn}", "success")
    return redirect(url_for("children.show", subject_id=subject_id))
