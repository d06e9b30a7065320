"""Oversight for first-line managers (team leaders, team managers: their team) and service
managers (every team)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from engine.models import Team
from workflows import profiles
from workflows.due_words import council_today

from web.security.access import OVERVIEW_ROLES, require_roles
from web.shared.database import db
from web.shared.read_models import overview

bp = Blueprint("overview", __name__, url_prefix="/overview")


@bp.get("")
@require_roles(OVERVIEW_ROLES)
def index():
    with db().transaction() as session:
        teams = session.scalars(select(Team).order_by(Team.name)).all()
        choices = [(t.code, t.name) for t in teams if current_user.sees_team(t.code)]
        wanted = request.args.get("team") or ""
        if current_user.all_teams:
            scope = (wanted,) if wanted in dict(choices) else None
        else:
            scope, wanted = (current_user.team,), current_user.team
        data = overview(session, scope, council_today())
    return render_template("overview/index.html", data=data, teams=choices, team=wanted,
                           team_names=dict(choices), escalated_to=_escalated_to)


def _escalated_to(item) -> str:
    """Who an escalated task now sits with, in the child's profile's words."""
    return profiles.escalated_to(item.escalation_level, item.subject)
