"""Process models: versions, drafts, validation, changes, deployment and migration.

Process owners change a process here: copy a version into a draft (edit it with the bpmn-js
modeler or the properties form) or upload one made in Camunda Modeler or SpiffArena, check
it, see what changes, deploy it as the next version with a reason and a PDSA cycle, then
move running children to it. Service managers, auditors and administrators can read the
versions (and download them); only process owners change anything or see the children a
migration would move (by reference, not by name).
"""
from __future__ import annotations

import re

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_login import current_user
from sqlalchemy import func, select

from engine import registry
from engine.errors import Conflict, NotFound
from engine.models import ProcessModel
from workflows import aims, model_changes, model_drafts, profiles
from workflows.model_drafts import MAX_UPLOAD_BYTES, ModelDraft, UploadRefused

from .access import require_roles
from .database import db

bp = Blueprint("models", __name__, url_prefix="/models")
OWNER_ROLES = frozenset({"process_owner"})
READ_ROLES = frozenset({"process_owner", "service_manager", "auditor", "admin"})
MAX_REASON = 500


def _council() -> str:
    return current_app.config.get("PACE_COUNCIL", aims.DEFAULT_COUNCIL)


def _versions(session, process_id: str) -> list[ProcessModel]:
    found = list(session.scalars(select(ProcessModel).where(ProcessModel.process_id == process_id)
                                 .order_by(ProcessModel.version.desc())))
    if not found:
        abort(404)
    return found


def _version(session, process_id: str, version: int) -> ProcessModel:
    model = session.scalars(select(ProcessModel).where(ProcessModel.process_id == process_id,
                                                       ProcessModel.version == version)).first()
    if model is None:
        abort(404)
    return model


def _draft(session, draft_id: int, *, open_only: bool = True) -> ModelDraft:
    try:
        return model_drafts.get(session, draft_id, open_only=open_only)
    except NotFound:
        abort(404)


def _ctx(process_id: str):
    return model_changes.validation_context(db().runtime, process_id)


def _roles_for(process_id: str) -> dict[str, str]:
    profile = profiles.for_process(process_id)
    return dict(profile.roles) if profile else profiles.role_labels()


# -- reading --------------------------------------------------------------------------------
@bp.get("")
@require_roles(READ_ROLES)
def index():
    with db().transaction() as session:
        latest = session.execute(select(ProcessModel.process_id, func.max(ProcessModel.version))
                                 .group_by(ProcessModel.process_id)).all()
        processes = []
        for process_id, version in sorted(latest):
            model = _version(session, process_id, version)
            counts = model_changes.running_counts(session, process_id)
            processes.append({"id": process_id, "name": model_changes.process_name(process_id, model.name),
                              "latest": model, "running": sum(counts.values()),
                              "on_latest": counts.get(version, 0),
                              "drafts": len(model_drafts.open_drafts(session, process_id))})
    return render_template("models/index.html", processes=processes,
                           can_edit=current_user.has_any(OWNER_ROLES))


@bp.get("/<process_id>")
@require_roles(READ_ROLES)
def process(process_id: str):
    with db().transaction() as session:
        versions = _versions(session, process_id)
        counts = model_changes.running_counts(session, process_id)
        cycles = model_changes.cycles_by_version(session, process_id, versions)
        drafts = model_drafts.open_drafts(session, process_id) \
            if current_user.has_any(OWNER_ROLES) else []
    return render_template("models/process.html", process_id=process_id, versions=versions,
                           name=model_changes.process_name(process_id, versions[0].name),
                           counts=counts, cycles=cycles, drafts=drafts,
                           can_edit=current_user.has_any(OWNER_ROLES), active_nav="models.index")


@bp.get("/<process_id>/versions/<int:version>")
@require_roles(READ_ROLES)
def version(process_id: str, version: int):
    with db().transaction() as session:
        model = _version(session, process_id, version)
        latest = registry.latest(session, process_id)
        cycles = model_changes.cycles_by_version(session, process_id, [model]).get(version, [])
        running = model_changes.running_counts(session, process_id)
    return render_template("models/version.html", model=model, latest=latest, cycles=cycles,
                           running=running.get(version, 0), others=sum(running.values()) -
                           running.get(version, 0), rows=model_changes.element_rows(model.bpmn_xml),
                           roles=_roles_for(process_id),
                           name=model_changes.process_name(process_id, model.name),
                           can_edit=current_user.has_any(OWNER_ROLES), active_nav="models.index")


def _attachment(body, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/<process_id>/versions/<int:version>.bpmn")
@require_roles(READ_ROLES)
def download_bpmn(process_id: str, version: int):
    with db().transaction() as session:
        model = _version(session, process_id, version)
    if request.args.get("view"):  # for the diagram viewer on the page
        return Response(model.bpmn_xml, mimetype="application/xml")
    return _attachment(model.bpmn_xml, "application/xml", f"{process_id}-v{version}.bpmn")


@bp.get("/<process_id>/versions/<int:version>.zip")
@require_roles(READ_ROLES)
def download_zip(process_id: str, version: int):
    with db().transaction() as session:
        model = _version(session, process_id, version)
    body = model_drafts.bundle_zip(process_id, model.bpmn_xml, dict(model.forms))
    return _attachment(body, "application/zip", f"{process_id}-v{version}.zip")


# -- drafts ---------------------------------------------------------------------------------
@bp.post("/<process_id>/drafts")
@require_roles(OWNER_ROLES)
def new_draft(process_id: str):
    wanted = request.form.get("version", "")
    with db().transaction() as session:
        versions = _versions(session, process_id)
        model = next((m for m in versions if str(m.version) == wanted), versions[0])
        draft = model_drafts.copy_version(session, model, current_user.username)
        draft_id = draft.id
    flash(f"Draft started from version {model.version}. Nothing changes for anyone until you "
          "deploy it.", "success")
    return redirect(url_for("models.edit", draft_id=draft_id))


def _uploaded_files() -> list[tuple[str, bytes]]:
    if (request.content_length or 0) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise UploadRefused(f"The upload is {request.content_length / (1024 * 1024):.0f} MB; the "
                            f"limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB for a diagram and "
                            "its forms together. Nothing was saved.")
    files = [f for f in request.files.getlist("files") if f.filename]
    if not files:
        raise UploadRefused("Choose the diagram (.bpmn) and its forms (.json), or a .zip of them.")
    return [(f.filename, f.stream.read(MAX_UPLOAD_BYTES + 1)) for f in files]


def _upload_page(process_id: str | None, error: str | None = None, status: int = 200):
    return render_template("models/upload.html", process_id=process_id, error=error,
                           name=model_changes.process_name(process_id) if process_id else None,
                           limit_mb=MAX_UPLOAD_BYTES // (1024 * 1024), page_has_errors=bool(error),
                           active_nav="models.index"), status


@bp.route("/upload", methods=["GET", "POST"], defaults={"process_id": None})
@bp.route("/<process_id>/upload", methods=["GET", "POST"])
@require_roles(OWNER_ROLES)
def upload(process_id: str | None):
    if process_id is not None:
        with db().transaction() as session:
            _versions(session, process_id)
    if request.method == "GET":
        return _upload_page(process_id)
    try:
        upload = model_drafts.read_upload(_uploaded_files())
        if upload.bpmn_xml is None:
            raise UploadRefused("The upload has no diagram: include the .bpmn file.")
        target = process_id
        if target is None:
            if len(upload.process_ids) != 1 or not model_drafts.PROCESS_ID.match(upload.process_ids[0]) \
                    or upload.process_ids[0] in ("upload", "drafts"):
                raise UploadRefused("The diagram must hold exactly one executable process with an id "
                                    "of letters, digits and '_' (tick 'Executable' on the process "
                                    "in the modeler).")
            target = upload.process_ids[0]
    except UploadRefused as exc:
        status = 413 if "limit is" in str(exc) or "larger than" in str(exc) else 400
        return _upload_page(process_id, str(exc), status)
    with db().transaction() as session:
        latest = registry.latest(session, target)
        draft = model_drafts.create(session, target, upload.bpmn_xml, upload.forms or {},
                                    current_user.username, source="upload",
                                    base_version=latest.version if latest else None,
                                    note=(request.form.get("note") or "Uploaded diagram").strip())
        draft_id = draft.id
    flash("Uploaded as a draft. Check the problems listed below, if any, then deploy.", "success")
    return redirect(url_for("models.draft", draft_id=draft_id))


def _draft_page(draft: ModelDraft, report, latest, *, deploy_error: str | None = None,
                form=None, status: int = 200):
    with db().transaction() as session:
        choices = model_changes.pdsa_choices(session, _council())
    return render_template("models/draft.html", draft=draft, report=report, latest=latest,
                           name=model_changes.process_name(draft.process_id),
                           rows=model_changes.element_rows(draft.bpmn_xml),
                           pdsa_choices=choices, deploy_error=deploy_error, form=form or {},
                           page_has_errors=bool(deploy_error), active_nav="models.index"), status


@bp.get("/drafts/<int:draft_id>")
@require_roles(OWNER_ROLES)
def draft(draft_id: int):
    with db().transaction() as session:
        found = _draft(session, draft_id, open_only=False)
        latest = registry.latest(session, found.process_id)
    if found.status != "open":
        return render_template("models/draft_closed.html", draft=found, latest=latest,
                               active_nav="models.index")
    report = model_changes.validate(found.bundle(), _ctx(found.process_id))
    return _draft_page(found, report, latest)


@bp.get("/drafts/<int:draft_id>/edit")
@require_roles(OWNER_ROLES)
def edit(draft_id: int):
    with db().transaction() as session:
        found = _draft(session, draft_id)
    return render_template("models/edit.html", draft=found, forms=sorted(found.forms or {}),
                           roles=_roles_for(found.process_id),
                           name=model_changes.process_name(found.process_id),
                           properties=model_changes.PACE_PROPERTIES, active_nav="models.index")


@bp.get("/drafts/<int:draft_id>.bpmn")
@require_roles(OWNER_ROLES)
def draft_bpmn(draft_id: int):
    with db().transaction() as session:
        found = _draft(session, draft_id, open_only=False)
    if request.args.get("view"):
        return Response(found.bpmn_xml, mimetype="application/xml")
    return _attachment(found.bpmn_xml, "application/xml", f"{found.process_id}-draft{draft_id}.bpmn")


@bp.get("/drafts/<int:draft_id>.zip")
@require_roles(OWNER_ROLES)
def draft_zip(draft_id: int):
    with db().transaction() as session:
        found = _draft(session, draft_id, open_only=False)
    body = model_drafts.bundle_zip(found.process_id, found.bpmn_xml, dict(found.forms or {}))
    return _attachment(body, "application/zip", f"{found.process_id}-draft{draft_id}.zip")


def _revision() -> int | None:
    text = request.form.get("revision", "")
    return int(text) if text.isdigit() else None


@bp.post("/drafts/<int:draft_id>/edit")
@require_roles(OWNER_ROLES)
def save(draft_id: int):
    """The editor posts the diagram as a file (the modeler's XML, put in a file field by
    modeler.mjs), so large diagrams are not cut short by form-field limits."""
    check = request.form.get("action") == "check"
    try:
        files = _uploaded_files()
        upload = model_drafts.read_upload(files)
        if upload.bpmn_xml is None or upload.forms:
            raise UploadRefused("The editor sends one diagram; nothing else can be saved here.")
        with db().transaction() as session:
            found = _draft(session, draft_id)
            model_drafts.save_diagram(session, found, upload.bpmn_xml, current_user.username,
                                      _revision())
    except UploadRefused as exc:
        flash(f"The diagram was not saved: {exc}", "error")
        return redirect(url_for("models.edit", draft_id=draft_id))
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("models.edit", draft_id=draft_id))
    if check:
        return redirect(url_for("models.draft", draft_id=draft_id))
    flash("Draft saved.", "success")
    return redirect(url_for("models.edit", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>/properties", methods=["GET", "POST"])
@require_roles(OWNER_ROLES)
def properties(draft_id: int):
    """Every task's and event's PACE properties as one form: no diagram, no JavaScript."""
    with db().transaction() as session:
        found = _draft(session, draft_id)
        if request.method == "POST":
            rows = {r.element_id: r for r in model_changes.element_rows(found.bpmn_xml)}
            changes = {}
            for key, value in request.form.items():
                match = re.fullmatch(r"p\.(.+)\.([A-Za-z]+)", key)
                if not match or match.group(2) not in model_changes.PACE_PROPERTIES:
                    continue
                element_id, name = match.groups()
                if element_id not in rows:
                    abort(400)
                value = value.strip()[:500]
                if rows[element_id].properties.get(name, "") != value:
                    changes.setdefault(element_id, {})[name] = value
            if changes:
                try:
                    xml = model_changes.set_properties(found.bpmn_xml, changes)
                    model_drafts.save_diagram(session, found, xml, current_user.username,
                                              _revision())
                except (UploadRefused, Conflict) as exc:
                    flash(f"Nothing was saved: {exc}", "error")
                    return redirect(url_for("models.properties", draft_id=draft_id))
            flash(f"Properties saved ({sum(len(v) for v in changes.values())} changed)."
                  if changes else "Nothing was changed.", "success")
            return redirect(url_for("models.draft", draft_id=draft_id))
    return render_template("models/properties.html", draft=found,
                           rows=model_changes.element_rows(found.bpmn_xml),
                           forms=sorted(found.forms or {}),
                           properties=model_changes.PACE_PROPERTIES,
                           name=model_changes.process_name(found.process_id),
                           active_nav="models.index")


@bp.post("/drafts/<int:draft_id>/files")
@require_roles(OWNER_ROLES)
def add_files(draft_id: int):
    try:
        upload = model_drafts.read_upload(_uploaded_files())
        with db().transaction() as session:
            found = _draft(session, draft_id)
            changed = model_drafts.add_files(session, found, upload, current_user.username)
    except (UploadRefused, Conflict) as exc:
        flash(f"Nothing was added: {exc}", "error")
        return redirect(url_for("models.draft", draft_id=draft_id))
    flash(f"Added to the draft: {', '.join(changed)}.", "success")
    return redirect(url_for("models.draft", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/forms/remove")
@require_roles(OWNER_ROLES)
def remove_form(draft_id: int):
    name = request.form.get("name", "")
    try:
        with db().transaction() as session:
            model_drafts.remove_form(session, _draft(session, draft_id), name, current_user.username)
    except NotFound:
        abort(404)
    flash(f"Removed {name} from the draft.", "success")
    return redirect(url_for("models.draft", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/discard")
@require_roles(OWNER_ROLES)
def discard(draft_id: int):
    with db().transaction() as session:
        found = _draft(session, draft_id)
        model_drafts.discard(session, found, current_user.username)
        process_id = found.process_id
    flash("Draft discarded. Nothing was deployed.", "success")
    return redirect(url_for("models.process", process_id=process_id))


@bp.get("/drafts/<int:draft_id>/changes")
@require_roles(OWNER_ROLES)
def changes(draft_id: int):
    with db().transaction() as session:
        found = _draft(session, draft_id)
        latest = registry.latest(session, found.process_id)
    report = model_changes.validate(found.bundle(), _ctx(found.process_id))
    diff = model_changes.compare(latest, report) if report.ok and latest else None
    return render_template("models/changes.html", draft=found, latest=latest, report=report,
                           diff=diff, markers=model_changes.markers(diff) if diff else {},
                           name=model_changes.process_name(found.process_id),
                           active_nav="models.index")


@bp.post("/drafts/<int:draft_id>/deploy")
@require_roles(OWNER_ROLES)
def deploy(draft_id: int):
    reason = (request.form.get("reason") or "").strip()
    cycle_text = request.form.get("pdsa_cycle", "")
    with db().transaction() as session:
        found = _draft(session, draft_id)
        latest = registry.latest(session, found.process_id)
    report = model_changes.validate(found.bundle(), _ctx(found.process_id))
    form = {"reason": reason, "pdsa_cycle": cycle_text}
    if not report.ok:
        return _draft_page(found, report, latest, form=form, status=400,
                           deploy_error="Correct the problems listed before deploying.")
    if not reason:
        return _draft_page(found, report, latest, form=form, status=400,
                           deploy_error="Enter why this version is being deployed")
    if len(reason) > MAX_REASON:
        return _draft_page(found, report, latest, form=form, status=400,
                           deploy_error=f"The reason must be {MAX_REASON} characters or fewer")
    cycle_id = int(cycle_text) if cycle_text.isdigit() else None
    try:
        with db().transaction() as session:
            found = _draft(session, draft_id)
            model, created = model_changes.deploy(session, found.bundle(), _ctx(found.process_id),
                                                  current_user.username, reason, cycle_id,
                                                  _council())
            if created:
                model_drafts.mark_deployed(session, found, model, current_user.username)
            process_id, version = model.process_id, model.version
    except NotFound as exc:
        return _draft_page(found, report, latest, form=form, status=400, deploy_error=str(exc))
    except registry.InvalidModel:
        return _draft_page(found, report, latest, form=form, status=400,
                           deploy_error="Correct the problems listed before deploying.")
    if not created:
        return _draft_page(found, report, latest, form=form, status=409,
                           deploy_error=f"This draft is identical to version {version}, so there "
                                        "is nothing to deploy.")
    flash(f"Version {version} deployed. Children who start from now on follow it; children "
          "already on the process stay on their version until you move them.", "success")
    return redirect(url_for("models.version", process_id=process_id, version=version))


# -- migration ------------------------------------------------------------------------------
@bp.route("/<process_id>/versions/<int:version>/migrate", methods=["GET", "POST"])
@require_roles(OWNER_ROLES)
def migrate(process_id: str, version: int):
    with db().transaction() as session:
        target = _version(session, process_id, version)
        candidates = model_changes.plan(session, db().runtime, target)
    if request.method == "POST":
        movable = {c.instance_id for c in candidates if c.can_move}
        if request.form.get("action") == "all":
            chosen = [c.instance_id for c in candidates if c.can_move]
        else:
            picked = {int(v) for v in request.form.getlist("instance") if v.isdigit()}
            chosen = [c.instance_id for c in candidates if c.instance_id in picked]
        if not chosen:
            flash("Choose at least one child who can move." if movable else
                  "No child can move to this version.", "error")
            return redirect(url_for("models.migrate", process_id=process_id, version=version))
        outcomes = model_changes.migrate_each(db(), target.id, chosen, current_user.username)
        moved = [o.reference for o in outcomes if o.moved]
        if moved:
            flash(f"Moved to version {version}: {', '.join(moved)}. Their open tasks and due "
                  "dates now follow this version.", "success")
        for outcome in outcomes:
            if not outcome.moved:
                flash(f"{outcome.reference} was not moved: {outcome.message}", "error")
        return redirect(url_for("models.migrate", process_id=process_id, version=version))
    return render_template("models/migrate.html", target=target, candidates=candidates,
                           name=model_changes.process_name(process_id, target.name),
                           movable=sum(1 for c in candidates if c.can_move),
                           active_nav="models.index")
