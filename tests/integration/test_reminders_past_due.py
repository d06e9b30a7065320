"""A reminder is for work not yet late: a task already past its due date is not reminded of
(the worker was stopped over its reminder date, or it was late on arrival), it is escalated,
and the holder's queue hears it is overdue. "Is due 26 Jan (2 days ago)" never goes out."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.models import AuditEvent, Notification, UserAccount

from .driver import Journey


def _events(db, event_type: str) -> list[AuditEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_type)))


def _notes(db) -> list[tuple[str, str, str]]:
    with db.transaction() as session:
        return [tuple(row) for row in session.execute(
            select(UserAccount.username, Notification.kind, Notification.title)
            .join(UserAccount, UserAccount.id == Notification.user_id).order_by(Notification.id))]


def _initial_lar(database) -> Journey:
    j = Journey(database).accommodate(date(2026, 1, 5))
    j.complete("planning_meeting", date(2026, 1, 7))
    j.expect("initial_lar", "independent_chair", date(2026, 1, 26))  # remind -5d, escalate +2d +7d
    return j


def test_no_reminder_for_a_task_already_past_due_an_overdue_notice_instead(database):
    j = _initial_lar(database)
    report = j.sweep(date(2026, 1, 28))  # first sweep since before the reminder date
    assert report.reminders == 0 and report.escalations == 1
    assert _events(database, "reminder_sent") == []
    kinds = [(who, kind) for who, kind, _ in _notes(database)]
    assert ("chair", "overdue") in kinds and ("tl.north", "escalation") in kinds
    assert all(kind != "reminder" for _, kind in kinds)
    assert j.sweep(date(2026, 1, 29)).reminders == 0  # nor on any later sweep
    assert _events(database, "reminder_sent") == []


def test_a_task_due_today_is_still_reminded(database):
    j = _initial_lar(database)
    assert j.sweep(date(2026, 1, 26)).reminders == 1
    [(who, kind, title)] = _notes(database)
    assert (who, kind) == ("chair", "reminder") and title.endswith("is due 26 Jan 2026")
