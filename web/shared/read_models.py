"""Read-only views of the indexed tables for the child page and the overview.

They read ``work_item``, ``milestone``, ``timer`` and ``audit_event`` rows only and never
deserialize a workflow, so the pages stay fast with a large caseload. Callers pass scopes
decided in ``web.security.access``; nothing here decides who may see what.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine.models import (OPEN, AuditEvent, Milestone, ProcessInstance, Subject, Team, Timer,
                           UserAccount, WorkItem)
from engine.date_rules import as_date
from engine.queues import due_status
from workflows import profiles
from workflows.vocabulary import CSO_ORDER, JOURNEY_ORDER, MILESTONES

JOURNEY_EVENTS = {
    "child_registered": "Child registered",
    "instance_started": "Process started",
    "task_claimed": "Task claimed",
    "task_released": "Task released",
    "task_reassigned": "Task reassigned",
    "allocated_worker_changed": "Allocated worker changed",
    "task_completed": "Task completed",
    "instance_migrated": "Moved to a new version of the process",
    "task_cancelled": "Task withdrawn",
    "timer_fired": "Date reached",
    "reminder_sent": "Reminder sent",
    "escalated": "Escalated",
    "instance_completed": "Process ended",
    "instance_ended_early": "Journey ended early",
}
_ORDER = {code: index for index, code in enumerate(JOURNEY_ORDER + CSO_ORDER)}
# Who did it, when no person did: a timer, a reminder, the demo or an import run by the system.
AUTOMATIC = "PACE Flow (automatic)"


def display_names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(UserAccount.id, UserAccount.display_name)
                                .where(UserAccount.id.in_(ids))).all())


def task_choices(session: Session, roles, teams, assignee_id: int | None = None,
                 ) -> list[tuple[str, str]]:
    """Task names present in a queue's scope, for its filter."""
    query = select(WorkItem.task_name, func.min(WorkItem.title)).where(WorkItem.status.in_(OPEN))
    if assignee_id is not None:
        query = query.where(WorkItem.assignee_id == assignee_id)
    if roles:
        query = query.where(WorkItem.role.in_(roles))
    if teams is not None:
        query = query.where(WorkItem.team.in_(teams))
    rows = session.execute(query.group_by(WorkItem.task_name)).all()
    return sorted(((name, title) for name, title in rows), key=lambda r: r[1])


# -- the child page ----------------------------------------------------------------------
@dataclass
class MilestoneRow:
    code: str
    label: str
    occurrence: int
    planned: date | None
    actual: date | None
    status: str  # done|on_time|late|due|overdue
    days_late: int = 0


@dataclass
class Stage:
    process: str
    status: str
    version: int
    started: object
    latest: MilestoneRow | None
    open_titles: list[str] = field(default_factory=list)
    waiting: list[tuple[str, object]] = field(default_factory=list)
    end: str | None = None


@dataclass
class ChildPage:
    child: Subject
    team_name: str
    worker: str | None
    age: str
    stages: list[Stage]
    tasks: list[tuple[WorkItem, str, str | None]]  # item, due status, assignee name
    milestones: list[MilestoneRow]
    journey: list[tuple[AuditEvent, str, str, str]]  # event, label, actor name, detail


def _age(born: date | None, today: date) -> str:
    if born is None:
        return "Not recorded"
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if years >= 2:
        return f"{years} years"
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    return f"{max(months, 0)} months"


def _milestone_row(m: Milestone, today: date) -> MilestoneRow:
    label = MILESTONES.get(m.code, m.code.replace("_", " ").capitalize())
    row = MilestoneRow(m.code, label, m.occurrence, m.planned_date, m.actual_date, "done")
    if m.actual_date and m.planned_date:
        late = (m.actual_date - m.planned_date).days
        row.status, row.days_late = ("late", late) if late > 0 else ("on_time", 0)
    elif m.planned_date:
        late = (today - m.planned_date).days
        row.status, row.days_late = ("overdue", late) if late > 0 else ("due", 0)
    return row


def ended_early_words(data: dict) -> str:
    """An early ending as the child page says it: the reason in words, the day, the note
    (workflows/services/journey_endings.py keeps them in the audit event)."""
    words = f"Ended early: {data.get('reason') or 'no reason recorded'}"
    on = as_date(data.get("ended_on"))
    if on is not None:
        words += f", on {on:%-d %B %Y}"
    return f"{words}. Note: {data['note']}" if data.get("note") else words


def _detail(event: AuditEvent, names: dict[str, str], titles: dict[str, str],
            child: Subject) -> str:
    """The event in a worker's words: task titles and role names, never their codes."""
    data = event.data or {}
    task = data.get("title") or titles.get(str(data.get("task") or ""), "")
    if event.event_type == "instance_started":
        return profiles.process_name(data.get("process_id"))
    if event.event_type == "instance_completed":
        return data.get("end_name") or ""
    if event.event_type == "instance_ended_early":
        return ended_early_words(data)
    if event.event_type == "timer_fired":
        return data.get("timer", "")
    if event.event_type == "escalated":
        role = data.get("to_role")
        return f"{task} (to {profiles.role_label(role, child)})" if role else task
    if event.event_type == "task_reassigned":
        moved = f"{task} to {names.get(data.get('to'), data.get('to', ''))}"
        return f"{moved}. Reason: {data['reason']}" if data.get("reason") else moved
    if event.event_type == "allocated_worker_changed":
        chosen = f"to {names.get(data.get('to'), data.get('to', ''))}"
        return f"{chosen}. Reason: {data['reason']}" if data.get("reason") else chosen
    if event.event_type == "child_registered":
        return data.get("reference", "")
    return task


def child_page(session: Session, child: Subject, today: date) -> ChildPage:
    team = session.get(Team, child.team)
    instances = session.scalars(select(ProcessInstance).where(
        ProcessInstance.subject_id == child.id).order_by(ProcessInstance.started_at)).all()
    items = session.scalars(select(WorkItem).where(
        WorkItem.subject_id == child.id, WorkItem.status.in_(OPEN))
        .order_by(WorkItem.due_date, WorkItem.id)).unique().all()
    milestones = sorted(session.scalars(select(Milestone).where(Milestone.subject_id == child.id)),
                        key=lambda m: (_ORDER.get(m.code, 99), m.occurrence, m.id))
    rows = [_milestone_row(m, today) for m in milestones]
    timers = session.scalars(select(Timer).where(
        Timer.instance_id.in_([i.id for i in instances] or [-1])).order_by(Timer.fire_at)).all()
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.subject_id == child.id, AuditEvent.event_type.in_(list(JOURNEY_EVENTS)))
        .order_by(AuditEvent.chain_seq)).all()
    names = display_names(session, [child.allocated_worker_id] + [i.assignee_id for i in items])
    usernames = dict(session.execute(select(UserAccount.username, UserAccount.display_name)).all())
    titles = dict(session.execute(select(WorkItem.task_name, func.min(WorkItem.title)).where(
        WorkItem.subject_id == child.id).group_by(WorkItem.task_name)).all())
    ends = {e.instance_id: (e.data or {}).get("end_name") for e in events
            if e.event_type == "instance_completed"}
    ends.update({e.instance_id: ended_early_words(e.data or {}) for e in events
                 if e.event_type == "instance_ended_early"})

    stages = []
    for instance in instances:
        done = [(m, r) for m, r in zip(milestones, rows, strict=True)
                if m.instance_id == instance.id and r.actual]
        latest = max(done, key=lambda pair: (pair[1].actual, _ORDER.get(pair[0].code, 99)))[1] \
            if done else None
        stages.append(Stage(
            process=instance.model.name or instance.process_id, status=instance.status,
            version=instance.model.version, started=instance.started_at, latest=latest,
            open_titles=[i.title for i in items if i.instance_id == instance.id],
            waiting=[(t.name, t.fire_at) for t in timers if t.instance_id == instance.id],
            end=ends.get(instance.id) or None))
    return ChildPage(
        child=child, team_name=team.name if team else child.team,
        worker=names.get(child.allocated_worker_id), age=_age(child.date_of_birth, today),
        stages=stages,
        tasks=[(i, due_status(i, today), names.get(i.assignee_id)) for i in items],
        milestones=rows,
        journey=[(e, JOURNEY_EVENTS[e.event_type], usernames.get(e.actor, AUTOMATIC),
                  _detail(e, usernames, titles, child)) for e in events])


# -- the overview ---------------------------------------------------------------------------
@dataclass
class WorkerLoad:
    user: UserAccount
    open: int = 0
    overdue: int = 0
    this_week: int = 0


@dataclass
class Overview:
    workers: list[WorkerLoad]
    unassigned: list[tuple[str, str, int, int]]  # team, role, open, overdue
    overdue: list[tuple[WorkItem, int, str | None]]  # item, days overdue, assignee name
    overdue_total: int
    escalations: list[tuple[WorkItem, str | None]]


def overview(session: Session, teams: tuple[str, ...] | None, today: date,
             limit: int = 50) -> Overview:
    def scoped(query):
        query = query.where(WorkItem.status.in_(OPEN))
        return query if teams is None else query.where(WorkItem.team.in_(teams))

    week = today + timedelta(days=7)
    counts = session.execute(scoped(select(
        WorkItem.assignee_id, WorkItem.team, WorkItem.role, func.count(),
        func.sum(case((WorkItem.due_date < today, 1), else_=0)),
        func.sum(case(((WorkItem.due_date > today) & (WorkItem.due_date <= week), 1), else_=0))))  # today is its own group
        .group_by(WorkItem.assignee_id, WorkItem.team, WorkItem.role)).all()
    users = session.scalars(select(UserAccount).where(UserAccount.active.is_(True))).all()
    loads: dict[int, WorkerLoad] = {}
    for user in users:  # every team worker is listed, even with nothing on their desk
        if user.team is not None and (teams is None or user.team in teams) and \
                {"social_worker", "team_leader", "team_manager"} & set(user.roles or []):
            loads[user.id] = WorkerLoad(user)
    unassigned: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    by_id = {u.id: u for u in users}
    for assignee, team, role, total, overdue_n, week_n in counts:
        if assignee is None:
            unassigned[(team, role)][0] += total
            unassigned[(team, role)][1] += int(overdue_n or 0)
            continue
        load = loads.get(assignee)
        if load is None and assignee in by_id:
            load = loads[assignee] = WorkerLoad(by_id[assignee])
        if load is not None:
            load.open += total
            load.overdue += int(overdue_n or 0)
            load.this_week += int(week_n or 0)
    overdue_query = scoped(select(WorkItem).where(WorkItem.due_date < today))
    overdue_total = session.scalar(select(func.count()).select_from(overdue_query.subquery())) or 0
    overdue = session.scalars(overdue_query.order_by(WorkItem.due_date, WorkItem.id)
                              .limit(limit)).unique().all()
    escalated = session.scalars(scoped(select(WorkItem).where(WorkItem.escalation_level > 0))
                                .order_by(WorkItem.escalation_level.desc(), WorkItem.due_date)
                                .limit(limit)).unique().all()
    names = display_names(session, [i.assignee_id for i in list(overdue) + list(escalated)])
    return Overview(
        workers=sorted(loads.values(), key=lambda w: (-w.overdue, -w.open, w.user.display_name)),
        unassigned=sorted((team, role, n, o) for (team, role), (n, o) in unassigned.items()),
        overdue=[(i, (today - i.due_date).days, names.get(i.assignee_id)) for i in overdue],
        overdue_total=overdue_total,
        escalations=[(i, names.get(i.assignee_id)) for i in escalated])


def children_list(session: Session, clause, search: str | None, today: date, page: int,
                  per_page: int):
    """(children, total, open counts, overdue counts) for one page of children in scope."""
    query = select(Subject).where(clause)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(func.lower(Subject.reference).like(pattern)
                            | func.lower(Subject.display_name).like(pattern))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    children = session.scalars(query.order_by(Subject.reference)
                               .limit(per_page).offset((page - 1) * per_page)).all()
    open_counts: Counter = Counter()
    overdue_counts: Counter = Counter()
    for subject_id, due in session.execute(select(WorkItem.subject_id, WorkItem.due_date).where(
            WorkItem.subject_id.in_([c.id for c in children] or [-1]),
            WorkItem.status.in_(OPEN))).all():
        open_counts[subject_id] += 1
        if due is not None and due < today:
            overdue_counts[subject_id] += 1
    return children, total, open_counts, overdue_counts
