"""Case notes and attachments on the child page and the task page.

Each route reads the form or the upload and calls one service
(``workflows.services.case_notes``, ``workflows.services.attachments``); the panels on the
child and task pages get their lists from ``case_file_panel``, a template global, so those
pages' views need not know about them. A refusal (an empty or over-long note, a note older
than 15 minutes, a file of the wrong kind, too large, or refused by the virus checker) is a
page that says what was wrong and what to do, with the note's text kept.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from engine.errors import EngineError, InvalidData, NotFound
from workflows import policy
from workflows.policy import CASE_FILE_ROLES, CHILD_ROLES
from workflows.services import attachments as attachment_service, case_notes
from workflows.services.tasks import visible_task

from web.shared import body_limits
from web.shared.database import db
from web.shared.downloads import attachment as attachment_response
from web.security.access import child_or_404, require_roles

bp = Blueprint("case_file", __name__)


def _signed_in() -> bool:
    """Load the signed-in user before a transaction opens: loading it reads the database in
    a transaction of its own, which SQLite would refuse inside ours."""
    return current_user.is_authenticated


def _max_bytes() -> int:
    return db().settings.attachments.max_bytes


def case_file_panel(subject_id: int, item_id: int | None = None) -> dict:
    """What the child page (``item_id`` None) or a task page shows: notes and files, newest
    first, and whether the reader may add to them."""
    _signed_in()
    with db().transaction() as session:
        if item_id is None:
            notes = case_notes.of_child(session, current_user, subject_id)
            files = attachment_service.of_child(session, current_user, subject_id)
            team = child_or_404(session, current_user, subject_id).team
        else:
            notes = case_notes.of_task(session, current_user, item_id)
            files = attachment_service.of_task(session, current_user, item_id)
            team = visible_task(session, current_user, item_id).team
    return {"notes": notes, "files": files,
            "can_add": policy.can_add_to_case_file(current_user, team),
            "max_mb": db().settings.attachments.max_mb,
            "size_in_words": attachment_service.size_in_words}


def _where(subject_id: int | None, item_id: int | None) -> dict:
    """Where a form came from: its page, its title and the routes it posts to."""
    _signed_in()
    with db().transaction() as session:
        if item_id is not None:
            item = visible_task(session, current_user, item_id)
            return {"back": url_for("tasks.show", item_id=item.id),
                    "about": f"{item.title} for {item.subject.display_name}",
                    "note_action": url_for("case_file.add_task_note", item_id=item.id),
                    "file_action": url_for("case_file.upload_to_task", item_id=item.id)}
        child = child_or_404(session, current_user, subject_id)
        return {"back": url_for("children.show", subject_id=child.id),
                "about": child.display_name,
                "note_action": url_for("case_file.add_child_note", subject_id=child.id),
                "file_action": url_for("case_file.upload_to_child", subject_id=child.id)}


def _message(exc: EngineError) -> str:
    if isinstance(exc, InvalidData):
        return " ".join(e.message for e in exc.errors)
    return str(exc)


# -- notes --------------------------------------------------------------------------------
def _add_note(subject_id: int | None, item_id: int | None):
    text = request.form.get("text", "")
    try:
        with db().transaction() as session:
            if item_id is None:
                case_notes.add_to_child(session, current_user, subject_id, text)
            else:
                case_notes.add_to_task(session, current_user, item_id, text)
    except NotFound:
        raise
    except EngineError as exc:
        where = _where(subject_id, item_id)
        return render_template("case_file/note.html", where=where, text=text,
                               error=_message(exc), action=where["note_action"],
                               title="Add a note"), exc.status
    flash("Your note was added.", "success")
    return redirect(_where(subject_id, item_id)["back"] + "#notes")


@bp.post("/children/<int:subject_id>/notes")
@require_roles(CASE_FILE_ROLES)
def add_child_note(subject_id: int):
    return _add_note(subject_id, None)


@bp.post("/tasks/<int:item_id>/notes")
@require_roles(CASE_FILE_ROLES)
def add_task_note(item_id: int):
    return _add_note(None, item_id)


def _note_where(note) -> dict:
    return _where(None, note.task_id) if note.task_id else _where(note.subject_id, None)


@bp.get("/notes/<int:note_id>/edit")
@require_roles(CHILD_ROLES)
def edit_note(note_id: int):
    with db().transaction() as session:
        note = case_notes.get(session, current_user, note_id)
    where = _note_where(note)
    if not note.can_change:  # the page it came from, saying why
        flash("Only the person who wrote a note can change it, in the 15 minutes after "
              "writing it. Add a new note instead.", "error")
        return redirect(where["back"] + "#notes")
    return render_template("case_file/note.html", where=where, text=note.text, error=None,
                           action=url_for("case_file.change_note", note_id=note.id),
                           title="Change your note", note=note)


@bp.post("/notes/<int:note_id>/edit")
@require_roles(CASE_FILE_ROLES)
def change_note(note_id: int):
    text = request.form.get("text", "")
    try:
        with db().transaction() as session:
            case_notes.change(session, current_user, note_id, text)
    except NotFound:
        raise
    except EngineError as exc:
        with db().transaction() as session:
            note = case_notes.get(session, current_user, note_id)
        return render_template("case_file/note.html", where=_note_where(note), text=text,
                               error=_message(exc), title="Change your note", note=note,
                               action=url_for("case_file.change_note", note_id=note_id)), \
            exc.status
    with db().transaction() as session:
        note = case_notes.get(session, current_user, note_id)
    flash("Your note was changed.", "success")
    return redirect(_note_where(note)["back"] + "#notes")


# -- attachments --------------------------------------------------------------------------
@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    """A body over the route's limit is not read (web/shared/body_limits.py): the upload page
    says how large a file may be. Nothing was stored."""
    args = request.view_args or {}
    if not _signed_in() or request.endpoint not in ("case_file.upload_to_child", "case_file.upload_to_task"):
        return body_limits.page()
    return _upload_refused(args.get("subject_id"), args.get("item_id"), (
        f"The file is larger than {db().settings.attachments.max_mb} MB, so nothing was "
        "attached. Make it smaller (for example save it as a PDF with smaller pictures) or "
        "split it into several files."), 413)


def _upload_refused(subject_id, item_id, message: str, status: int):
    where = _where(subject_id, item_id)
    return render_template("case_file/upload.html", where=where, error=message,
                           max_mb=db().settings.attachments.max_mb), status


def _upload(subject_id: int | None, item_id: int | None):
    chosen = request.files.get("file")
    if chosen is None or not chosen.filename:  # the service says so, after who may
        name, content = "", b""
    else:
        name, content = chosen.filename, chosen.stream.read(_max_bytes() + 1)
    settings = db().settings.attachments
    try:
        with db().transaction() as session:
            if item_id is None:
                stored = attachment_service.upload_to_child(session, current_user, settings,
                                                            subject_id, name, content)
            else:
                stored = attachment_service.upload_to_task(session, current_user, settings,
                                                           item_id, name, content)
            stored_name = stored.file_name
    except NotFound:
        raise
    except EngineError as exc:
        return _upload_refused(subject_id, item_id, _message(exc), exc.status)
    flash(f"{stored_name} was attached.", "success")
    return redirect(_where(subject_id, item_id)["back"] + "#attachments")


@bp.post("/children/<int:subject_id>/attachments")
@body_limits.allow_setting_body(_max_bytes)
@require_roles(CASE_FILE_ROLES)
def upload_to_child(subject_id: int):
    return _upload(subject_id, None)


@bp.post("/tasks/<int:item_id>/attachments")
@body_limits.allow_setting_body(_max_bytes)
@require_roles(CASE_FILE_ROLES)
def upload_to_task(item_id: int):
    return _upload(None, item_id)


@bp.get("/attachments/<int:attachment_id>")
@require_roles(CHILD_ROLES)
def download(attachment_id: int):
    with db().transaction() as session:
        stored = attachment_service.download(session, current_user, attachment_id)
        content, mimetype, name = stored.content, stored.content_type, stored.file_name
    return attachment_response(content, mimetype, name)


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["case_file_panel"] = case_file_panel
