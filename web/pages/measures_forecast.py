"""Breach forecast for team leaders and managers: open statutory clocks at the current pace.

It names children, so it is for the roles that work with children's records and see
measures (team leaders, service managers, auditors), scoped exactly as the aims'
drill-down: a team leader sees their own team, a service-wide user every team or one.
"""
from __future__ import annotations

from flask import render_template, request

from workflows.measures import forecast, reports as measure_reports
from workflows.measures import publication as exports
from workflows.policy import FORECAST_ROLES
from workflows.vocabulary import MILESTONES

from web.security.access import require_roles
from web.shared.database import council, db
from web.pages.measures_blueprint import Scope, bp, csv_response, publication_requested, scope_label


def _clocks() -> tuple[str, ...]:
    wanted = request.args.get("clock") or ""
    return (wanted,) if wanted in forecast.CLOCKS else tuple(forecast.CLOCKS)


@bp.get("/forecast")
@require_roles(FORECAST_ROLES)
def forecast_page():
    clocks = _clocks()
    show_all = request.args.get("show") == "all"
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        items = measure_reports.forecast_report(session, council(), scope.teams, scope.on,
                                                clocks)
    listed = items if show_all else [f for f in items if f.status in forecast.AT_RISK]
    return render_template("measures/forecast.html", listed=listed, teams=forecast.by_team(items),
                           scope=scope, clocks=forecast.CLOCKS, clock=request.args.get("clock")
                           if len(clocks) == 1 else "", show_all=show_all,
                           labels=forecast.STATUS_LABELS, milestones=MILESTONES,
                           definition=exports.definition("forecast"),
                           window=forecast.WINDOW_DAYS, min_recent=forecast.MIN_RECENT,
                           active_nav="measures.index")


@bp.get("/forecast.csv")
@require_roles(FORECAST_ROLES)
def forecast_csv():
    publication = publication_requested()
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        items = measure_reports.forecast_report(session, council(), scope.teams, scope.on,
                                                _clocks())
    return csv_response(exports.forecast_rows(items, scope.on, scope_label(scope), publication),
                        "breach-forecast", scope, publication)
