"""Nothing a user typed can stop ``pace worker``: a reference with a line break cannot forge
a mail header, a row that cannot become an e-mail is parked (listed for the operator) while
the rest of the batch is sent, and a step that fails does not stop the others."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import update

from engine import clock, escalation, sweeper
from engine.models import OutboxMessage, Subject
from web import create_app

from .driver import Journey
from .mail_rows import give_emails, outbox_rows

FORGED = "C00001\r\nBcc: someone@example.org"


def at(day: date, hour: int = 5) -> None:
    clock.set_now(datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc))


def reference_stored_before_the_rule(db, child_id: int) -> None:
    """A reference written before references were checked (the API now refuses it)."""
    with db.transaction() as session:
        session.execute(update(Subject).where(Subject.id == child_id).values(reference=FORGED))


def queue_unbuildable_mail(db) -> None:
    """An outbox row whose address holds a line break: no e-mail can be built from it."""
    with db.transaction() as session:
        session.add(OutboxMessage(message_id="<bad@pace.test>", dedupe_key="test:bad",
                                  to_address="chair@council.example\r\nBcc: someone@example.org",
                                  subject="Broken", text_body="x", kind="reminder",
                                  created_at=clock.now(), next_attempt_at=clock.now()))


def test_a_line_break_in_a_reference_cannot_add_a_recipient(database, smtp):
    j = Journey(database).accommodate(date(2026, 1, 5))
    give_emails(database)
    j.complete("planning_meeting", date(2026, 1, 7))
    reference_stored_before_the_rule(database, j.child_id)
    at(date(2026, 1, 21))
    report = sweeper.sweep(database.factory, database.runtime)
    assert report.errors == [] and report.mails_sent == 1
    [reminder] = smtp.of_kind("reminder")
    assert smtp.recipients == [["chair@council.example"]]
    assert reminder["Bcc"] is None
    assert reminder["Subject"].startswith("[PACE Flow] Reminder: ") and "\n" not in reminder["Subject"]
    assert "C00001  Bcc: someone@example.org" in reminder["Subject"]  # folded, shown as typed


def test_a_mail_that_cannot_be_built_is_parked_and_the_rest_still_go(database, smtp):
    j = Journey(database).accommodate(date(2026, 1, 5))
    give_emails(database)
    j.complete("planning_meeting", date(2026, 1, 7))
    at(date(2026, 1, 21))
    queue_unbuildable_mail(database)
    report = sweeper.sweep(database.factory, database.runtime)
    assert report.reminders == 1 and report.mails_sent == 1 and report.mail_errors == 1
    assert len(smtp.of_kind("reminder")) == 1
    [bad] = outbox_rows(database, dedupe_key="test:bad")
    assert bad.status == "failed" and bad.next_attempt_at is None
    assert bad.last_error.startswith("cannot build the message: ValueError")
    assert all(r.status in ("sent", "failed") for r in outbox_rows(database))  # none left sending

    # Parked for good: later sweeps neither retry it nor report it again, and timers go on.
    at(date(2026, 1, 28))
    later = sweeper.sweep(database.factory, database.runtime)
    assert later.errors == [] and later.escalations >= 1
    assert outbox_rows(database, dedupe_key="test:bad")[0].attempts == 1

    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    app.extensions["pace_db"] = database
    listed = app.test_cli_runner().invoke(args=["worker", "failures"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith("1 e-mail(s) failed; 0 waiting to be sent")
    assert f"#{bad.id} to 'chair@council.example\\r\\nBcc: someone@example.org'" in listed.output
    assert "cannot build the message: ValueError" in listed.output


def test_a_failing_step_is_reported_and_the_other_steps_still_run(database, smtp,
                                                                  monkeypatch):
    j = Journey(database).accommodate(date(2026, 1, 5))
    give_emails(database)
    j.complete("planning_meeting", date(2026, 1, 7))

    def broken(*args, **kwargs):  # fault injection: the step meets something no one foresaw
        raise RuntimeError("escalation rules could not be read")

    monkeypatch.setattr(escalation, "escalate", broken)
    at(date(2026, 1, 21))
    report = sweeper.sweep(database.factory, database.runtime)
    assert report.errors == ["escalations: RuntimeError: escalation rules could not be read"]
    assert report.reminders == 1 and report.mails_sent == 1  # the steps after it still ran
    assert len(smtp.of_kind("reminder")) == 1


def test_the_worker_loop_reports_a_failed_round_and_goes_on(database, monkeypatch):
    """``pace worker --once`` ends 1 naming the failure rather than a traceback."""
    Journey(database).accommodate(date(2026, 1, 5))
    calls = []

    def sweep_fails_once(factory, runtime, *args, **kwargs):
        calls.append(1)
        raise ConnectionError("database went away")

    monkeypatch.setattr(sweeper, "sweep", sweep_fails_once)
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    app.extensions["pace_db"] = database
    result = app.test_cli_runner().invoke(args=["worker", "--once", "--now", "2026-01-21T05:00:00"])
    assert result.exit_code == 1 and calls == [1]
    assert "error: sweep: ConnectionError: database went away" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
