"""Children: the list of children in the user's scope and each child's page."""
from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from engine import audit, clock

from . import db
from .access import CHILD_ROLES, child_or_404, children_clause, require_roles
from .read_models import child_page, children_list

bp = Blueprint("children", __name__, url_prefix="/children")
PER_PAGE = 50


@bp.get("")
@require_roles(CHILD_ROLES)
def index():
    search = (request.args.get("q") or "").strip()[:80]
    raw_page = request.args.get("page", "1")
    number = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
    with db().transaction() as session:
        children, total, open_counts, overdue_counts = children_list(
            session, children_clause(current_user), search, clock.today(), number, PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    page = {"page": number, "pages": pages, "total": total}

    def page_link(n):
        return url_for("children.index", **({"q": search} if search else {}),
                       **({"page": n} if n > 1 else {}))
    return render_template("children/list.html", children=children, total=total, search=search,
                           open_counts=open_counts, overdue_counts=overdue_counts,
                           page=SimpleNamespace(**page), page_link=page_link)


@bp.get("/<int:subject_id>")
@require_roles(CHILD_ROLES)
def show(subject_id: int):
    with db().transaction() as session:
        child = child_or_404(session, current_user, subject_id)
        data = child_page(session, child, clock.today())
        if "auditor" in current_user.roles:
            # Auditors' reading of a child's record is itself part of the record.
            audit.record(session, "record_viewed", current_user.username, subject_id=child.id,
                         data={"page": "child"})
    return render_template("children/child.html", page=data, child=data.child,
                           active_nav="children.index")
