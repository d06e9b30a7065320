"""Moving running children to another version, and comparing two deployed versions: the
process owner's pages after a deploy, on the ``models`` blueprint (web/pages/process_models.py).
The per-child preview and the move are services (workflows/services/model_deployment.py)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine import csv_cells
from engine.errors import InvalidData
from workflows.policy import MODEL_READ_ROLES, OWNER_ROLES
from workflows.process_models import diagram_elements, migration_rows, model_validation
from workflows.services import model_deployment as deployment, process_models as service

from web.pages.process_models import _message, bp
from web.security.access import require_roles
from web.shared.database import db
from web.shared.downloads import attachment

CONFIRM_MOVE = ("Tick the box to confirm you have checked the children listed and how their "
                "due dates change.")


def _migrate_page(process_id: str, version: int, *, confirm_error: str | None = None,
                  chosen: set[int] | None = None, status: int = 200):
    with db().transaction() as session:
        plan = deployment.migration_plan(session, db().runtime, current_user, process_id, version)
    return render_template("models/migrate.html", target=plan.target, candidates=plan.candidates,
                           name=model_validation.process_name(process_id, plan.target.name),
                           movable=len(plan.movable), confirm_error=confirm_error,
                           chosen=chosen or set(), page_has_errors=bool(confirm_error),
                           active_nav="models.index"), status


@bp.route("/<process_id>/versions/<int:version>/migrate", methods=["GET", "POST"])
@require_roles(OWNER_ROLES)
def migrate(process_id: str, version: int):
    if request.method == "POST":
        chosen = None if request.form.get("action") == "all" else \
            [int(v) for v in request.form.getlist("instance") if v.isdigit()]
        if request.form.get("confirm") != "yes":
            return _migrate_page(process_id, version, confirm_error=CONFIRM_MOVE,
                                 chosen=set(chosen or ()), status=400)
        try:
            outcomes = deployment.migrate_children(db(), current_user, process_id, version,
                                                instance_ids=chosen)
        except InvalidData as exc:
            flash(_message(exc), "error")
            return redirect(url_for("models.migrate", process_id=process_id, version=version))
        moved = [o.reference for o in outcomes if o.moved]
        if moved:
            flash(f"Moved to version {version}: {', '.join(moved)}. Their open tasks and due "
                  "dates now follow this version.", "success")
        for outcome in outcomes:
            if not outcome.moved:
                flash(f"{outcome.reference} was not moved: {outcome.message}", "error")
        return redirect(url_for("models.migrate", process_id=process_id, version=version))
    return _migrate_page(process_id, version)


@bp.get("/<process_id>/versions/<int:version>/migrate.csv")
@require_roles(OWNER_ROLES)
def migrate_csv(process_id: str, version: int):
    """The dry run as a spreadsheet: one row per date change per child."""
    with db().transaction() as session:
        plan = deployment.migration_plan(session, db().runtime, current_user, process_id, version)
    rows = migration_rows.preview_rows(plan.candidates, version)
    return attachment(csv_cells.to_text(rows, migration_rows.HEADER), "text/csv",
                      f"{process_id}-v{version}-move-preview.csv")


@bp.get("/<process_id>/compare")
@require_roles(MODEL_READ_ROLES)
def compare(process_id: str):
    """Any two deployed versions side by side: what changed from one to the other."""
    with db().transaction() as session:
        history = service.process_history(session, current_user, process_id)
        numbers = [m.version for m in history.versions]
        older = _version_arg("from", numbers, numbers[1] if len(numbers) > 1 else numbers[0])
        newer = _version_arg("to", numbers, numbers[0])
        found = service.compare(session, db().runtime, current_user,
                                service.VersionRef(process_id, older),
                                service.VersionRef(process_id, newer))
    return render_template("models/compare.html", process_id=process_id, name=history.name,
                           numbers=numbers, older=older, newer=newer, diff=found.diff,
                           markers=diagram_elements.markers(found.diff),
                           active_nav="models.index")


def _version_arg(name: str, numbers: list[int], default: int) -> int:
    text = request.args.get(name, "")
    if not text:
        return default
    if not text.isdigit() or int(text) not in numbers:
        abort(404)
    return int(text)
