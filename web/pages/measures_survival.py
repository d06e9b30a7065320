"""Time to a permanence decision: Kaplan–Meier curves per group, a chart and CSV downloads.

On the Measures blueprint, with the same scope (team and date) as the other measures pages.
Figures only: no child is named, so every measures role may read it.
"""
from __future__ import annotations

from flask import render_template, request

from workflows.measures import reports as measure_reports, survival
from workflows.measures import publication as exports
from workflows.policy import MEASURE_ROLES

from web.shared import date_parts
from web.shared.date_parts import RANGE_LABELS
from web.security.access import require_roles
from web.shared.database import council, db
from web.pages.measures_blueprint import Scope, bp, csv_response, publication_requested, scope_label


class SurvivalQuery:
    """The page's choices from the query string: an unknown clock or grouping falls back, a
    missing or reversed range is a problem shown on the page, a date that is not one (or is
    out of range) a 400 page (web/shared/query_args.py)."""

    def __init__(self, args):
        self.clock = args.get("clock") if args.get("clock") in survival.CLOCKS \
            else survival.RECOMMENDATION
        self.grouping = args.get("group") if args.get("group") in survival.GROUPINGS else "none"
        dates = [date_parts.day(k, label) for k, label in RANGE_LABELS.items()]
        self.ranges, self.problem = (), ""
        if self.grouping == "ranges":
            if all(dates) and dates[0] <= dates[1] and dates[2] <= dates[3]:
                self.ranges = ((dates[0], dates[1]), (dates[2], dates[3]))
            else:
                self.grouping = "none"
                self.problem = "Enter both date ranges, each start on or before its end."

    def args(self) -> dict:
        found = {"clock": self.clock, "group": self.grouping}
        if self.grouping == "ranges":
            found.update({key: day.isoformat() for key, day
                          in zip(RANGE_LABELS, (d for pair in self.ranges for d in pair))})
        return found


def chart_json(result: survival.Survival) -> dict:
    """What survival.mjs draws: one stepped line per group, in weeks, % still waiting."""
    curves = []
    for curve in result.curves:
        points = [{"x": 0, "y": 100.0}] + [
            {"x": round(s.day / 7, 2), "y": round(100 * s.waiting, 1)} for s in curve.steps]
        curves.append({"label": f"{curve.label} ({curve.n} children)", "points": points})
    return {"title": result.clock.title, "curves": curves,
            "threshold_weeks": None if result.threshold_days is None
            else round(result.threshold_days / 7, 2),
            "x_label": f"Weeks since {result.clock.start_label}"}


def _compute(session, scope: Scope, query: SurvivalQuery) -> survival.Survival:
    return measure_reports.survival_report(session, council(), query.clock, scope.teams,
                                           scope.on, query.grouping, query.ranges)


@bp.get("/survival")
@require_roles(MEASURE_ROLES)
def survival_page():
    query = SurvivalQuery(request.args)
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        result = _compute(session, scope, query)
    grids = {c.label: survival.grid(c, 28) for c in result.curves}
    return render_template("measures/survival.html", result=result, scope=scope, query=query,
                           clocks=survival.CLOCKS, chart_data=chart_json(result), grids=grids,
                           definition=exports.definition("survival"),
                           active_nav="measures.index")


@bp.get("/survival.csv")
@require_roles(MEASURE_ROLES)
def survival_csv():
    query, publication = SurvivalQuery(request.args), publication_requested()
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        result = _compute(session, scope, query)
    return csv_response(exports.survival_rows(result, scope_label(scope), publication),
                        f"time-to-{query.clock}", scope, publication)
