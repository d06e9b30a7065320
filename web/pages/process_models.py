"""Process models: versions, drafts, validation, changes, deployment and migration.

Process owners change a process here: copy a version into a draft (edit it with the bpmn-js
modeler or the properties form) or upload one made in Camunda Modeler or SpiffArena, check
it, see what changes, deploy it as the next version with a reason and a PDSA cycle, then
move running children to it. Service managers, auditors and administrators can read the
versions (and download them); only process owners change anything or see the children a
migration would move (by reference, not by name). Each route calls one service of
``workflows.services.process_models`` and only translates form fields in and templates out.
"""
from __future__ import annotations

import re

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from engine.errors import Conflict, EngineError, InvalidData
from engine.registry import ModelBundle
from workflows.process_models import lane_names
from workflows.process_models import (changes as model_changes, diagram_elements,
                                       drafts as model_drafts, model_validation)
from workflows import profiles
from workflows.process_models.drafts import MAX_UPLOAD_BYTES, UploadRefused
from workflows.policy import MODEL_READ_ROLES, OWNER_ROLES
from workflows.services import model_deployment as deployment, process_models as service

from web.shared import body_limits
from web.security.access import require_roles
from web.shared.database import db

bp = Blueprint("models", __name__, url_prefix="/models")


def _council() -> str:
    return db().settings.council  # PACE_COUNCIL, read once by Database.connect


def _roles_for(process_id: str) -> dict[str, str]:
    profile = profiles.for_process(process_id)
    return dict(profile.roles) if profile else profiles.role_labels()


def _message(exc: InvalidData) -> str:
    return "; ".join(e.message for e in exc.errors)


def _attachment(body, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _uploaded_files() -> list[tuple[str, bytes]]:
    # A body over the route's limit never gets here: Werkzeug stops reading it (_too_large).
    files = [f for f in request.files.getlist("files") if f.filename]
    if not files:
        raise UploadRefused("Choose the diagram (.bpmn) and its forms (.json), or a .zip of them.")
    return [(f.filename, f.stream.read(MAX_UPLOAD_BYTES + 1)) for f in files]


def _revision() -> int | None:
    text = request.form.get("revision", "")
    return int(text) if text.isdigit() else None


# -- reading --------------------------------------------------------------------------------
@bp.get("")
@require_roles(MODEL_READ_ROLES)
def index():
    with db().transaction() as session:
        processes = service.list_processes(session, current_user)
    return render_template("models/index.html", processes=processes,
                           can_edit=current_user.has_any(OWNER_ROLES))


@bp.get("/<process_id>")
@require_roles(MODEL_READ_ROLES)
def process(process_id: str):
    with db().transaction() as session:
        found = service.process_history(session, current_user, process_id)
    return render_template("models/process.html", process_id=process_id, versions=found.versions,
                           name=found.name, counts=found.running, cycles=found.cycles,
                           drafts=found.drafts, can_edit=current_user.has_any(OWNER_ROLES),
                           active_nav="models.index")


@bp.get("/<process_id>/versions/<int:version>")
@require_roles(MODEL_READ_ROLES)
def version(process_id: str, version: int):
    with db().transaction() as session:
        found = service.get_version(session, current_user, process_id, version)
    model, running = found.model, found.running
    return render_template("models/version.html", model=model, latest=found.latest,
                           cycles=found.cycles, running=running.get(version, 0),
                           others=sum(running.values()) - running.get(version, 0),
                           rows=diagram_elements.element_rows(model.bpmn_xml),
                           roles=_roles_for(process_id),
                           name=model_validation.process_name(process_id, model.name),
                           can_edit=current_user.has_any(OWNER_ROLES), active_nav="models.index")


@bp.get("/<process_id>/versions/<int:version>.bpmn")
@require_roles(MODEL_READ_ROLES)
def download_bpmn(process_id: str, version: int):
    with db().transaction() as session:
        model = service.get_version(session, current_user, process_id, version).model
    if request.args.get("view"):  # for the diagram viewer on the page: lanes by role name
        return Response(lane_names.with_role_names(model.bpmn_xml, process_id),
                        mimetype="application/xml")
    return _attachment(model.bpmn_xml, "application/xml", f"{process_id}-v{version}.bpmn")


@bp.get("/<process_id>/versions/<int:version>.zip")
@require_roles(MODEL_READ_ROLES)
def download_zip(process_id: str, version: int):
    with db().transaction() as session:
        model = service.get_version(session, current_user, process_id, version).model
        templates = ModelBundle.decode_documents(model.documents)  # deferred: read it here
    body = model_drafts.bundle_zip(process_id, model.bpmn_xml, dict(model.forms), templates)
    return _attachment(body, "application/zip", f"{process_id}-v{version}.zip")


# -- drafts ---------------------------------------------------------------------------------
@bp.post("/<process_id>/drafts")
@require_roles(OWNER_ROLES)
def new_draft(process_id: str):
    wanted = request.form.get("version", "")
    with db().transaction() as session:
        draft = service.start_draft(session, current_user, process_id,
                                    int(wanted) if wanted.isdigit() else None)
        draft_id, base = draft.id, draft.base_version
    flash(f"Draft started from version {base}. Nothing changes for anyone until you "
          "deploy it.", "success")
    return redirect(url_for("models.edit", draft_id=draft_id))


def _upload_page(process_id: str | None, error: str | None = None, status: int = 200):
    return render_template("models/upload.html", process_id=process_id, error=error,
                           name=model_validation.process_name(process_id) if process_id else None,
                           limit_mb=MAX_UPLOAD_BYTES // (1024 * 1024), page_has_errors=bool(error),
                           active_nav="models.index"), status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    """Werkzeug stops reading a body over the route's limit (web/shared/body_limits.py): the upload
    routes say so where the file was chosen, with the limit."""
    refused = (f"The upload is too large: the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB "
               "for a diagram and its forms together. Nothing was saved.")
    args = request.view_args or {}
    if request.endpoint == "models.upload":
        return _upload_page(args.get("process_id"), refused, 413)
    if request.endpoint == "models.save":
        flash(f"The diagram was not saved: {refused}", "error")
        return redirect(url_for("models.edit", draft_id=args["draft_id"]))
    if request.endpoint == "models.add_files":
        try:
            return _draft_page(args["draft_id"], files_error=f"Nothing was added: {refused}",
                               status=413)
        except EngineError:  # no such draft for this user: the plain page
            pass
    return body_limits.page()


@bp.route("/upload", methods=["GET", "POST"], defaults={"process_id": None})
@bp.route("/<process_id>/upload", methods=["GET", "POST"])
@body_limits.allow_body(MAX_UPLOAD_BYTES)
@require_roles(OWNER_ROLES)
def upload(process_id: str | None):
    if request.method == "GET":
        if process_id is not None:
            with db().transaction() as session:
                service.latest_version(session, current_user, process_id)
        return _upload_page(process_id)
    try:
        with db().transaction() as session:
            draft = service.upload_draft(session, current_user, _uploaded_files(),
                                         process_id=process_id, note=request.form.get("note", ""))
            draft_id = draft.id
    except UploadRefused as exc:
        return _upload_page(process_id, str(exc), exc.status)
    flash("Uploaded as a draft. Check the problems listed below, if any, then deploy.", "success")
    return redirect(url_for("models.draft", draft_id=draft_id))


def _draft_page(draft_id: int, *, deploy_error: str | None = None,
                files_error: str | None = None, confirm_error: str | None = None, form=None,
                status: int = 200):
    """The draft's check page, read afresh (after a refused change, in a new transaction)."""
    with db().transaction() as session:
        found = service.check_draft(session, db().runtime, current_user, draft_id)
        choices = model_changes.pdsa_choices(session, _council()) if found.report else []
    draft = found.draft
    if found.report is None:
        return render_template("models/draft_closed.html", draft=draft, latest=found.latest,
                               active_nav="models.index"), status
    return render_template("models/draft.html", draft=draft, report=found.report,
                           latest=found.latest, name=model_validation.process_name(draft.process_id),
                           rows=diagram_elements.element_rows(draft.bpmn_xml),
                           pdsa_choices=choices, deploy_error=deploy_error,
                           files_error=files_error, confirm_error=confirm_error,
                           form=form or {},
                           page_has_errors=bool(deploy_error or files_error or confirm_error),
                           active_nav="models.index"), status


@bp.get("/drafts/<int:draft_id>")
@require_roles(OWNER_ROLES)
def draft(draft_id: int):
    return _draft_page(draft_id)


@bp.get("/drafts/<int:draft_id>/edit")
@require_roles(OWNER_ROLES)
def edit(draft_id: int):
    with db().transaction() as session:
        found = service.get_draft(session, current_user, draft_id)
    return render_template("models/edit.html", draft=found, forms=sorted(found.forms or {}),
                           roles=_roles_for(found.process_id),
                           name=model_validation.process_name(found.process_id),
                           properties=diagram_elements.PACE_PROPERTIES, active_nav="models.index")


@bp.get("/drafts/<int:draft_id>.bpmn")
@require_roles(OWNER_ROLES)
def draft_bpmn(draft_id: int):
    with db().transaction() as session:
        found = service.get_draft(session, current_user, draft_id, open_only=False)
    if request.args.get("view"):
        return Response(found.bpmn_xml, mimetype="application/xml")
    return _attachment(found.bpmn_xml, "application/xml", f"{found.process_id}-draft{draft_id}.bpmn")


@bp.get("/drafts/<int:draft_id>.zip")
@require_roles(OWNER_ROLES)
def draft_zip(draft_id: int):
    with db().transaction() as session:
        found = service.get_draft(session, current_user, draft_id, open_only=False)
    body = model_drafts.bundle_zip(found.process_id, found.bpmn_xml, dict(found.forms or {}),
                                   found.bundle().documents)
    return _attachment(body, "application/zip", f"{found.process_id}-draft{draft_id}.zip")


@bp.post("/drafts/<int:draft_id>/edit")
@body_limits.allow_body(MAX_UPLOAD_BYTES)
@require_roles(OWNER_ROLES)
def save(draft_id: int):
    """The editor posts the diagram as a file (the modeler's XML, put in a file field by
    modeler.mjs), so large diagrams are not cut short by form-field limits."""
    try:
        with db().transaction() as session:
            service.save_diagram(session, current_user, draft_id, _uploaded_files(), _revision())
    except UploadRefused as exc:
        flash(f"The diagram was not saved: {exc}", "error")
        return redirect(url_for("models.edit", draft_id=draft_id))
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("models.edit", draft_id=draft_id))
    if request.form.get("action") == "check":
        return redirect(url_for("models.draft", draft_id=draft_id))
    flash("Draft saved.", "success")
    return redirect(url_for("models.edit", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>/properties", methods=["GET", "POST"])
@require_roles(OWNER_ROLES)
def properties(draft_id: int):
    """Every task's and event's PACE properties as one form: no diagram, no JavaScript."""
    if request.method == "POST":
        values: dict[str, dict[str, str]] = {}
        for key, value in request.form.items():
            match = re.fullmatch(r"p\.(.+)\.([A-Za-z]+)", key)
            if match and match.group(2) in diagram_elements.PACE_PROPERTIES:
                values.setdefault(match.group(1), {})[match.group(2)] = value
        try:
            with db().transaction() as session:
                changed = service.set_properties(session, current_user, draft_id, values,
                                                 _revision())
        except (UploadRefused, Conflict) as exc:
            flash(f"Nothing was saved: {exc}", "error")
            return redirect(url_for("models.properties", draft_id=draft_id))
        except InvalidData:
            abort(400)  # a field the form never offered
        flash(f"Properties saved ({changed} changed)." if changed else "Nothing was changed.",
              "success")
        return redirect(url_for("models.draft", draft_id=draft_id))
    with db().transaction() as session:
        found = service.get_draft(session, current_user, draft_id)
    return render_template("models/properties.html", draft=found,
                           rows=diagram_elements.element_rows(found.bpmn_xml),
                           forms=sorted(found.forms or {}),
                           properties=diagram_elements.PACE_PROPERTIES,
                           name=model_validation.process_name(found.process_id),
                           active_nav="models.index")


@bp.post("/drafts/<int:draft_id>/files")
@body_limits.allow_body(MAX_UPLOAD_BYTES)
@require_roles(OWNER_ROLES)
def add_files(draft_id: int):
    try:
        with db().transaction() as session:
            changed = service.add_files(session, current_user, draft_id, _uploaded_files())
    except UploadRefused as exc:
        return _draft_page(draft_id, files_error=f"Nothing was added: {exc}", status=exc.status)
    except Conflict as exc:
        flash(f"Nothing was added: {exc}", "error")
        return redirect(url_for("models.draft", draft_id=draft_id))
    flash(f"Added to the draft: {', '.join(changed)}.", "success")
    return redirect(url_for("models.draft", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/forms/remove")
@require_roles(OWNER_ROLES)
def remove_form(draft_id: int):
    name = request.form.get("name", "")
    with db().transaction() as session:
        service.remove_form(session, current_user, draft_id, name)
    flash(f"Removed {name} from the draft.", "success")
    return redirect(url_for("models.draft", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/discard")
@require_roles(OWNER_ROLES)
def discard(draft_id: int):
    with db().transaction() as session:
        process_id = service.discard_draft(session, current_user, draft_id).process_id
    flash("Draft discarded. Nothing was deployed.", "success")
    return redirect(url_for("models.process", process_id=process_id))


@bp.get("/drafts/<int:draft_id>/changes")
@require_roles(OWNER_ROLES)
def changes(draft_id: int):
    with db().transaction() as session:
        found = service.draft_changes(session, db().runtime, current_user, draft_id)
    return render_template("models/changes.html", draft=found.draft, latest=found.latest,
                           report=found.report, diff=found.diff,
                           markers=diagram_elements.markers(found.diff) if found.diff else {},
                           name=model_validation.process_name(found.draft.process_id),
                           active_nav="models.index")


@bp.post("/drafts/<int:draft_id>/deploy")
@require_roles(OWNER_ROLES)
def deploy(draft_id: int):
    reason = request.form.get("reason") or ""
    cycle_text = request.form.get("pdsa_cycle", "").strip()
    form = {"reason": reason.strip(), "pdsa_cycle": cycle_text,
            "confirm": request.form.get("confirm", "")}
    if form["confirm"] != "yes":
        return _draft_page(draft_id, form=form, status=400, confirm_error=CONFIRM_DEPLOY)
    if cycle_text and not cycle_text.isdigit():
        return _draft_page(draft_id, form=form, status=400,
                           deploy_error=f"There is no PDSA cycle {cycle_text}: choose another, "
                                        "or none.")
    try:
        with db().transaction() as session:
            done = deployment.deploy_draft(session, db().runtime, current_user, draft_id, reason,
                                        int(cycle_text) if cycle_text else None, _council())
            process_id, version = done.model.process_id, done.model.version
    except InvalidData as exc:
        return _draft_page(draft_id, form=form, status=400, deploy_error=_message(exc))
    if not done.created:
        return _draft_page(draft_id, form=form, status=409,
                           deploy_error=f"This draft is identical to version {version}, so there "
                                        "is nothing to deploy.")
    flash(f"Version {version} deployed. Children who start from now on follow it; children "
          "already on the process stay on their version until you move them.", "success")
    return redirect(url_for("models.version", process_id=process_id, version=version))


CONFIRM_DEPLOY = ("Tick the box to confirm you have checked what changes: children who start "
                  "from now on follow the new version.")
