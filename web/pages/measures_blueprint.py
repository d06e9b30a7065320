"""The Measures blueprint and what every measures page reads from a request.

Its pages are in measures.py (aims, run charts, stage delays, PDSA cycles),
measures_survival.py (time to decision) and measures_forecast.py (breach forecast). Each
imports this module and none imports another, so the app factory imports all three before
it registers ``bp``. Here: the scope (team and measurement date), the publication switch
and the CSV download every page offers. Who may open which page is ``workflows.policy``'s
(``MEASURE_ROLES`` and the sets beside it).
"""
from __future__ import annotations

from flask import Blueprint, Response, request
from flask_login import current_user
from sqlalchemy import select

from engine import clock, csv_cells
from engine.models import Team

from web.shared import date_parts
from web.shared.downloads import attachment

bp = Blueprint("measures", __name__, url_prefix="/measures")


class Scope:
    """Whose figures: the user's team, or (service-wide users) every team or one team."""

    def __init__(self, session):
        teams = session.scalars(select(Team).order_by(Team.name)).all()
        self.choices = [(t.code, t.name) for t in teams if current_user.sees_team(t.code)]
        wanted = request.args.get("team") or ""
        if current_user.all_teams:
            self.team = wanted if wanted in dict(self.choices) else ""
        else:
            self.team = current_user.team
        self.teams = (self.team,) if self.team else None
        # typed into the GOV.UK date boxes (on-day, on-month, on-year) or ?on=YYYY-MM-DD
        # from a link; a 400 page naming what is wrong for a date that cannot be used
        self.on = date_parts.day("on", "Figures as at") or clock.today()

    def args(self, **more) -> dict:
        found = {"team": self.team} if self.team and current_user.all_teams else {}
        if date_parts.given("on"):
            found["on"] = self.on.isoformat()
        return {**found, **{k: v for k, v in more.items() if v not in (None, "")}}


def publication_requested() -> bool:
    """Whether the download is for publication (small numbers suppressed)."""
    return request.args.get("publication") == "1"


def csv_response(rows, stem: str, scope: Scope, publication: bool = False) -> Response:
    """A CSV download named after the measure, scope, date and whether it is for publication."""
    name = f"pace-{stem}-{scope.team or 'all-teams'}-{scope.on.isoformat()}" \
           f"{'-publication' if publication else ''}.csv"
    return attachment(csv_cells.to_text(rows), "text/csv", name)


def scope_label(scope: Scope) -> str:
    return f"team {scope.team}" if scope.team else "all teams"
