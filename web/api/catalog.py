"""Process-model versions and the PACE measures (Aims 1–3), read-only.

The measures are the same pure functions the Measures pages use (workflows/measures.py over
the milestone index), scoped as there: a team-scoped user gets their team's figures, a
service-wide user every team's or one team's. Figures only: no child is named here.
"""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import func, select

from engine import clock
from engine.models import ProcessInstance, ProcessModel, Team
from web import db
from workflows import aims as aim_settings
from workflows import measures, pdsa
from workflows.aims import AIMS
from workflows.measure_data import load_episodes

from . import auth
from .errors import documented, fail
from .me import MEASURE_ROLES
from .schemas import AimListSchema, AimSchema, MeasureArgs, ModelArgs, ProcessModelListSchema

bp = Blueprint("catalog", __name__, url_prefix="/api/v1",
               description="Deployed process-model versions and the PACE measures (Aims 1-3).")
auth.protect(bp)


@bp.get("/process-models")
@documented(bp)
@bp.arguments(ModelArgs, location="query")
@bp.response(200, ProcessModelListSchema)
def list_models(args):
    """Deployed process-model versions.

    Every version of every process (newest first) with how many running instances each
    has. Versions are immutable; new children start on the latest."""
    auth.principal()  # any signed-in role: versions carry no child's data
    with db().transaction() as session:
        query = select(ProcessModel).order_by(ProcessModel.process_id, ProcessModel.version.desc())
        if args.get("process_id"):
            query = query.where(ProcessModel.process_id == args["process_id"])
        rows = session.scalars(query).all()
        running = dict(session.execute(select(ProcessInstance.model_id, func.count()).where(
            ProcessInstance.status == "running").group_by(ProcessInstance.model_id)).all())
    newest: dict[str, int] = {}
    for row in rows:
        newest[row.process_id] = max(newest.get(row.process_id, 0), row.version)
    return {"items": [{"id": m.id, "process_id": m.process_id, "version": m.version,
                       "name": m.name, "content_hash": m.content_hash,
                       "deployed_by": m.deployed_by, "deployed_at": m.deployed_at,
                       "reason": m.reason or "", "pdsa_cycle_id": m.pdsa_cycle_id,
                       "latest": m.version == newest[m.process_id],
                       "running_instances": running.get(m.id, 0)} for m in rows]}


# -- measures ----------------------------------------------------------------------------------
def _teams(session, caller, wanted: str | None) -> tuple[str | None, tuple[str, ...] | None]:
    """(team shown, team filter) as the Measures pages decide it."""
    if not caller.all_teams:
        if wanted and wanted != caller.team:
            fail(403, "You see your own team's figures only.")
        return caller.team, (caller.team,)
    if not wanted:
        return None, None
    if session.get(Team, wanted) is None:
        fail(422, errors={"team": ["There is no team with this code."]})
    return wanted, (wanted,)


def _tally(tally: measures.Tally) -> dict:
    return {"on_time": tally.on_time, "late": tally.late, "overdue": tally.overdue,
            "pending": tally.pending, "ended": tally.ended, "decided": tally.decided,
            "due": tally.due, "pct_of_decided": tally.pct_of_decided,
            "pct_of_due": tally.pct_of_due, "pct_done": tally.pct_done}


def _aim(result: measures.AimResult, team: str | None) -> dict:
    s = result.settings
    return {"aim": s.aim, "title": s.title, "wording": s.wording,
            "definition": measures.DEFINITIONS[s.aim],
            "definitions_version": measures.DEFINITIONS_VERSION,
            "target_pct": float(s.target_pct), "threshold": s.threshold.text,
            "threshold_description": s.threshold.describe(),
            "population": s.population.describe(), "start_date": s.start_date,
            "end_date": s.end_date, "measured_on": result.measured_on, "team": team,
            "value": result.headline, "total": _tally(result.total),
            "cohorts": [{"month": c.month.strftime("%Y-%m"), "complete": c.complete,
                         "value": result.value(c.tally), "tally": _tally(c.tally)}
                        for c in result.cohorts],
            "left_out": len(result.left_out)}


def _measure(args, numbers) -> list[dict]:
    caller = auth.principal()
    council = current_app.config.get("PACE_COUNCIL", aim_settings.DEFAULT_COUNCIL)
    on = args.get("on") or clock.today()
    with db().transaction() as session:
        team, teams = _teams(session, caller, args.get("team"))
        settings = aim_settings.load(session, council)
        episodes: dict[str, list] = {}
        found = []
        for aim in numbers:
            process = pdsa.AIM_PROCESS[aim]
            if process not in episodes:
                codes = sorted({c for a in AIMS if pdsa.AIM_PROCESS[a] == process
                                for c in measures.AIM_CODES[a]})
                episodes[process] = load_episodes(session, process, codes=codes, teams=teams)
            found.append(_aim(measures.measure(episodes[process], settings[aim], on), team))
    return found


@bp.get("/measures/aims")
@documented(bp, 403, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(MeasureArgs, location="query")
@bp.response(200, AimListSchema)
def list_aims(args):
    """Aims 1–3 as at a date: settings, totals and figures by cohort month."""
    return {"items": _measure(args, AIMS)}


@bp.get("/measures/aims/<int(max=2147483647):aim>")
@documented(bp, 403, 404, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(MeasureArgs, location="query")
@bp.response(200, AimSchema)
def show_aim(args, aim: int):
    """One aim (1, 2 or 3)."""
    if aim not in AIMS:
        fail(404)
    return _measure(args, (aim,))[0]
