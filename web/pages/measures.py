"""Measures: the PACE aims with run charts, drill-downs, stage delays and PDSA cycles.

(Time to decision and the breach forecast are in measures_survival.py and
measures_forecast.py, on this same blueprint, ``measures_blueprint.bp``, with the scope and
CSV helpers all three share; the app factory imports the three before registering it.)

Figures are computed by the pure functions in ``workflows`` from the milestone index, scoped
to the user's team (a team-scoped user sees their team's figures; a service-wide user sees
every team's or picks one). Drill-down lists name children, so they are only for roles that
work with children's records; process owners and administrators see the figures.
"""
from __future__ import annotations

import threading
from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine.errors import InvalidData, NotFound
from workflows.measures import (aim_statuses, reports as measure_reports, aim_results as measures,
                                pdsa, run_charts, survival)
from workflows.measures import publication as exports
from workflows.measures import early_endings
from workflows.measures.aims import AIMS, age_on
from workflows.policy import (DATA_QUALITY_ROLES, DRILL_DOWN_ROLES, FORECAST_ROLES, MEASURE_ROLES, PDSA_ROLES,
                              SETTINGS_ROLES)
from workflows.services import aim_settings, pdsa_cycles
from workflows.measures.tables import PDSA_ACTS
from workflows.vocabulary import CSO_HOME, MILESTONES, PERMANENCE

from web.shared import date_parts, query_args
from web.shared.date_parts import RANGE_LABELS
from web.pages import run_chart_svg
from web.security.access import require_roles
from web.shared.database import council, db
from web.pages.measures_blueprint import Scope, bp, csv_response, publication_requested, scope_label

_preloading = threading.Event()


@bp.before_app_request
def _preload_survival_library() -> None:
    """A serving process loads lifelines in the background once it takes its first request,
    so the time-to-decision page does not wait on it (CLI commands never pay for it)."""
    if not _preloading.is_set():
        _preloading.set()
        threading.Thread(target=survival.preload, name="preload-lifelines", daemon=True).start()


@bp.app_template_filter("pct")
def _pct(value, places: int = 0) -> str:
    return "–" if value is None else f"{aim_statuses.rounded(float(value), places)}%"


def _baseline() -> tuple[date, date] | None:
    """The run chart's baseline months from the query; an incomplete or reversed range means
    "the default baseline" rather than an error, so a half-filled form still draws."""
    first = date_parts.month("baseline_from", "Baseline from")
    last = date_parts.month("baseline_to", "Baseline to")
    return (first, last) if first and last and first <= last else None


def _compute(session, scope: Scope, aim_numbers=AIMS, *,
             listed: bool = False) -> dict[int, aim_statuses.AimResult]:
    return measure_reports.aim_results(session, council(), scope.teams, scope.on, aim_numbers,
                                       listed=listed)


def _aim_or_404(aim: int) -> int:
    if aim not in AIMS:
        abort(404)
    return aim


@bp.get("")
@require_roles(MEASURE_ROLES)
def index():
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        results = _compute(session, scope)
    return render_template("measures/index.html", results=results, scope=scope,
                           definitions=measures.DEFINITIONS,
                           can_forecast=current_user.has_any(FORECAST_ROLES))


def _chart(session, result: aim_statuses.AimResult, baseline, denominator: str) -> run_charts.RunChart:
    return measure_reports.run_chart(session, council(), result, baseline, denominator)


def chart_json(chart: run_charts.RunChart, title: str,
               few: int = run_charts.FEW_CHILDREN) -> dict:
    """What measures.mjs draws, one entry per calendar month from the first point to the
    last (``run_charts.calendar``): a month with no point is null, which Chart.js draws as a
    gap; each point's numerator and denominator (the tooltip says "n of d children"),
    whether it rests on fewer than ``few`` children, its signals; median, target,
    annotations."""
    months = run_charts.calendar(chart.points)
    labels = [month.strftime("%Y-%m") for month, _ in months]
    points = [None if i is None else chart.points[i] for _, i in months]
    notes = []
    for number, note in enumerate(chart.annotations, start=1):
        month = note.on.replace(day=1).strftime("%Y-%m")
        notes.append({"number": number, "month": month, "kind": note.kind, "label": note.label,
                      "index": labels.index(month) if month in labels else None})
    return {"title": title, "labels": labels,
            "values": [None if p is None else round(p.value, 1) for p in points],
            "numerators": [None if p is None else p.numerator for p in points],
            "denominators": [None if p is None else p.denominator for p in points],
            "few": [p is not None and run_charts.rests_on_few(p, few) for p in points],
            "few_children": few,
            "median": None if chart.median is None else round(chart.median, 1),
            "target": chart.target,
            "signals": [[] if i is None else [s.label for s in chart.signals_at(i)]
                        for _, i in months],
            "annotations": notes}


def chart_rows(chart: run_charts.RunChart, few: int = run_charts.FEW_CHILDREN) -> list[dict]:
    """The data table under the chart, its accessible alternative: every calendar month,
    a month with no point said so."""
    rows = []
    for month, i in run_charts.calendar(chart.points):
        point = None if i is None else chart.points[i]
        rows.append({"month": month, "point": point,
                     "few": point is not None and run_charts.rests_on_few(point, few),
                     "signals": [] if i is None else [s.label for s in chart.signals_at(i)]})
    return rows


@bp.get("/aims/<int:aim>")
@require_roles(MEASURE_ROLES)
def aim_page(aim: int):
    _aim_or_404(aim)
    denominator = _denominator()
    baseline = _baseline()
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        result = _compute(session, scope, (aim,))[aim]
        chart = _chart(session, result, baseline, denominator)
        few = db().settings.run_chart_few_children
        cycles = pdsa_cycles.cycles(session, current_user, council(), aim)
        flags = pdsa.flagged_months(session, aim, council())
        early = early_endings.for_aim(session, result, scope.teams)
    return render_template("measures/aim.html", result=result, chart=chart, scope=scope,
                           chart_data=chart_json(chart, result.settings.title, few),
                           chart_rows=chart_rows(chart, few), few_children=few, cycles=cycles,
                           flags=flags, early=early, denominator=denominator, baseline=baseline,
                           definition=measures.DEFINITIONS[aim], acts=PDSA_ACTS,
                           done_word=measures.DONE_WORDS[aim], labels=aim_statuses.STATUS_LABELS,
                           rules=run_charts.RULE_LABELS, meanings=run_charts.RULE_MEANINGS,
                           active_nav="measures.index",
                           can_drill=current_user.has_any(DRILL_DOWN_ROLES),
                           can_flag=current_user.has_any(PDSA_ROLES),
                           can_edit=current_user.has_any(SETTINGS_ROLES))


def _denominator() -> str:
    return "decided" if request.args.get("denominator") == "decided" else "due"


@bp.get("/aims/<int:aim>.csv")
@require_roles(MEASURE_ROLES)
def aim_csv(aim: int):
    _aim_or_404(aim)
    publication = publication_requested()
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        result = _compute(session, scope, (aim,))[aim]
        early = early_endings.for_aim(session, result, scope.teams)
    return csv_response(exports.aim_rows(result, scope_label(scope), publication)
                        + early_endings.csv_rows(early, publication), f"aim{aim}",
                        scope, publication)


@bp.get("/aims/<int:aim>/run-chart.csv")
@require_roles(MEASURE_ROLES)
def run_chart_csv(aim: int):
    _aim_or_404(aim)
    publication, denominator = publication_requested(), _denominator()
    baseline = _baseline()
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        result = _compute(session, scope, (aim,))[aim]
        chart = _chart(session, result, baseline, denominator)
    rows = exports.run_chart_rows(chart, result, denominator, scope_label(scope), publication)
    return csv_response(rows, f"aim{aim}-run-chart", scope, publication)


@bp.get("/aims/1/outcome-mix.csv")
@require_roles(MEASURE_ROLES)
def outcome_mix_csv():
    publication = publication_requested()
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        result = _compute(session, scope, (1,))[1]
    return csv_response(exports.outcome_mix_rows(result, scope_label(scope), publication),
                        "aim1-outcome-mix", scope, publication)


@bp.get("/aims/<int:aim>.svg")
@require_roles(MEASURE_ROLES)
def aim_svg(aim: int):
    _aim_or_404(aim)
    denominator = _denominator()
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        result = _compute(session, scope, (aim,))[aim]
        chart = _chart(session, result, None, denominator)
    subtitle = (f"{'Team ' + scope.team.title() if scope.team else 'All teams'}, as at "
                f"{scope.on:%d %b %Y}; median of the first {len(chart.baseline)} months; "
                f"numbered lines: PDSA cycles (dashed) and diagram versions; hollow: fewer "
                f"than {db().settings.run_chart_few_children} children")
    name = f"pace-aim{aim}-run-chart-{scope.team or 'all-teams'}-{scope.on.isoformat()}.svg"
    return Response(run_chart_svg.render(chart, result.settings.title, subtitle,
                                         db().settings.run_chart_few_children),
                    mimetype="image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/aims/<int:aim>/children")
@require_roles(DRILL_DOWN_ROLES)
def drill_down(aim: int):
    _aim_or_404(aim)
    status = request.args.get("status") or ""
    month = query_args.month("month")
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        result = _compute(session, scope, (aim,), listed=True)[aim]
    if status == "left_out":
        entries, left_out = [], result.left_out
    else:
        tally = next((c.tally for c in result.cohorts if c.month == month), None) if month \
            else result.total
        if tally is None or (status and status not in aim_statuses.STATUS_LABELS):
            abort(404)
        entries = tally.of(status) if status else tally.entries
        left_out = []
    return render_template("measures/children.html", result=result, entries=entries,
                           left_out=left_out, status=status, month=month, scope=scope,
                           labels=aim_statuses.STATUS_LABELS, done_word=measures.DONE_WORDS[aim],
                           age_on=age_on, active_nav="measures.index")


@bp.post("/aims/<int:aim>/flags")
@require_roles(PDSA_ROLES)
def flag(aim: int):
    _aim_or_404(aim)
    month = request.form.get("month", "")
    typed = [(request.form.get(f"month-{part}") or "").strip() for part in ("year", "month")]
    if not month and any(typed):  # the GOV.UK month and year boxes: the service checks it
        month = f"{typed[0]}-{typed[1].zfill(2)}"
    try:
        with db().transaction() as session:
            if request.form.get("remove"):
                first = pdsa_cycles.unflag_point(session, current_user, council(), aim, month)
                done = "is no longer flagged."
            else:
                first = pdsa_cycles.flag_point(session, current_user, council(), aim, month,
                                               request.form.get("note", "")[:500]).month
                done = "flagged as unusual."
    except InvalidData as exc:
        flash(" ".join(e.message for e in exc.errors), "error")
    else:
        flash(f"{first:%B %Y} {done}", "success")
    return redirect(url_for("measures.aim_page", aim=aim))


# The settings the page's form shows (the population's teams and lower age are kept).
SETTING_FIELDS = ("wording", "target_pct", "threshold", "max_age", "start_date", "end_date")


@bp.route("/aims/<int:aim>/settings", methods=["GET", "POST"])
@require_roles(SETTINGS_ROLES)
def aim_settings_page(aim: int):
    _aim_or_404(aim)
    errors = []
    form = request.form if request.method == "POST" else None
    with db().transaction() as session:
        current = aim_settings.aim_settings(session, current_user, council(), aim)
        if form is not None:
            changes = {key: form.get(key, "") for key in SETTING_FIELDS}
            try:
                aim_settings.change(session, current_user, council(), aim, changes)
            except InvalidData as exc:
                errors = [(e.field or "wording", e.message) for e in exc.errors]
            else:
                flash(f"{current.title} settings saved.", "success")
                return redirect(url_for("measures.aim_page", aim=aim))
    return render_template("measures/settings.html", settings=current, form=form, errors=errors,
                           page_has_errors=bool(errors), active_nav="measures.index"), \
        (400 if errors else 200)


@bp.get("/pdsa")
@require_roles(MEASURE_ROLES)
def pdsa_list():
    with db().transaction(read_only=True) as session:
        cycles = pdsa_cycles.cycles(session, current_user, council())
    return render_template("measures/pdsa_list.html", cycles=cycles, acts=PDSA_ACTS,
                           can_edit=current_user.has_any(PDSA_ROLES), active_nav="measures.index")


@bp.route("/pdsa/new", methods=["GET", "POST"], defaults={"cycle_id": None})
@bp.route("/pdsa/<int:cycle_id>", methods=["GET", "POST"])
@require_roles(PDSA_ROLES)
def pdsa_form(cycle_id: int | None):
    errors = []
    with db().transaction() as session:
        try:
            cycle = pdsa_cycles.cycle(session, current_user, council(), cycle_id) \
                if cycle_id else None
        except NotFound:
            abort(404)
        if request.method == "POST":
            values = {key: request.form.get(key, "") for key in pdsa_cycles.CYCLE_FIELDS
                      if key in request.form}
            try:
                if cycle is None:
                    pdsa_cycles.record(session, current_user, council(), values)
                else:
                    pdsa_cycles.edit(session, current_user, council(), cycle.id, values)
            except InvalidData as exc:
                errors = [(e.field or "change_idea", e.message) for e in exc.errors]
            else:
                flash("PDSA cycle saved.", "success")
                return redirect(url_for("measures.pdsa_list"))
        values = request.form if request.method == "POST" else cycle
    return render_template("measures/pdsa_form.html", cycle=cycle, values=values, errors=errors,
                           acts=PDSA_ACTS, aims=AIMS, page_has_errors=bool(errors),
                           active_nav="measures.index"), \
        (400 if errors else 200)


def _stage_report(session, scope: Scope) -> measure_reports.StageReport:
    process = CSO_HOME if request.args.get("process") == CSO_HOME else PERMANENCE
    before, after = query_args.number("before"), query_args.number("after")
    if before and after:
        return measure_reports.stage_report(session, process, scope.teams, scope.on,
                                            before=before, after=after)
    ranges = [date_parts.day(k, label) for k, label in RANGE_LABELS.items()]
    usable = all(ranges) and ranges[0] <= ranges[1] and ranges[2] <= ranges[3]
    return measure_reports.stage_report(session, process, scope.teams, scope.on,
                                        ranges=tuple(ranges) if usable else None)


@bp.get("/stages")
@require_roles(MEASURE_ROLES)
def stages():
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        report = _stage_report(session, scope)
    return render_template("measures/stages.html", process=report.process, scope=scope,
                           overall=report.overall, per_version=report.per_version,
                           per_quarter=report.per_quarter, versions=report.versions,
                           comparison=report.comparison, compare_label=report.compare_label,
                           out_of_order=report.out_of_order,
                           can_see_quality=current_user.has_any(DATA_QUALITY_ROLES),
                           milestones=MILESTONES, active_nav="measures.index")


@bp.get("/stages.csv")
@require_roles(MEASURE_ROLES)
def stages_csv():
    publication = publication_requested()
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        report = _stage_report(session, scope)
    rows = exports.stage_rows(report.process, report.overall, report.per_version,
                              report.comparison, report.compare_label, scope.on,
                              scope_label(scope), publication, report.compared_versions)
    return csv_response(rows, f"stage-delays-{report.process.replace('_', '-')}", scope,
                        publication)


# The Data quality page joins the blueprint from its own module, imported with this one.
from web.pages import measures_quality  # noqa: E402,F401
