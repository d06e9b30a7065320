"""E-mail alerts through a real SMTP server in the test process (aiosmtpd).

Reminders at due − remind offset, escalation to the team leader at due + first offset and to
the service manager at due + second offset, each received exactly once — also with two
workers sweeping at the same moment and after a worker dies between sending and marking.
"""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from engine import clock, outbox, sweeper
from engine.models import AuditEvent, Notification, OutboxMessage
from workflows import accounts

from .driver import Journey
from .mail_rows import give_emails, outbox_rows

CHILD_NAME = "Test Child"


def sweep(db, day, hour=5):
    """A sweep early in the morning, before the day's digests (from 06:00)."""
    clock.set_now(datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc))
    return sweeper.sweep(db.factory, db.runtime)


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def assert_no_child_name(inbox):
    for message in inbox.messages:
        assert CHILD_NAME not in message["Subject"]
        assert CHILD_NAME not in inbox.text(message)
        assert CHILD_NAME not in inbox.html(message)


def test_reminder_then_escalation_to_team_leader_then_service_manager(database, smtp):
    j = Journey(database).accommodate(date(2026, 1, 5))
    give_emails(database)
    j.complete("planning_meeting", date(2026, 1, 7))
    item = j.expect("initial_lar", "independent_chair", date(2026, 1, 26))  # remind -5d, escalate +2d +7d

    sweep(database, date(2026, 1, 20))
    assert smtp.of_kind("reminder") == []
    report = sweep(database, date(2026, 1, 21))
    assert (report.reminders, report.mails_sent) == (1, len(smtp.messages))
    [reminder] = smtp.of_kind("reminder")
    assert reminder["To"] == "chair@council.example"
    assert reminder["Subject"] == ("[PACE Flow] Reminder: Hold initial looked-after review for child "
                                   "C00001 is due 26 Jan 2026")
    assert f"http://pace.test/tasks/{item.id}" in smtp.text(reminder)
    assert f'href="http://pace.test/tasks/{item.id}"' in smtp.html(reminder)

    sweep(database, date(2026, 1, 27))
    assert smtp.of_kind("escalation") == []
    sweep(database, date(2026, 1, 28))
    [first] = smtp.of_kind("escalation")
    assert first["To"] == "tl.north@council.example"  # the child's team only, not tl.south
    assert "2 days overdue" in first["Subject"] and "team leader" in smtp.text(first)

    sweep(database, date(2026, 2, 1))
    assert len(smtp.of_kind("escalation")) == 1
    sweep(database, date(2026, 2, 2))
    second = smtp.of_kind("escalation", to="manager@council.example")
    assert len(second) == 1 and "service manager" in smtp.text(second[0])

    sweep(database, date(2026, 2, 2), hour=9)
    sweep(database, date(2026, 2, 3))
    notices = [m for m in smtp.messages if m["X-Notification-Kind"] != "digest"]
    assert [(m["X-Notification-Kind"], m["To"]) for m in notices] == [
        ("reminder", "chair@council.example"),
        ("escalation", "tl.north@council.example"),
        ("escalation", "manager@council.example")]
    assert set(smtp.message_ids().values()) == {1}
    assert smtp.text(reminder).count("(in 5 days)") == 1
    assert_no_child_name(smtp)
    with database.transaction() as session:
        chair = accounts.find_user(session, "chair")
        kinds = session.scalars(select(Notification.kind).where(Notification.user_id == chair.id)
                                .order_by(Notification.id)).all()
    assert kinds == ["reminder", "overdue"]  # overdue goes to the daily digest by default


def test_nothing_is_queued_while_mail_is_off(database, caplog):
    j = Journey(database).accommodate(date(2026, 1, 5))
    give_emails(database)
    j.complete("planning_meeting", date(2026, 1, 7))
    report = sweep(database, date(2026, 2, 2))
    assert report.escalations == 2 and report.mails_sent == 0
    assert outbox_rows(database) == []
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) >= 3


def test_immediate_mail_follows_preferences(database, smtp):
    from engine import notifications
    j = Journey(database).accommodate(date(2026, 1, 5))
    give_emails(database)
    with database.transaction() as session:
        tl = accounts.find_user(session, "tl.north")
        notifications.set_preference(session, database.runtime.config.notifications, tl.id,
                                     "escalation", "none")
    j.complete("planning_meeting", date(2026, 1, 7))
    sweep(database, date(2026, 1, 28))
    assert smtp.of_kind("escalation") == []  # still in the app, not by mail
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == tl.id, Notification.kind == "escalation")) == 1


def test_digest_groups_tasks_by_child_once_a_day(database, smtp):
    first = Journey(database, reference="C00001").accommodate(date(2026, 1, 5))
    second = Journey(database, reference="C00002").accommodate(date(2026, 1, 12))
    give_emails(database)
    first.complete("planning_meeting", date(2026, 1, 7))
    second.complete("planning_meeting", date(2026, 1, 14))
    # initial LARs due 26 Jan and 2 Feb; the chair's queue holds both.
    sweep(database, date(2026, 1, 27), hour=5)
    assert smtp.of_kind("digest") == []  # digests go out from 06:00
    sweep(database, date(2026, 1, 27), hour=6)
    sweep(database, date(2026, 1, 27), hour=8)
    [digest] = smtp.of_kind("digest", to="chair@council.example")
    text = smtp.text(digest)
    assert "1 overdue, 1 due within 7 days" in digest["Subject"]
    assert text.index("Child C00001") < text.index("OVERDUE by 1 day") < text.index("Child C00002")
    assert "Hold initial looked-after review: due 2 Feb 2026" in text.split("Child C00002")[1]
    assert "http://pace.test/children/" in text and "http://pace.test/tasks/" in text
    html = smtp.html(digest)
    assert "Child C00001</a>" in html and "Child C00002</a>" in html
    assert CHILD_NAME not in digest["Subject"] + text + html
    sweep(database, date(2026, 1, 28), hour=7)
    assert len(smtp.of_kind("digest", to="chair@council.example")) == 2
    assert smtp.of_kind("digest", to="sw.north@council.example") == []  # nothing for them
    assert set(smtp.message_ids().values()) == {1}


def test_a_crash_between_send_and_mark_sent_resends_with_the_same_message_id(database, smtp,
                                                                              monkeypatch):
    j = Journey(database).accommodate(date(2026, 1, 5))
    give_emails(database)
    j.complete("planning_meeting", date(2026, 1, 7))
    real_mark_sent = outbox.mark_sent
    crashed = []

    def crash_once(factory, row):
        if not crashed:
            crashed.append(row.message_id)
            raise RuntimeError("worker died after the mail server accepted the message")
        real_mark_sent(factory, row)

    monkeypatch.setattr(outbox, "mark_sent", crash_once)
    report = sweep(database, date(2026, 1, 21))  # the sweep reports the crash and goes on
    assert report.errors == ["e-mail: RuntimeError: worker died after the mail server "
                             "accepted the message"]
    assert len(smtp.of_kind("reminder")) == 1
    [row] = outbox_rows(database, kind="reminder")
    assert (row.status, row.attempts, row.sent_at) == ("sending", 1, None)

    sweep(database, date(2026, 1, 21), hour=5)  # within the lease: nobody resends yet
    assert len(smtp.of_kind("reminder")) == 1
    clock.advance(timedelta(minutes=11))
    outbox.send_due(database.factory)
    resent = smtp.of_kind("reminder")
    assert len(resent) == 2 and len({m["Message-ID"] for m in resent}) == 1
    assert resent[0]["Message-ID"] == crashed[0]
    [row] = outbox_rows(database, kind="reminder")
    assert (row.status, row.attempts) == ("sent", 2)
    clock.advance(timedelta(hours=1))
    outbox.send_due(database.factory)
    assert len(smtp.of_kind("reminder")) == 2


def test_refused_mail_is_retried_with_back_off_and_failures_stay_visible(database, smtp):
    j = Journey(database).accommodate(date(2026, 1, 5))
    give_emails(database)
    j.complete("planning_meeting", date(2026, 1, 7))
    smtp.refuse.append("451 4.3.0 Try again later")
    report = sweep(database, date(2026, 1, 21))
    assert (report.mails_sent, report.mail_errors) == (0, 1)
    [row] = outbox_rows(database, kind="reminder")
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    assert utc(row.next_attempt_at) == clock.now() + timedelta(minutes=1)
    clock.advance(timedelta(seconds=30))
    assert outbox.send_due(database.factory).sent == 0
    clock.advance(timedelta(seconds=31))
    assert outbox.send_due(database.factory).sent == 1
    [row] = outbox_rows(database, kind="reminder")
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)

    # A permanent refusal is given up at once and kept for the administrator to see.
    smtp.refuse.append("550 5.1.1 No such mailbox")
    sweep(database, date(2026, 1, 28))
    [row] = outbox_rows(database, kind="escalation")
    assert row.status == "failed" and row.next_attempt_at is None and "550" in row.last_error


def test_unreachable_server_is_retried(database, monkeypatch):
    from .smtp_inbox import free_port
    monkeypatch.setenv("PACE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PACE_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("PACE_SMTP_TLS", "none")
    j = Journey(database).accommodate(date(2026, 1, 5))
    give_emails(database)
    j.complete("planning_meeting", date(2026, 1, 7))
    report = sweep(database, date(2026, 1, 21))
    assert report.mail_errors == 1
    [row] = outbox_rows(database, kind="reminder")
    assert row.status == "pending" and "cannot reach the mail server" in row.last_error


@pytest.mark.postgres
def test_two_workers_sweeping_together_send_each_mail_once(pg_database, smtp):
    db = pg_database
    journeys = [Journey(db, reference=f"C{n:05d}", team="north" if n % 2 else "south")
                .accommodate(date(2026, 1, 5)) for n in range(1, 7)]
    give_emails(db)
    for j in journeys:
        j.complete("planning_meeting", date(2026, 1, 7))
    clock.set_now(None)

    def worker(day, hour):
        clock.set_now(datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc))
        return sweeper.sweep(db.factory, db.runtime)

    for day in (date(2026, 1, 21), date(2026, 1, 28), date(2026, 2, 2)):
        barrier = threading.Barrier(2)
        errors = []

        def run(day=day):
            barrier.wait()
            try:
                worker(day, 7)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
    ids = smtp.message_ids()
    assert set(ids.values()) == {1}, "a message was delivered twice"
    assert len({(m["To"], m["Subject"]) for m in smtp.messages}) == len(smtp.messages), \
        "a notice was queued twice"
    assert len(smtp.of_kind("reminder")) == 6  # one chair, six children
    assert len(smtp.of_kind("escalation", to="tl.north@council.example")) == 3
    assert len(smtp.of_kind("escalation", to="tl.south@council.example")) == 3
    assert len(smtp.of_kind("escalation", to="manager@council.example")) == 6
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event_type == "escalated")) == 12
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status != "sent")) == 0
    assert_no_child_name(smtp)


def test_mail_queued_long_before_any_worker_could_send_it_is_not_sent(database, smtp):
    j = Journey(database).accommodate(date(2026, 1, 5))
    give_emails(database)
    j.complete("planning_meeting", date(2026, 1, 7))
    clock.set_now(date(2026, 1, 21))
    sweeper.sweep(database.factory, database.runtime, mail=False)  # e.g. an import of old cases
    [row] = outbox_rows(database, kind="reminder")
    assert row.status == "pending"
    clock.set_now(date(2026, 1, 25))
    assert outbox.send_due(database.factory).sent == 0
    assert smtp.messages == []
    [row] = outbox_rows(database, kind="reminder")
    assert row.status == "failed" and row.last_error.startswith("not sent: queued more than")
