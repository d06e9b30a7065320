"""Documents made from what was recorded: ``/api/v1/children/{id}/documents``,
``/api/v1/documents/{id}`` (the .docx) and ``POST /api/v1/work-items/{id}/document`` (make
a completed task's document again). The same service as the child page
(``workflows.services.documents``): everyone who may see the child lists and downloads,
every download audited; those who add to the child's file make one; auditors only read.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from web.shared.database import db
from web.shared.downloads import attachment as attachment_response
from workflows.policy import CASE_FILE_ROLES, CHILD_ROLES
from workflows.services import documents as document_service

from . import auth
from .errors import documented

bp = Blueprint("documents_api", __name__, url_prefix="/api/v1",
               description="Documents made from a child's recorded answers and the council's "
                           "Word templates (action minute, referral for legal advice, review "
                           "record).")
ID = "<int(max=2147483647):{}>"
auth.protect(bp)


class DocumentSchema(Schema):
    id = fields.Integer(dump_only=True)
    subject_id = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    file_name = fields.String(dump_only=True)
    size = fields.Integer(dump_only=True, metadata={"description": "bytes"})
    sha256 = fields.String(dump_only=True, metadata={"description": "of the .docx"})
    template = fields.String(dump_only=True, attribute="template_name")
    template_sha256 = fields.String(dump_only=True)
    process_version = fields.Integer(dump_only=True)
    made_by = fields.String(dump_only=True)
    made_at = fields.DateTime(dump_only=True)
    reason = fields.String(dump_only=True, metadata={
        "description": "completed (made when the task was completed) or on_demand"})
    work_item_id = fields.Integer(dump_only=True)


class DocumentListSchema(Schema):
    documents = fields.List(fields.Nested(DocumentSchema))


@bp.get(f"/children/{ID.format('subject_id')}/documents")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.response(200, DocumentListSchema)
def child_documents(subject_id: int):
    """The child's generated documents, newest first."""
    with db().transaction() as session:
        return {"documents": document_service.of_child(session, auth.principal(), subject_id)}


@bp.get(f"/documents/{ID.format('document_id')}")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.response(200, content_type=document_service.DOCX,
             description="The Word document, as a download (Content-Disposition: attachment)")
def download(document_id: int):
    """Download a generated document of a child the caller may see; audited."""
    with db().transaction() as session:
        stored = document_service.download(session, auth.principal(), document_id)
        content, name = stored.content, stored.file_name
    result = attachment_response(content, document_service.DOCX, name)
    result.headers["X-Content-Type-Options"] = "nosniff"
    return result


@bp.post(f"/work-items/{ID.format('item_id')}/document")
@documented(bp, 403, 404, 409)
@auth.roles(CASE_FILE_ROLES)
@bp.response(201, DocumentSchema)
def make(item_id: int):
    """Make a completed task's document again from its answers (not auditors)."""
    caller = auth.principal()
    with db().transaction() as session:
        made = document_service.make(session, db().runtime, caller, item_id)
        return next(d for d in document_service.of_child(session, caller, made.subject_id)
                    if d.id == made.id)
