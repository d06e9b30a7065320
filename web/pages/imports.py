"""Caseload import in the browser: upload, check, import as a background job, follow it.

Administrators only, as for ``pace import --by``: a caseload file holds every child's
name, date of birth and history, and placing children is an administrator's set-up task
(process owners see children by reference only). The upload is checked at once and
nothing is written until "Import" queues the job; ``pace worker`` runs it
(workflows/caseload/jobs.py), and the job page refreshes itself while it runs.
"""
from __future__ import annotations

from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge

from engine.models import WorkItem

from workflows.caseload import importer as caseload_import, jobs as caseload_jobs
from workflows.caseload.jobs import MAX_UPLOAD_BYTES, ImportJob, JobRefused, UploadRefused
from workflows.policy import IMPORT_ROLES
from workflows.services import imports as import_service

from web.shared import body_limits
from web.security.access import require_roles
from web.shared.database import db
from web.shared.downloads import attachment

bp = Blueprint("imports", __name__, url_prefix="/import")
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "caseload-example.csv"
SHOWN_ERRORS = 2000   # rows of the problem table on the page; the rejects file holds all
SUMMARY_LINKS = 10    # problems linked from the error summary at the top
REFRESH_SECONDS = 3   # the job page's <meta> refresh while the job runs (IMPORT_REFRESH_SECONDS)


def _csv(body: str | bytes, name: str) -> Response:
    return attachment(body, "text/csv", name)  # the name may be an upload's: any characters


def _job(session, job_id: int) -> ImportJob:
    return import_service.job(session, current_user, job_id)  # 404 when there is none


def _index(error: str | None = None, status: int = 200):
    with db().transaction() as session:
        jobs = import_service.recent(session, current_user)
    return render_template("import/index.html", jobs=jobs, error=error,
                           limit_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
                           page_has_errors=bool(error)), status


def _titles(session, task_names: set[str]) -> dict[str, str]:
    """Task name → the title its work items show in the queues."""
    if not task_names:
        return {}
    return dict(session.execute(select(WorkItem.task_name, func.min(WorkItem.title))
                                .where(WorkItem.task_name.in_(task_names))
                                .group_by(WorkItem.task_name)).all())


@bp.get("")
@require_roles(IMPORT_ROLES)
def index():
    return _index()


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    """Werkzeug stops reading a body over the route's limit (web/shared/body_limits.py): the upload
    form says how large a file may be."""
    if request.endpoint != "imports.upload":
        return body_limits.page()
    return _index(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split it "
                  "into several files and upload each. Nothing was saved.", 413)


@bp.post("")
@body_limits.allow_body(MAX_UPLOAD_BYTES)
@require_roles(IMPORT_ROLES)
def upload():
    chosen = request.files.get("caseload")
    if chosen is None or not chosen.filename:
        return _index("Choose the caseload CSV file to upload", 400)
    data = chosen.stream.read(MAX_UPLOAD_BYTES + 1)
    try:
        job_id, new = import_service.upload(db(), current_user, chosen.filename, data)
    except UploadRefused as exc:
        status = 413 if len(data) > MAX_UPLOAD_BYTES else 400
        return _index(f"{exc}. Nothing was saved.", status)
    if not new:
        flash("This file was uploaded already and its import is not finished: here it is. "
              "It has not been queued again.", "info")
    return redirect(url_for("imports.job", job_id=job_id))


@bp.get("/template.csv")
@require_roles(IMPORT_ROLES)
def template():
    return _csv(caseload_import.template_csv(), "caseload-template.csv")


@bp.get("/example.csv")
@require_roles(IMPORT_ROLES)
def example():
    return _csv(EXAMPLE.read_bytes(), "caseload-example.csv")


@bp.get("/jobs/<int:job_id>")
@require_roles(IMPORT_ROLES)
def job(job_id: int):
    with db().transaction() as session:
        found = _job(session, job_id)
        errors = found.row_errors
        open_tasks = caseload_jobs.open_tasks(found)
        titles = _titles(session, {task for task, _, _ in open_tasks})
    running = found.status in ("queued", "running")
    return render_template("import/job.html", job=found, errors=errors[:SHOWN_ERRORS],
                           hidden_errors=max(0, len(errors) - SHOWN_ERRORS),
                           summary=errors[:SUMMARY_LINKS],
                           open_tasks=[(titles.get(t, t), r, n) for t, r, n in open_tasks],
                           refresh=current_app.config.get("IMPORT_REFRESH_SECONDS",
                                                          REFRESH_SECONDS) if running else None,
                           choice_error=request.args.get("error"),
                           page_has_errors=bool(request.args.get("error")),
                           active_nav="imports.index")


@bp.post("/jobs/<int:job_id>/start")
@require_roles(IMPORT_ROLES)
def start(job_id: int):
    try:
        with db().transaction() as session:
            import_service.start(session, current_user, job_id, request.form.get("mode", ""))
    except JobRefused as exc:
        return redirect(url_for("imports.job", job_id=job_id, error=str(exc)))
    return redirect(url_for("imports.job", job_id=job_id))


@bp.post("/jobs/<int:job_id>/cancel")
@require_roles(IMPORT_ROLES)
def cancel(job_id: int):
    with db().transaction() as session:
        found = import_service.cancel(session, current_user, job_id)
        discarded = found.status == "cancelled"
    if discarded:
        flash("The upload was discarded; nothing was imported.", "success")
        return redirect(url_for("imports.index"))
    return redirect(url_for("imports.job", job_id=job_id))


@bp.get("/jobs/<int:job_id>/rejects.csv")
@require_roles(IMPORT_ROLES)
def rejects(job_id: int):
    with db().transaction() as session:
        found = _job(session, job_id)
        if not found.errors or not found.content:
            abort(404)
        body, name = caseload_jobs.rejects_csv(found), found.file_name
    stem = name[:-4] if name.lower().endswith(".csv") else name
    return _csv(body, f"{stem}.rejects.csv")
