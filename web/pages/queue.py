"""Work queues: "My work" (tasks I hold) and "Team queue" (unclaimed tasks for my roles)."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.queues import QueueFilter, due_status, list_work
from workflows.due_words import council_today

from web.pages.list_links import list_link
from web.shared import query_args
from web.security.access import QUEUE_ROLES, require_roles
from web.security.sign_in import default_page
from web.shared.database import db
from web.shared.read_models import display_names, task_choices

bp = Blueprint("queue", __name__)

# Today is its own group, not part of "this week" (workflows/due_words.py).
STATUSES = (("", "Any"), ("overdue", "Overdue"), ("due_today", "Due today"),
            ("this_week", "Due this week"), ("upcoming", "Due later"))
SORTS = ("due", "-due", "child", "task")
# A service-wide queue can hold tens of thousands of tasks; the page says "1,000+" rather
# than count them all on every visit.
COUNT_LIMIT = 1000


@bp.get("/")
@login_required
def home():
    """Each role goes on to where its work is (web/security/sign_in.py LANDINGS)."""
    landing = default_page(current_user)
    if landing != url_for("queue.home"):
        return redirect(landing)
    return render_template("home.html")


def _params() -> dict:
    args = request.args
    status = args.get("status", "")
    sort = args.get("sort", "due")
    return {"status": status if status in dict(STATUSES) else "",
            "child": (args.get("child") or "").strip()[:80],
            "task": (args.get("task") or "").strip()[:100],
            "sort": sort if sort in SORTS else "due",
            "page": query_args.page()}


def _render(kind: str, base: QueueFilter, title: str):
    params = _params()
    today = council_today()
    query = QueueFilter(roles=base.roles, teams=base.teams, assignee_id=base.assignee_id,
                        unassigned=base.unassigned, status=params["status"] or None,
                        child=params["child"] or None, task=params["task"] or None)
    with db().transaction() as session:
        page = list_work(session, query, today, sort=params["sort"], page=params["page"],
                         per_page=current_app.config["QUEUE_PAGE_SIZE"], count_limit=COUNT_LIMIT)
        tasks = task_choices(session, base.roles, base.teams, base.assignee_id)
        rows = [(item, due_status(item, today)) for item in page.items]
        names = display_names(session, [item.assignee_id for item in page.items])

    def link(**changes):
        return list_link(request.endpoint, params, **changes)

    filtered = any(params[k] for k in ("status", "child", "task"))
    return render_template("queue/list.html", kind=kind, title=title, page=page, rows=rows,
                           names=names, params=params, statuses=STATUSES, tasks=tasks,
                           link=link, page_link=lambda number: link(page=number),
                           filtered=filtered)


@bp.get("/my-work")
@require_roles(QUEUE_ROLES)
def my_work():
    return _render("mine", QueueFilter(assignee_id=current_user.id), "My work")


@bp.get("/team-queue")
@require_roles(QUEUE_ROLES)
def team_queue():
    return _render("team", QueueFilter(unassigned=True, roles=current_user.queue_roles,
                                       teams=current_user.team_scope), "Team queue")
