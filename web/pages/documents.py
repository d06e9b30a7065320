"""Generated documents on the child page: the list, making one again, the .docx download and
the print-friendly page; and a draft's Word templates for the process owner (placeholders
checked, a preview with a demo child, removing one).

Each route reads the request and calls one service (``workflows.services.documents``,
``draft_documents``); who may do what is ``workflows.policy``.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine.errors import EngineError
from workflows import policy
from workflows.policy import CASE_FILE_ROLES, CHILD_ROLES, OWNER_ROLES
from workflows.services import documents as document_service, draft_documents

from web.shared.database import db
from web.shared.downloads import attachment as attachment_response
from web.security.access import child_or_404, require_roles

bp = Blueprint("documents", __name__)


def _signed_in() -> bool:
    """Load the signed-in user before a transaction opens (as case_file.py says why)."""
    return current_user.is_authenticated


def documents_panel(subject_id: int) -> dict:
    """What the child page shows: the child's documents, and the completed tasks whose
    document the reader may make (again)."""
    _signed_in()
    with db().transaction() as session:
        team = child_or_404(session, current_user, subject_id).team
        listed = document_service.of_child(session, current_user, subject_id)
        makeable = document_service.makeable(session, current_user, subject_id)
    return {"documents": listed, "makeable": makeable,
            "can_make": policy.can_make_document(current_user, team)}


@bp.post("/work-items/<int:item_id>/document")
@require_roles(CASE_FILE_ROLES)
def make(item_id: int):
    _signed_in()
    try:
        with db().transaction() as session:
            made = document_service.make(session, db().runtime, current_user, item_id)
            subject_id, title = made.subject_id, made.title
    except EngineError as exc:
        if exc.status in (403, 404):
            raise
        with db().transaction() as session:
            subject_id = document_service.subject_of_task(session, current_user, item_id)
        flash(str(exc), "error")
        return redirect(url_for("children.show", subject_id=subject_id) + "#documents")
    flash(f"The {title.lower()} was made again from what was recorded.", "success")
    return redirect(url_for("children.show", subject_id=subject_id) + "#documents")


@bp.get("/documents/<int:document_id>")
@require_roles(CHILD_ROLES)
def download(document_id: int):
    with db().transaction() as session:
        stored = document_service.download(session, current_user, document_id)
        content, name = stored.content, stored.file_name
    return attachment_response(content, document_service.DOCX, name)


@bp.get("/documents/<int:document_id>/read")
@require_roles(CHILD_ROLES)
def read(document_id: int):
    with db().transaction() as session:
        stored, blocks = document_service.view(session, current_user, document_id)
        child = child_or_404(session, current_user, stored.subject_id)
        page = {"title": stored.title, "file_name": stored.file_name, "id": stored.id,
                "made_at": stored.made_at, "child_id": child.id, "child": child.display_name,
                "sha256": stored.sha256, "version": stored.process_version}
    return render_template("documents/read.html", page=page, blocks=blocks)


# -- a draft's Word templates (process owners) ---------------------------------------------
@bp.get("/models/drafts/<int:draft_id>/documents")
@require_roles(OWNER_ROLES)
def templates(draft_id: int):
    with db().transaction() as session:
        checks = draft_documents.templates(session, current_user, draft_id)
    return render_template("documents/templates.html", draft_id=draft_id, checks=checks)


@bp.get("/models/drafts/<int:draft_id>/documents/<name>/preview")
@require_roles(OWNER_ROLES)
def preview(draft_id: int, name: str):
    with db().transaction() as session:
        shown = draft_documents.preview(session, current_user, draft_id, name)
    if request.args.get("as") == "docx":
        if shown.content is None:
            abort(409, "; ".join(shown.problems))
        return attachment_response(shown.content, document_service.DOCX, f"preview {name}")
    return render_template("documents/preview.html", draft_id=draft_id, preview=shown)


@bp.post("/models/drafts/<int:draft_id>/documents/<name>/remove")
@require_roles(OWNER_ROLES)
def remove(draft_id: int, name: str):
    with db().transaction() as session:
        draft_documents.remove_template(session, current_user, draft_id, name)
    flash(f"{name} was removed from the draft.", "success")
    return redirect(url_for("documents.templates", draft_id=draft_id))


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["documents_panel"] = documents_panel
