"""“My team's work”: every open task of the teams a manager oversees, held or not.

The team queue shows only unclaimed tasks of the leader's own role, so a team leader could
not see what each worker holds, nor find a task to move without knowing the child. This
page lists them all, filtered by worker (or "not held"), task and how soon they are due,
sorted by due date; each task links to its page, where a manager reassigns it with a
reason. The overview's workload figures link here, one worker at a time.

Filters come from the web address: a value the page does not offer is a 400 page saying
which one and what it must be (``web/shared/query_args.py``), never a 500.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user
from sqlalchemy import or_, select

from engine.models import OPEN, Team, UserAccount, WorkItem
from engine.queues import QueueFilter, due_status, list_work
from workflows.due_words import council_today
from workflows.policy import TEAM_WORK_ROLES

from web.pages.list_links import list_link
from web.security.access import require_roles
from web.shared import query_args
from web.shared.database import db
from web.shared.read_models import display_names, task_choices

bp = Blueprint("team_work", __name__, url_prefix="/team-work")

STATUSES = (("", "Any"), ("overdue", "Overdue"), ("due_today", "Due today"),
            ("this_week", "Due this week"))
SORTS = (("due", "Due date, soonest first"), ("-due", "Due date, latest first"))
NOBODY = "nobody"  # the worker filter's value for tasks nobody holds
COUNT_LIMIT = 1000


def _workers(session, teams: tuple[str, ...] | None) -> list[tuple[int, str]]:
    """(id, name) of the people whose tasks the page can show: active members of the teams
    in scope, and anyone holding an open task of those teams."""
    holders = select(WorkItem.assignee_id).where(WorkItem.status.in_(OPEN),
                                                 WorkItem.assignee_id.is_not(None))
    members = select(UserAccount.id).where(UserAccount.active.is_(True),
                                           UserAccount.team.is_not(None))
    if teams is not None:
        holders = holders.where(WorkItem.team.in_(teams))
        members = members.where(UserAccount.team.in_(teams))
    rows = session.execute(select(UserAccount.id, UserAccount.display_name).where(
        or_(UserAccount.id.in_(holders), UserAccount.id.in_(members)))
        .order_by(UserAccount.display_name)).all()
    return [(user_id, name) for user_id, name in rows]


@bp.get("")
@require_roles(TEAM_WORK_ROLES)
def index():
    today = council_today()  # the council's day (workflows/due_words.py)
    with db().transaction() as session:
        teams = [(t.code, t.name) for t in session.scalars(select(Team).order_by(Team.name))
                 if current_user.sees_team(t.code)]
        if current_user.all_teams:
            team = query_args.choice("team", teams, must="a team from the list")
            scope = (team,) if team else None
        else:
            team, scope = current_user.team, (current_user.team,)
        workers = _workers(session, scope)
        tasks = task_choices(session, (), scope)
        worker = query_args.choice("worker", [NOBODY] + [str(i) for i, _ in workers],
                                   must="a worker from the list, or ‘nobody’")
        params = {"team": team if current_user.all_teams else "", "worker": worker,
                  "task": query_args.choice("task", tasks, must="a task from the list"),
                  "status": query_args.choice("status", STATUSES,
                                              must="a status from the list"),
                  "sort": query_args.choice("sort", SORTS, "due", must="a sort from the list"),
                  "page": query_args.page()}
        query = QueueFilter(teams=scope, unassigned=worker == NOBODY,
                            assignee_id=int(worker) if worker.isdigit() else None,
                            status=params["status"] or None, task=params["task"] or None)
        page = list_work(session, query, today, sort=params["sort"], page=params["page"],
                         per_page=current_app.config["QUEUE_PAGE_SIZE"],
                         count_limit=COUNT_LIMIT)
        rows = [(item, due_status(item, today)) for item in page.items]
        names = display_names(session, [item.assignee_id for item in page.items])

    def link(**changes):
        return list_link("team_work.index", params, **changes)

    worker_name = dict((str(i), n) for i, n in workers).get(worker)
    filtered = any(params[k] for k in ("worker", "task", "status"))
    return render_template(
        "team_work/index.html", page=page, rows=rows, names=names, params=params,
        statuses=STATUSES, sorts=SORTS, tasks=tasks, workers=workers, teams=teams,
        team_names=dict(teams), worker_name=worker_name, nobody=NOBODY, link=link,
        page_link=lambda number: link(page=number), filtered=filtered)
