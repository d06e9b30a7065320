"""The PACE measures through /api/v1/measures/…, and the aims' settings.

The same computations as the Measures pages (workflows/measures/reports.py over the pure
functions in workflows/), scoped the same way: a team-scoped user gets their team's
figures (asking for another team is 403), a service-wide user every team's or one team's.
Figures are for every measures role; the lists that name children (an aim's drill-down and
the per-child forecast) are for the roles that also work with children's records, as on
the pages. An aim's settings are read by every measures role and changed by process owners
and administrators, through the settings page's own service
(``workflows.services.aim_settings``).
"""
from __future__ import annotations

from collections import Counter
from datetime import date

from flask import Response
from flask_smorest import Blueprint

from engine import clock, csv_cells
from engine.models import Team
from web.shared.database import council, db
from workflows.measures import (aim_statuses, early_endings, forecast,
                                reports as measure_reports, aim_results as measures,
                                publication, run_charts)
from workflows.measures import aggregate as aggregates
from workflows.measures.aims import AIMS, AimSettings
from workflows.policy import (DRILL_DOWN_ROLES, FORECAST_ROLES, MEASURE_ROLES,
                              SETTINGS_ROLES)
from workflows.services import aim_settings, measure_exports

from . import auth
from .errors import documented, fail
from .measure_schemas import (AggregateArgs, AimArgs, AggregateSchema, AimResultListSchema,
                              AimResultSchema, DefinitionListSchema, DrillArgs,
                              DrillDownSchema, ForecastArgs, ForecastChildArgs,
                              ForecastChildrenSchema, ForecastSummarySchema, RunChartArgs,
                              RunChartSchema, StageArgs, StageDelaysSchema,
                              SurvivalArgs, SurvivalSchema)
from .pdsa_schemas import AimSettingsChangeSchema, AimSettingsSchema

bp = Blueprint("measures_api", __name__, url_prefix="/api/v1",
               description="The PACE measures: Aims 1-3 with drill-downs and run charts, stage "
                           "delays, time to decision (Kaplan-Meier) and the breach forecast.")
auth.protect(bp)


def _scope(session, args) -> tuple[str | None, tuple[str, ...] | None, date]:
    """(team shown, team filter, measurement date) as the Measures pages decide them."""
    caller = auth.principal()
    wanted = args.get("team")
    on = args.get("on") or clock.today()
    if not caller.all_teams:
        if wanted and wanted != caller.team:
            fail(403, "You see your own team's figures only.")
        return caller.team, (caller.team,), on
    if not wanted:
        return None, None, on
    if session.get(Team, wanted) is None:
        fail(422, errors={"team": ["There is no team with this code."]})
    return wanted, (wanted,), on


def _aim_or_404(aim: int) -> None:
    if aim not in AIMS:
        fail(404)


# -- aims ------------------------------------------------------------------------------------
def _figures(result: aim_statuses.AimResult, tally: aim_statuses.Tally) -> dict:
    return {"on_time": tally.on_time, "late": tally.late, "overdue": tally.overdue,
            "pending": tally.pending, "ended": tally.ended, "decided": tally.decided,
            "due": tally.due, "pct_of_decided": tally.pct_of_decided,
            "pct_of_due": tally.pct_of_due, "pct_done": tally.pct_done,
            "numerator": tally.decided if result.aim == 1 else tally.on_time,
            "excluded": tally.pending + tally.ended}


def _early(endings: early_endings.EarlyEndings | None, publication: bool) -> dict | None:
    if endings is None:
        return None
    table = early_endings.published(endings, publication)
    return {"reasons": [{"code": code, "label": label, "children": n}
                        for code, label, n in table.reasons],
            "total": table.total, "left_the_aim": table.left_the_aim,
            "publication": publication, "withheld": table.withheld}


def _aim(result: aim_statuses.AimResult, team: str | None, early: dict | None = None) -> dict:
    s = result.settings
    return {"aim": s.aim, "title": s.title, "wording": s.wording,
            "definition": measures.DEFINITIONS[s.aim],
            "definitions_version": measures.DEFINITIONS_VERSION,
            "target_pct": float(s.target_pct), "threshold": s.threshold.text,
            "threshold_description": s.threshold.describe(),
            "population": s.population.describe(), "start_date": s.start_date,
            "end_date": s.end_date, "measured_on": result.measured_on, "team": team,
            "value": result.headline, "total": _figures(result, result.total),
            "cohorts": [{"month": c.month.strftime("%Y-%m"), "complete": c.complete,
                         "value": result.value(c.tally), "tally": _figures(result, c.tally)}
                        for c in result.cohorts],
            "left_out": len(result.left_out),
            "left_out_reasons": dict(result.left_out_reasons()),
            "outcome_mix": [{"code": code, "label": label, "count": count, "pct": share}
                            for code, label, count, share in result.outcome_mix()]
            if result.aim == 1 else [], "early_endings": early}


def _aims(args, numbers) -> list[dict]:
    """The aims as the API shows them, with each aim's early endings (Aims 1-2)."""
    with db().transaction(read_only=True) as session:
        team, teams, on = _scope(session, args)
        results = measure_reports.aim_results(session, council(), teams, on, numbers)
        return [_aim(results[a], team, _early(
            early_endings.for_aim(session, results[a], teams)
            if a in early_endings.AIMS else None, args["publication"])) for a in numbers]


def _results(args, numbers,
             listed: bool = False) -> tuple[str | None, dict[int, aim_statuses.AimResult]]:
    with db().transaction(read_only=True) as session:
        team, teams, on = _scope(session, args)
        return team, measure_reports.aim_results(session, council(), teams, on, numbers,
                                                 listed=listed)


@bp.get("/measures/aims")
@documented(bp, 403, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(AimArgs, location="query")
@bp.response(200, AimResultListSchema)
def list_aims(args):
    """Aims 1–3 as at a date: settings, totals and figures by cohort month.

    Each cohort month (of the deadline) gives the numerator, both denominators (decided;
    decided plus overdue undecided), those excluded (deadline ahead or episode ended) and
    the percentages; Aim 1 also the outcome mix of its reviews; Aims 1-2 the children
    whose journey ended early, by reason (`?publication=true`: small numbers withheld)."""
    return {"items": _aims(args, AIMS)}


@bp.get("/measures/aims/<int(max=2147483647):aim>")
@documented(bp, 403, 404, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(AimArgs, location="query")
@bp.response(200, AimResultSchema)
def show_aim(args, aim: int):
    """One aim (1, 2 or 3)."""
    _aim_or_404(aim)
    return _aims(args, (aim,))[0]


def _child(child) -> dict:
    return {"id": child.id, "reference": child.reference, "name": child.name, "team": child.team}


@bp.get("/measures/aims/<int(max=2147483647):aim>/children")
@documented(bp, 403, 404, 422)
@auth.roles(DRILL_DOWN_ROLES)
@bp.arguments(DrillArgs, location="query")
@bp.response(200, DrillDownSchema)
def aim_children(args, aim: int):
    """The children behind an aim's figures (in your team's scope).

    Filter by `status` and cohort `month`; `status=left_out` lists the children outside
    the aim's population with the reason. A month with no cohort is 404."""
    _aim_or_404(aim)
    team, results = _results(args, (aim,), listed=True)
    result = results[aim]
    status, month = args.get("status"), args.get("month")
    entries, left_out = [], []
    if status == "left_out":
        left_out = result.left_out
    else:
        tally = result.total
        if month:
            tally = next((c.tally for c in result.cohorts
                          if c.month.strftime("%Y-%m") == month), None)
            if tally is None:
                fail(404)
        entries = tally.of(status) if status else tally.entries
    return {"aim": aim, "measured_on": result.measured_on, "team": team,
            "items": [{"child": _child(e.child), "instance_id": e.instance_id,
                       "cohort": e.cohort.strftime("%Y-%m"), "clock_started": e.anchor,
                       "deadline": e.deadline,
                       "done_on": e.done_on if e.done_on and e.done_on <= result.measured_on
                       else None, "status": e.status, "detail": e.detail,
                       "days_past_deadline": e.days_past_deadline(result.measured_on)}
                      for e in entries],
            "left_out": [{"child": _child(lo.child), "instance_id": lo.instance_id,
                          "reason": lo.reason} for lo in left_out]}


def _baseline(args) -> tuple[date, date] | None:
    if not args.get("baseline_from"):
        return None
    return (date.fromisoformat(args["baseline_from"] + "-01"),
            date.fromisoformat(args["baseline_to"] + "-01"))


def _run_chart(chart: run_charts.RunChart, result: aim_statuses.AimResult, team, denominator) -> dict:
    months = [p.month.strftime("%Y-%m") for p in chart.points]
    return {"aim": result.aim, "title": result.settings.title, "measured_on": result.measured_on,
            "team": team, "denominator": denominator, "median": chart.median,
            "provisional": chart.provisional, "target": chart.target, "useful": chart.useful,
            "runs": chart.runs,
            "runs_limits": {"lower": chart.runs_limits[0], "upper": chart.runs_limits[1]}
            if chart.runs_limits else None,
            "points": [{"month": months[i], "value": p.value, "numerator": p.numerator,
                        "denominator": p.denominator, "in_baseline": i in chart.baseline,
                        "signals": [s.rule for s in chart.signals_at(i)]}
                       for i, p in enumerate(chart.points)],
            "signals": [{"rule": s.rule, "label": s.label,
                         "months": [months[i] for i in s.indices if i < len(months)],
                         "direction": s.direction, "note": s.note} for s in chart.signals],
            "annotations": [{"date": a.on, "kind": a.kind, "label": a.label}
                            for a in chart.annotations],
            "definitions_version": publication.definition("run_chart").version}


@bp.get("/measures/aims/<int(max=2147483647):aim>/run-chart")
@documented(bp, 403, 404, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(RunChartArgs, location="query")
@bp.response(200, RunChartSchema)
def aim_run_chart(args, aim: int):
    """An aim's run chart: monthly points, median, IHI signals, PDSA and version annotations.

    Complete cohort months only. The median is of the first 10 points, or of the baseline
    period `baseline_from`–`baseline_to` (YYYY-MM, both)."""
    _aim_or_404(aim)
    with db().transaction(read_only=True) as session:
        team, teams, on = _scope(session, args)
        result = measure_reports.aim_results(session, council(), teams, on, (aim,))[aim]
        chart = measure_reports.run_chart(session, council(), result, _baseline(args),
                                          args["denominator"])
    return _run_chart(chart, result, team, args["denominator"])


# -- an aim's settings --------------------------------------------------------------------------
def _settings(settings: AimSettings) -> dict:
    population = settings.population
    return {"aim": settings.aim, "title": settings.title, "council": settings.council,
            "wording": settings.wording, "target_pct": float(settings.target_pct),
            "threshold": settings.threshold.text,
            "threshold_description": settings.threshold.describe(),
            "max_age": population.max_age, "min_age": population.min_age,
            "teams": list(population.teams), "population": population.describe(),
            "start_date": settings.start_date, "end_date": settings.end_date}


@bp.get("/measures/aims/<int(max=2147483647):aim>/settings")
@documented(bp, 403, 404)
@auth.roles(MEASURE_ROLES)
@bp.response(200, AimSettingsSchema)
def show_aim_settings(aim: int):
    """An aim's settings for this council (`PACE_COUNCIL`): wording, target, threshold,
    population (ages at the clock's start, teams) and the aim's start and end dates."""
    with db().transaction(read_only=True) as session:
        found = aim_settings.aim_settings(session, auth.principal(), council(), aim)
    return _settings(found)


@bp.put("/measures/aims/<int(max=2147483647):aim>/settings")
@documented(bp, 403, 404, 422)
@auth.roles(SETTINGS_ROLES)
@bp.arguments(AimSettingsChangeSchema)
@bp.response(200, AimSettingsSchema)
def change_aim_settings(body, aim: int):
    """Change an aim's settings (process owners, administrators), as the settings page does.

    Send only the settings to change; the others keep their values, and `null` clears an
    optional one (`max_age`, `min_age`, `teams`, `start_date`, `end_date`). Refused values
    are 422 with the same field names and messages as the page. Audited
    (`aim_settings_changed`, with the old and new values)."""
    with db().transaction() as session:
        changed = aim_settings.change(session, auth.principal(), council(), aim, body)
    return _settings(changed)


# -- stage delays ------------------------------------------------------------------------------
def _stage(stat) -> dict:
    return {"start": stat.start_code, "end": stat.end_code, "label": stat.label, "n": stat.n,
            "median": stat.median, "p90": stat.p90}


@bp.get("/measures/stage-delays")
@documented(bp, 403, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(StageArgs, location="query")
@bp.response(200, StageDelaysSchema)
def stage_delays(args):
    """Median and 90th percentile days of each stage, overall and per diagram version.

    Compare two versions (`before`, `after`) or two date ranges of the stage's start
    (`from1`–`to1` with `from2`–`to2`)."""
    ranges = tuple(args[k] for k in ("from1", "to1", "from2", "to2")) \
        if args.get("from1") else None
    with db().transaction(read_only=True) as session:
        team, teams, on = _scope(session, args)
        report = measure_reports.stage_report(session, args["process"], teams, on,
                                              before=args.get("before"),
                                              after=args.get("after"), ranges=ranges)
    comparison = None
    if report.comparison is not None:
        comparison = {"label": report.compare_label, "stages": [
            {"before": _stage(c.before), "after": _stage(c.after),
             "median_change": c.median_change, "p90_change": c.p90_change}
            for c in report.comparison]}
    return {"process": report.process, "measured_on": on, "team": team,
            "overall": [_stage(s) for s in report.overall],
            "per_version": [{"version": v, "stages": [_stage(s) for s in stats]}
                            for v, stats in report.per_version.items()],
            "versions": report.versions, "comparison": comparison,
            "left_out_out_of_order": report.out_of_order,
            "definitions_version": publication.definition("stage_delays").version}


# -- survival ----------------------------------------------------------------------------------
@bp.get("/measures/survival")
@documented(bp, 403, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(SurvivalArgs, location="query")
@bp.response(200, SurvivalSchema)
def time_to_decision(args):
    """Time to the permanence decision as Kaplan–Meier curves, children still waiting censored.

    `clock`: recommendation (accommodation to the recommendation for permanence) or
    ratification (recommendation away from home to the ADM decision). `group`: none,
    version, or ranges (two ranges of the clock's start date); groups are compared with
    the log-rank test."""
    ranges = ((args["from1"], args["to1"]), (args["from2"], args["to2"])) \
        if args["group"] == "ranges" else ()
    with db().transaction(read_only=True) as session:
        team, teams, on = _scope(session, args)
        result = measure_reports.survival_report(session, council(), args["clock"], teams, on,
                                                 args["group"], ranges)
    comparison = result.comparison
    return {"clock": result.clock.code, "title": result.clock.title, "measured_on": on,
            "team": team, "threshold_days": result.threshold_days,
            "curves": [{"label": c.label, "children": c.n, "decided": c.decided,
                        "censored": c.censored, "median_days": c.median_days,
                        "pct_decided_by_threshold": c.decided_by(result.threshold_days)
                        if result.threshold_days else None,
                        "steps": [{"day": s.day, "at_risk": s.at_risk, "decided": s.decided,
                                   "censored": s.censored, "waiting_pct": 100 * s.waiting,
                                   "lower_pct": 100 * s.lower, "upper_pct": 100 * s.upper}
                                  for s in c.steps]} for c in result.curves],
            "log_rank": None if comparison is None else {
                "groups": list(comparison.groups), "statistic": comparison.statistic,
                "degrees_of_freedom": comparison.degrees_of_freedom,
                "p_value": comparison.p_value},
            "left_out_reasons": dict(Counter(lo.reason for lo in result.left_out)),
            "definitions_version": publication.definition("survival").version}


# -- forecast ----------------------------------------------------------------------------------
def _forecast(args) -> tuple[str | None, date, list[forecast.Forecast]]:
    clocks = (args["clock"],) if args.get("clock") else tuple(forecast.CLOCKS)
    with db().transaction(read_only=True) as session:
        team, teams, on = _scope(session, args)
        return team, on, measure_reports.forecast_report(session, council(), teams, on,
                                                         clocks)


@bp.get("/measures/forecast")
@documented(bp, 403, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(ForecastArgs, location="query")
@bp.response(200, ForecastSummarySchema)
def forecast_summary(args):
    """Open statutory clocks per team and clock: missed, forecast to be missed at the
    current pace, on track, or no pace known. Counts only."""
    team, on, items = _forecast(args)
    return {"measured_on": on, "team": team, "pace_window_days": forecast.WINDOW_DAYS,
            "teams": [row._asdict() for row in forecast.by_team(items)],
            "definitions_version": publication.definition("forecast").version}


@bp.get("/measures/forecast/children")
@documented(bp, 403, 422)
@auth.roles(FORECAST_ROLES)
@bp.arguments(ForecastChildArgs, location="query")
@bp.response(200, ForecastChildrenSchema)
def forecast_children(args):
    """Each child's open clocks with the projected date and slack, least slack first."""
    team, on, items = _forecast(args)
    if args.get("status"):
        items = [f for f in items if f.status == args["status"]]
    return {"measured_on": on, "team": team, "items": [
        {"child": _child(f.child), "instance_id": f.instance_id, "clock": f.clock,
         "clock_started": f.anchor, "deadline": f.deadline, "last_milestone": f.reached_code,
         "last_milestone_on": f.reached_on, "projected": f.projected,
         "slack_days": f.slack_days, "days_left": f.days_left, "status": f.status,
         "note": f.note} for f in items]}


# -- the national programme's aggregate ---------------------------------------------------------
def _aggregate(args):
    with db().transaction(read_only=True) as session:
        return measure_exports.aggregate(session, auth.principal(), council(),
                                         args.get("on") or clock.today())


@bp.get("/measures/aggregate")
@documented(bp, 403, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(AggregateArgs, location="query")
@bp.response(200, AggregateSchema)
def aggregate_export(args):
    """The national programme's aggregate export: each aim per cohort month for the whole
    council (numerator, denominator, percentage, target, diagram version, PDSA cycles),
    small numbers suppressed, no child named. Versioned format (`format_version`),
    documented in docs/measures.md; `/measures/aggregate.csv` gives the same rows as CSV.
    For the measures roles that see every team."""
    return aggregates.as_json(_aggregate(args))


@bp.get("/measures/aggregate.csv")
@documented(bp, 403, 422)
@auth.roles(MEASURE_ROLES)
@bp.arguments(AggregateArgs, location="query")
@bp.response(200, content_type="text/csv",
             description="The aggregate export as CSV (one header row, then a row per aim "
                         "and month)")
def aggregate_export_csv(args):
    """The aggregate export as CSV, the file `pace measures export --aggregate` writes."""
    found = _aggregate(args)
    name = f"pace-aggregate-{found.council}-{found.measured_on.isoformat()}.csv"
    return Response(csv_cells.to_text(aggregates.csv_rows(found)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/measures/definitions")
@documented(bp, 403)
@auth.roles(MEASURE_ROLES)
@bp.response(200, DefinitionListSchema)
def definitions():
    """Every measure's definition with its version, as printed on the CSV exports."""
    return {"items": [d._asdict() for d in publication.all_definitions()]}
