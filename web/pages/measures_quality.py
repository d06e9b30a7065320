"""The Data quality page: children whose milestones the measures cannot trust.

Only translates: the scope (team, date) from the request, the report from
``workflows.services.data_quality``, which decides who sees the children's names.
"""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from workflows.measures.data_quality import KIND_LABELS, KINDS
from workflows.policy import DATA_QUALITY_ROLES
from workflows.services import data_quality

from web.security.access import require_roles
from web.shared.database import db
from web.pages.measures_blueprint import Scope, bp


@bp.get("/data-quality")
@require_roles(DATA_QUALITY_ROLES)
def data_quality_page():
    with db().transaction(read_only=True) as session:
        scope = Scope(session)
        found = data_quality.report(session, current_user, scope.teams, scope.on)
    return render_template("measures/data_quality.html", scope=scope, report=found,
                           kinds=KINDS, labels=KIND_LABELS, active_nav="measures.index")
