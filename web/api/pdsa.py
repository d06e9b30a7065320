"""PDSA cycles through /api/v1/pdsa-cycles: the same service as the PDSA pages
(``workflows.services.pdsa_cycles``), so a cycle recorded here is refused, audited and
annotates the run charts exactly as one recorded in the browser; this module only
translates JSON in and out.

Every measures role reads the cycles (they annotate the run charts); process owners and
service managers record and edit them. The cycles are this council's (``PACE_COUNCIL``).
"""
from __future__ import annotations

from flask_smorest import Blueprint

from web.shared.database import council, db
from workflows.policy import MEASURE_ROLES, PDSA_ROLES
from workflows.services import pdsa_cycles
from workflows.measures.tables import PdsaCycle

from . import auth
from .errors import documented
from .pdsa_schemas import (NewPdsaCycleSchema, PdsaArgs, PdsaCycleChangeSchema,
                           PdsaCycleListSchema, PdsaCycleSchema)

bp = Blueprint("pdsa_api", __name__, url_prefix="/api/v1",
               description="PDSA cycles: the tests of change that annotate the aims' run "
                           "charts.")
CYCLE = "/pdsa-cycles/<int(max=2147483647):cycle_id>"
auth.protect(bp)


def _cycle(cycle: PdsaCycle) -> dict:
    return {name: getattr(cycle, name) for name in (
        "id", "aim", "change_idea", "cycle_number", "plan", "prediction", "start_date",
        "end_date", "what_happened", "study", "act", "process_id", "model_version",
        "created_by", "created_at", "updated_at")}


@bp.get("/pdsa-cycles")
@documented(bp, 403, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(PdsaArgs, location="query")
@bp.response(200, PdsaCycleListSchema)
def list_cycles(args):
    """The council's PDSA cycles by start date; `?aim=` for one aim's."""
    with db().transaction(read_only=True) as session:
        found = pdsa_cycles.cycles(session, auth.principal(), council(), args.get("aim"))
        return {"items": [_cycle(c) for c in found]}


@bp.post("/pdsa-cycles")
@documented(bp, 403, 422)
@auth.roles(PDSA_ROLES)
@bp.arguments(NewPdsaCycleSchema)
@bp.response(201, PdsaCycleSchema)
def record_cycle(body):
    """Record a PDSA cycle (process owners, service managers), as the PDSA page does.

    `model_version` names a deployed version of the diagram the aim is measured on (Aim 1:
    the CSO review loop; Aims 2 and 3: the permanence journey). Refused values are 422
    with the page's field names and messages. Audited (`pdsa_cycle_recorded`)."""
    with db().transaction() as session:
        return _cycle(pdsa_cycles.record(session, auth.principal(), council(), body))


@bp.get(CYCLE)
@documented(bp, 403, 404)
@auth.roles(MEASURE_ROLES)
@bp.response(200, PdsaCycleSchema)
def show_cycle(cycle_id: int):
    """One PDSA cycle."""
    with db().transaction(read_only=True) as session:
        return _cycle(pdsa_cycles.cycle(session, auth.principal(), council(), cycle_id))


@bp.put(CYCLE)
@documented(bp, 403, 404, 422)
@auth.roles(PDSA_ROLES)
@bp.arguments(PdsaCycleChangeSchema)
@bp.response(200, PdsaCycleSchema)
def change_cycle(body, cycle_id: int):
    """Change a PDSA cycle: send only the fields to change (e.g. what happened, the study
    and the act when the cycle ends); `null` clears `end_date`, `act` or `model_version`.
    Audited (`pdsa_cycle_updated`, with the old and new values)."""
    with db().transaction() as session:
        return _cycle(pdsa_cycles.edit(session, auth.principal(), council(), cycle_id, body))
