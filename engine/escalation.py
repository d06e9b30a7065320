"""Reminders before open work is due, and escalation of overdue work up a chain of roles.

Each work item carries its own dates, computed from its diagram's rules when it opened
(engine/work_items.py): a reminder date and the dates of each escalation level. The
worker's sweep (engine/sweeper.py) runs ``send_reminders`` and ``escalate`` once a pass,
each in a transaction of its own. Every reminder and escalation is an audit event; who
hears about it follows from the event (engine/notice_derivation.py).
"""
from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import audit, clock
from .models import OPEN, ProcessInstance, UserAccount, WorkItem



class Counts(Protocol):
    """What reminders and escalations are counted into (engine/sweeper.SweepReport)."""
    reminders: int
    escalations: int


def _locked_items(session: Session, query) -> list[WorkItem]:
    """Candidates first, then each child's lock (skipping busy children), then a fresh read."""
    items = []
    for item in session.scalars(query).all():
        if audit.lock_chain(session, item.subject_id, skip_locked=True):
            session.refresh(item)
            items.append(item)
    return items


def _recipient(session: Session, item: WorkItem) -> str:
    if item.assignee_id:
        user = session.get(UserAccount, item.assignee_id)
        return user.username if user else str(item.assignee_id)
    return f"{item.role} queue, team {item.team}"


def send_reminders(session: Session, today: date, report: Counts) -> None:
    """Remind of work whose reminder date has come, while it is not yet late.

    A task already past its due date (the worker was stopped over its reminder date, or an
    imported task was late on arrival) gets no reminder: "is due 26 Nov (11 days ago)"
    reads as a mistake. Its escalation tells the holder it is overdue instead."""
    items = _locked_items(session, select(WorkItem).where(
        WorkItem.status.in_(OPEN), WorkItem.remind_date <= today, WorkItem.reminded_at.is_(None),
        or_(WorkItem.due_date.is_(None), WorkItem.due_date >= today))
        .order_by(WorkItem.subject_id, WorkItem.id))
    for item in items:
        if item.status not in OPEN or item.reminded_at is not None:
            continue
        item.reminded_at = clock.now()
        audit.record(session, "reminder_sent", "timer", subject_id=item.subject_id,
                     instance_id=item.instance_id, task_id=item.task_id,
                     data={"task": item.task_name, "due": item.due_date,
                           "to": _recipient(session, item)})
        report.reminders += 1


class EscalationChains:
    """The roles work items escalate to, level by level, read in one session.

    ``roles`` is one chain for every process, or a function from process id to chain
    (EngineConfig.escalation_chain) when a deployment's processes escalate to different
    roles; then each instance's process is read once for every item asked about (the
    daily digests ask about the same items for every user)."""

    def __init__(self, session: Session, roles) -> None:
        self.session, self.roles = session, roles
        self._process_of: dict[int, str] = {}  # instance id -> process id, read so far

    def read_processes(self, instance_ids) -> None:
        """Read the processes of these instances at once (one statement for many items)."""
        missing = set(instance_ids) - self._process_of.keys()
        if missing:
            with self.session.no_autoflush:  # a flush per item would cost more than the escalation
                self._process_of.update(self.session.execute(
                    select(ProcessInstance.id, ProcessInstance.process_id)
                    .where(ProcessInstance.id.in_(missing))).all())

    def of(self, item: WorkItem) -> tuple[str, ...]:
        if not callable(self.roles):
            return tuple(self.roles)
        self.read_processes([item.instance_id])
        return tuple(self.roles(self._process_of.get(item.instance_id)))


def escalate(session: Session, today: date, roles, report: Counts) -> None:
    if not roles:
        return
    items = _locked_items(session, select(WorkItem).where(
        WorkItem.status.in_(OPEN), WorkItem.next_escalation_date <= today)
        .order_by(WorkItem.subject_id, WorkItem.id))
    chains = EscalationChains(session, roles)
    if callable(roles):
        chains.read_processes([item.instance_id for item in items])  # one read for them all
    for item in items:
        if item.status not in OPEN:
            continue
        chain = chains.of(item)
        while chain and item.next_escalation_date is not None and item.next_escalation_date <= today:
            item.escalation_level += 1
            level = item.escalation_level
            to_role = chain[min(level, len(chain)) - 1]
            dates = item.escalate_dates or []
            item.next_escalation_date = date.fromisoformat(dates[level]) if level < len(dates) else None
            item.escalated_at = clock.now()
            audit.record(session, "escalated", "timer", subject_id=item.subject_id,
                         instance_id=item.instance_id, task_id=item.task_id,
                         data={"task": item.task_name, "level": level, "to_role": to_role,
                               "team": item.team, "due": item.due_date})
            report.escalations += 1
