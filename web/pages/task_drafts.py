"""Drafts saved while the worker types: the task form's background save.

``static/js/task-autosave.mjs`` posts the task form's fields here a few seconds after the
worker stops typing (and at least every half minute while they go on), with the form's own
CSRF token. The fields are read exactly as a submit reads them (``schema_form.read``) and
kept through the one save-draft service, ``while_typing``: only for the task's holder,
never claiming a task, nothing written when unchanged, refused over ``MAX_DRAFT_BYTES``.
The answer is JSON for the page's quiet status line ("Draft saved at 14:32").
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from engine.errors import Conflict, EngineError, InvalidData
from engine.form_schemas import FormCannotBeChecked
from engine.models import ProcessInstance
from workflows.services import tasks as task_service

from web.pages import schema_form
from web.security import session_timeout
from web.security.access import QUEUE_ROLES
from web.shared.database import db

bp = Blueprint("task_drafts", __name__, url_prefix="/tasks")


def _refused(status: int, message: str):
    return jsonify(saved=False, message=message), status


@bp.post("/<int:item_id>/autosave")
def autosave(item_id: int):
    if not current_user.is_authenticated:  # JSON, not the sign-in page a fetch cannot show
        return jsonify(saved=False, signed_in=False,
                       message=session_timeout.signed_out_message()), 401
    if not current_user.has_any(QUEUE_ROLES):
        return _refused(403, "Your roles do not include working on tasks.")
    try:
        with db().transaction() as session:
            item = task_service.visible_task(session, current_user, item_id)
            instance = session.get(ProcessInstance, item.instance_id)
            schema, _ui = db().runtime.form_for(instance, item.task_name)
            data, _problems = schema_form.read(schema, request.form)  # unreadable parts wait
            task_service.save_draft(session, db().runtime, current_user, item_id, data,
                                    while_typing=True)
    except InvalidData as exc:
        return _refused(422, "Your entries could not be saved automatically: "
                             + " ".join(e.message for e in exc.errors))
    except (Conflict, FormCannotBeChecked) as exc:
        return _refused(409, str(exc))
    except EngineError as exc:  # 404 for a task out of reach, 403 without its role
        return _refused(exc.status, str(exc))
    at = current_app.jinja_env.filters["time"](datetime.now(timezone.utc))  # the pages' clock
    return jsonify(saved=True, saved_at=at, message=f"Draft saved at {at}")
