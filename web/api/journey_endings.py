"""Ending a child's journey early over the API, as the child page's "End this journey
early" does: the reasons the child's profile allows, the journeys already ended, and the
ending itself. ``workflows.services.journey_endings`` decides everything; this module
translates JSON in and out.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from web.security.access import child_or_404
from web.shared.database import db
from workflows.policy import CHILD_ROLES, END_JOURNEY_ROLES
from workflows.services import journey_endings as endings

from . import auth
from .errors import documented
from .schemas import Text, _out

bp = Blueprint("early_endings", __name__, url_prefix="/api/v1",
               description="Ending a child's journey early: removed from voluntary care, "
                           "turned 18, moved to another council.")
ID = "<int(max=2147483647):{}>"
auth.protect(bp)


class ReasonSchema(Schema):
    code = _out(fields.String())
    label = _out(fields.String())
    note_required = _out(fields.Boolean())


class EndedJourneySchema(Schema):
    instance_id = _out(fields.Integer())
    process_id = _out(fields.String())
    ended_on = _out(fields.Date())
    reason = _out(fields.String(metadata={"description": "The reason's code"}))
    reason_label = _out(fields.String(metadata={"description": "The reason in plain words"}))
    note = _out(fields.String())


class EarlyEndingsSchema(Schema):
    reasons = _out(fields.List(fields.Nested(ReasonSchema), metadata={
        "description": "The reasons the child's profile allows"}))
    running = _out(fields.Boolean(metadata={"description": "True while a journey runs"}))
    ended = _out(fields.List(fields.Nested(EndedJourneySchema), metadata={
        "description": "The child's processes ended early, oldest first"}))


class EarlyEndingSchema(Schema):
    reason = Text(required=True, min_length=1, max_length=40, single_line=True,
                  metadata={"description": "A reason's code (GET lists them)"})
    ended_on = fields.Date(required=True, metadata={
        "description": "The day the journey ended: today or earlier, not before it started"})
    note = Text(load_default="", max_length=endings.MAX_NOTE, metadata={
        "description": "What happened; required for the reason `other`"})


class EarlyEndingResultSchema(EarlyEndingsSchema):
    cancelled_tasks = _out(fields.Integer(metadata={
        "description": "Open tasks cancelled by the ending"}))


def _state(session, child) -> dict:
    return {"reasons": [{"code": r.code, "label": r.label, "note_required": r.note_required}
                        for r in endings.reasons(child)],
            "running": bool(endings.running(session, child)),
            "ended": [{"instance_id": e.instance_id, "process_id": e.process_id,
                       "ended_on": e.ended_on, "reason": e.reason, "reason_label": e.label,
                       "note": e.note} for e in endings.ended_journeys(session, child)]}


@bp.get(f"/children/{ID.format('subject_id')}/early-ending")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.response(200, EarlyEndingsSchema)
def show_early_ending(subject_id: int):
    """The reasons a journey of this child may end early, and the ones that did."""
    caller = auth.principal()
    with db().transaction() as session:
        return _state(session, child_or_404(session, caller, subject_id))


@bp.post(f"/children/{ID.format('subject_id')}/early-ending")
@documented(bp, 403, 404, 409, 422)
@auth.roles(END_JOURNEY_ROLES)
@bp.arguments(EarlyEndingSchema)
@bp.response(200, EarlyEndingResultSchema)
def end_early(body, subject_id: int):
    """End the child's journey early (team leaders and service managers of the child's
    team): every open task and timer of their running processes is cancelled and the
    reason kept. 409 when the journey has already ended; 422 for a reason the profile does
    not know, a note missing for `other`, or a date in the future or before the start."""
    caller = auth.principal()
    with db().transaction() as session:
        done = endings.end_journey_early(session, db().runtime, caller, subject_id,
                                         body["reason"], body["ended_on"], body.get("note"))
        return {**_state(session, done.child), "cancelled_tasks": done.cancelled_tasks}
