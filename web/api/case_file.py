"""Case notes and attachments of a child or a task: ``/api/v1/children/{id}/notes``,
``/api/v1/work-items/{id}/notes``, ``…/attachments`` and ``/api/v1/attachments/{id}``.

The same services as the child and task pages (``workflows.services.case_notes``,
``attachments``), so both leave the same records and audit events and refuse the same
things: everyone who may see the child reads, the workers and managers among them write,
an auditor only reads; a note changes only by its author within 15 minutes.
"""
from __future__ import annotations

from dataclasses import asdict

from flask import request
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import RequestEntityTooLarge

from web.shared.database import db
from web.shared.downloads import attachment as attachment_response
from workflows.policy import CASE_FILE_ROLES, CHILD_ROLES
from workflows.services import attachments as attachment_service, case_notes

from . import auth
from .errors import documented, fail

bp = Blueprint("case_file_api", __name__, url_prefix="/api/v1",
               description="Case notes and attachments on a child or one of its tasks.")
ID = "<int(max=2147483647):{}>"
UPLOADS = ("case_file_api.upload_to_child", "case_file_api.upload_to_task")


def _too_large_message() -> str:
    return (f"The file is larger than {db().settings.attachments.max_mb} MB, so nothing was "
            "attached. Make it smaller or split it into several files.")


@bp.before_request
def _declared_too_large():
    """Before the token check's generic 413: an upload over the deployment's limit is told
    the limit."""
    if request.endpoint in UPLOADS and request.content_length is not None \
            and request.content_length > request.max_content_length:
        fail(413, _too_large_message())


auth.protect(bp)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    from .errors import response
    return response(413, _too_large_message())


def _max_bytes() -> int:
    return db().settings.attachments.max_bytes


def _allow_setting_body(view):
    from web.shared.body_limits import allow_setting_body
    return allow_setting_body(_max_bytes)(view)


class NoteSchema(Schema):
    id = fields.Integer(dump_only=True)
    subject_id = fields.Integer(dump_only=True)
    text = fields.String(dump_only=True)
    author = fields.String(dump_only=True)
    written_at = fields.DateTime(dump_only=True)
    edited_at = fields.DateTime(dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True, metadata={"description": "1, then one more per change"})
    task_id = fields.Integer(dump_only=True, allow_none=True,
                             metadata={"description": "the work item it is on, if any"})
    task_title = fields.String(dump_only=True, allow_none=True)
    can_change = fields.Boolean(dump_only=True, metadata={
        "description": "the caller wrote it less than 15 minutes ago"})
    editable_until = fields.DateTime(dump_only=True)


class NoteListSchema(Schema):
    items = fields.List(fields.Nested(NoteSchema))


class NoteTextSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(max=20_000),
                         metadata={"description": "The note (at most 10,000 characters)"})


class AttachmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    subject_id = fields.Integer(dump_only=True)
    file_name = fields.String(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"description": "PDF, Word document, Picture"})
    size = fields.Integer(dump_only=True, metadata={"description": "bytes"})
    sha256 = fields.String(dump_only=True)
    uploaded_by = fields.String(dump_only=True)
    uploaded_at = fields.DateTime(dump_only=True)
    task_id = fields.Integer(dump_only=True, allow_none=True)
    task_title = fields.String(dump_only=True, allow_none=True)


class AttachmentListSchema(Schema):
    items = fields.List(fields.Nested(AttachmentSchema))


class UploadSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "A PDF, Word document or picture, up to PACE_ATTACHMENT_MAX_MB (20 MB)"})


def _note(session, caller, note_id: int) -> dict:
    return asdict(case_notes.get(session, caller, note_id))


# -- notes ---------------------------------------------------------------------------------
@bp.get(f"/children/{ID.format('subject_id')}/notes")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.response(200, NoteListSchema)
def child_notes(subject_id: int):
    """The notes on a child and its tasks, newest first."""
    with db().transaction() as session:
        return {"items": [asdict(n) for n in
                          case_notes.of_child(session, auth.principal(), subject_id)]}


@bp.post(f"/children/{ID.format('subject_id')}/notes")
@documented(bp, 403, 404, 422)
@auth.roles(CASE_FILE_ROLES)
@bp.arguments(NoteTextSchema)
@bp.response(201, NoteSchema)
def add_child_note(body, subject_id: int):
    """Add a note on a child (not auditors)."""
    caller = auth.principal()
    with db().transaction() as session:
        note = case_notes.add_to_child(session, caller, subject_id, body["text"])
        return _note(session, caller, note.id)


@bp.get(f"/work-items/{ID.format('item_id')}/notes")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.response(200, NoteListSchema)
def task_notes(item_id: int):
    """The comments on a task, newest first."""
    with db().transaction() as session:
        return {"items": [asdict(n) for n in
                          case_notes.of_task(session, auth.principal(), item_id)]}


@bp.post(f"/work-items/{ID.format('item_id')}/notes")
@documented(bp, 403, 404, 422)
@auth.roles(CASE_FILE_ROLES)
@bp.arguments(NoteTextSchema)
@bp.response(201, NoteSchema)
def add_task_note(body, item_id: int):
    """Add a comment on a task the caller may see (not auditors)."""
    caller = auth.principal()
    with db().transaction() as session:
        note = case_notes.add_to_task(session, caller, item_id, body["text"])
        return _note(session, caller, note.id)


@bp.put(f"/notes/{ID.format('note_id')}")
@documented(bp, 403, 404, 422)
@auth.roles(CASE_FILE_ROLES)
@bp.arguments(NoteTextSchema)
@bp.response(200, NoteSchema)
def change_note(body, note_id: int):
    """Change a note: its author, in the 15 minutes after writing it (403 after, saying so).
    Every version stays in the child's audit trail."""
    caller = auth.principal()
    with db().transaction() as session:
        case_notes.change(session, caller, note_id, body["text"])
        return _note(session, caller, note_id)


# -- attachments ---------------------------------------------------------------------------
@bp.get(f"/children/{ID.format('subject_id')}/attachments")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.response(200, AttachmentListSchema)
def child_attachments(subject_id: int):
    """The files on a child and its tasks, newest first."""
    with db().transaction() as session:
        return {"items": [asdict(a) for a in
                          attachment_service.of_child(session, auth.principal(), subject_id)]}


@bp.get(f"/work-items/{ID.format('item_id')}/attachments")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.response(200, AttachmentListSchema)
def task_attachments(item_id: int):
    """The files on a task, newest first."""
    with db().transaction() as session:
        return {"items": [asdict(a) for a in
                          attachment_service.of_task(session, auth.principal(), item_id)]}


def _upload(subject_id: int | None, item_id: int | None, files: dict) -> dict:
    chosen = files["file"]
    content = chosen.stream.read(_max_bytes() + 1)
    caller, settings = auth.principal(), db().settings.attachments
    try:
        with db().transaction() as session:
            if item_id is None:
                stored = attachment_service.upload_to_child(
                    session, caller, settings, subject_id, chosen.filename or "", content)
            else:
                stored = attachment_service.upload_to_task(
                    session, caller, settings, item_id, chosen.filename or "", content)
            found = attachment_service.of_child(session, caller, stored.subject_id)
            return asdict(next(a for a in found if a.id == stored.id))
    except attachment_service.TooLarge as exc:
        fail(413, " ".join(e.message for e in exc.errors))


@bp.post(f"/children/{ID.format('subject_id')}/attachments")
@_allow_setting_body
@documented(bp, 403, 404, 413, 422)
@auth.roles(CASE_FILE_ROLES)
@bp.arguments(UploadSchema, location="files")
@bp.response(201, AttachmentSchema)
def upload_to_child(files, subject_id: int):
    """Attach a file to a child (multipart/form-data, field `file`). Its type is read from
    its content; scanned by ClamAV first when PACE_CLAMD is set. Nothing is stored when it
    is refused."""
    return _upload(subject_id, None, files)


@bp.post(f"/work-items/{ID.format('item_id')}/attachments")
@_allow_setting_body
@documented(bp, 403, 404, 413, 422)
@auth.roles(CASE_FILE_ROLES)
@bp.arguments(UploadSchema, location="files")
@bp.response(201, AttachmentSchema)
def upload_to_task(files, item_id: int):
    """Attach a file to a task the caller may see (as for a child)."""
    return _upload(None, item_id, files)


@bp.get(f"/attachments/{ID.format('attachment_id')}")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.response(200, content_type="application/octet-stream",
             description="The file, as a download (Content-Disposition: attachment)")
def download(attachment_id: int):
    """Download a file of a child the caller may see; every download is in the audit trail."""
    with db().transaction() as session:
        stored = attachment_service.download(session, auth.principal(), attachment_id)
        content, mimetype, name = stored.content, stored.content_type, stored.file_name
    result = attachment_response(content, mimetype, name)
    result.headers["X-Content-Type-Options"] = "nosniff"
    return result
