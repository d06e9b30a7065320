"""Queue reads: indexed ``work_item`` rows only, never a workflow deserialization."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from .models import OPEN, Subject, WorkItem
SORTS = {
    "due": (WorkItem.due_date.asc(), WorkItem.id.asc()),
    "-due": (WorkItem.due_date.desc(), WorkItem.id.desc()),
    "child": (Subject.reference.asc(), WorkItem.id.asc()),
    "task": (WorkItem.title.asc(), WorkItem.due_date.asc()),
    "created": (WorkItem.created_at.asc(), WorkItem.id.asc()),
}


@dataclass(frozen=True)
class QueueFilter:
    roles: tuple[str, ...] = ()
    teams: tuple[str, ...] | None = None  # None: every team
    assignee_id: int | None = None
    unassigned: bool = False
    status: str | None = None  # overdue | due_today | this_week | upcoming
    child: str | None = None  # reference or name fragment
    task: str | None = None  # task name
    subject_id: int | None = None


@dataclass(frozen=True)
class Page:
    items: list[WorkItem]
    total: int
    page: int
    per_page: int
    more: bool = False  # counting stopped at ``total``: there are more

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def total_label(self) -> str:
        """"1,000+" when counting stopped early, else the exact count."""
        return f"{self.total:,}+" if self.more else f"{self.total:,}"


# Written into the SQL, not bound: SQLite uses the partial index of open work (migration
# 0008) only when the query repeats its condition word for word.
IS_OPEN = WorkItem.status.in_(bindparam("open_statuses", list(OPEN), expanding=True,
                                        literal_execute=True))


def _query(f: QueueFilter, today: date):
    query = select(WorkItem).where(IS_OPEN)
    if f.child:
        query = query.join(Subject, Subject.id == WorkItem.subject_id)
    if f.roles:
        query = query.where(WorkItem.role.in_(f.roles))
    if f.teams is not None:
        query = query.where(WorkItem.team.in_(f.teams))
    if f.assignee_id is not None:
        query = query.where(WorkItem.assignee_id == f.assignee_id)
    if f.unassigned:
        query = query.where(WorkItem.assignee_id.is_(None))
    if f.subject_id is not None:
        query = query.where(WorkItem.subject_id == f.subject_id)
    if f.task:
        query = query.where(WorkItem.task_name == f.task)
    if f.child:
        pattern = f"%{f.child.strip().lower()}%"
        query = query.where(func.lower(Subject.reference).like(pattern)
                            | func.lower(Subject.display_name).like(pattern))
    if f.status == "overdue":
        query = query.where(WorkItem.due_date < today)
    elif f.status == "due_today":
        query = query.where(WorkItem.due_date == today)
    elif f.status == "this_week":
        # today is its own group ("due_today"), not part of this week
        query = query.where(WorkItem.due_date > today, WorkItem.due_date <= today + timedelta(days=7))
    elif f.status == "upcoming":
        query = query.where(WorkItem.due_date > today + timedelta(days=7))
    return query


def list_work(session: Session, f: QueueFilter, today: date, *, sort: str = "due",
              page: int = 1, per_page: int = 25, count_limit: int | None = None) -> Page:
    """One page of open work. With ``count_limit`` the count stops there (``Page.more``):
    a page shows "1,000+" instead of counting every open task of a service-wide role."""
    query = _query(f, today)
    counted = query.with_only_columns(WorkItem.id)
    if count_limit is not None:
        counted = counted.limit(count_limit + 1)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    more = count_limit is not None and total > count_limit
    page = max(1, page)
    if sort == "child" and not f.child:  # counted without the join: a child is always there
        query = query.join(Subject, Subject.id == WorkItem.subject_id)
    rows = session.scalars(query.order_by(*SORTS.get(sort, SORTS["due"]))
                           .limit(per_page).offset((page - 1) * per_page)).unique().all()
    return Page(list(rows), count_limit if more else total, page, per_page, more)


def due_status(item: WorkItem, today: date) -> str:
    if item.due_date is None:
        return "upcoming"
    if item.due_date < today:
        return "overdue"
    if item.due_date <= today + timedelta(days=7):
        return "this_week"
    return "upcoming"
