"""`pace worker`'s heartbeat, `pace doctor` and the guards on `pace demo` (issue 30), through
Flask's CLI runner on both databases."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from engine import clock, heartbeat
from engine.models import OutboxMessage, Subject, WorkerHeartbeat
from web import create_app
from workflows import accounts


def _cli(database, **config):
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", **config})
    app.extensions["pace_db"].engine.dispose()
    app.extensions["pace_db"] = database  # the test database, with its own schema
    return app.test_cli_runner()


@pytest.fixture
def cli(empty_database, monkeypatch):
    for name in ("PACE_SMTP_HOST", "PACE_SMTP_PORT", "PACE_SMTP_TLS"):
        monkeypatch.delenv(name, raising=False)
    return _cli(empty_database, DEMO_MODE=True), empty_database


def _lines(output: str) -> dict[str, str]:
    """``pace doctor``'s lines by check name: {"worker": "ok  worker  …"}."""
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[0] in ("ok", "WARN", "FAIL"):
            found[parts[1]] = line
    return found


def test_the_worker_beats_and_the_doctor_reads_it(cli):
    runner, database = cli
    before = runner.invoke(args=["doctor"])
    assert before.exit_code == 1  # no schema check fails, but nothing is deployed yet
    lines = _lines(before.output)
    assert lines["database"].startswith("ok") and lines["schema"].startswith("ok")
    assert lines["diagrams"].startswith("FAIL") and "pace init-db" in lines["diagrams"]
    assert lines["worker"].startswith("FAIL") and "has ever reported" in lines["worker"]

    assert runner.invoke(args=["init-db"]).exit_code == 0
    worker = runner.invoke(args=["worker", "--once", "--interval", "20"])
    assert worker.exit_code == 0, worker.output
    with database.transaction() as session:
        (row,) = session.scalars(select(WorkerHeartbeat)).all()
        assert row.rounds == 1 and row.errors == 0 and row.interval_seconds == 20
        assert {"timers_fired", "reminders", "mails_sent", "import_rows",
                "sign_in_summaries"} <= set(row.last_round)
    assert runner.invoke(args=["worker", "--once", "--interval", "20"]).exit_code == 0

    healthy = runner.invoke(args=["doctor"])
    assert healthy.exit_code == 0, healthy.output
    lines = _lines(healthy.output)
    assert lines["diagrams"].startswith("ok") and "permanence_journey v1" in lines["diagrams"]
    assert lines["worker"].startswith("ok") and "(every 20 s)" in lines["worker"]
    assert lines["e-mail"].startswith("WARN") and "off" in lines["e-mail"]
    assert lines["parked"].startswith("ok") and "0 e-mail(s) given up on" in lines["parked"]

    with database.transaction() as session:  # mail the worker gave up on: a warning
        session.add(OutboxMessage(message_id="<x@test>", dedupe_key="doctor:1", user_id=None,
                                  to_address="someone@council.example", subject="s",
                                  text_body="t", html_body=None, kind="escalation",
                                  status="failed", created_at=clock.now(), attempts=10,
                                  last_error="550 no such mailbox"))
        # a worker quiet for more than three of its intervals is presumed dead
        session.execute(update(WorkerHeartbeat).values(
            last_seen_at=heartbeat.now() - timedelta(seconds=61)))
    stale = runner.invoke(args=["doctor"])
    assert stale.exit_code == 1
    lines = _lines(stale.output)
    assert lines["worker"].startswith("FAIL")
    assert "seen for 3 of its intervals" in lines["worker"] and "start it again" in lines["worker"]
    assert lines["parked"].startswith("WARN") and "1 e-mail(s) given up on" in lines["parked"]
    assert "1 check(s) failed: worker" in stale.output


def test_the_doctor_sees_a_schema_behind_the_code(cli):
    runner, database = cli
    with database.engine.begin() as connection:
        heads = [r[0] for r in connection.execute(text("SELECT version_num FROM alembic_version"))]
        connection.execute(text("UPDATE alembic_version SET version_num = '0013_teams_and_people'"
                                " WHERE version_num = '0014_sign_in_limits'"))
    try:
        result = runner.invoke(args=["doctor"])
        assert result.exit_code == 1
        lines = _lines(result.output)
        assert lines["schema"].startswith("FAIL") and "0014_sign_in_limits" in lines["schema"]
        assert "worker" not in lines  # not read from a schema that may lack its tables
    finally:
        with database.engine.begin() as connection:
            connection.execute(text("DELETE FROM alembic_version"))
            for head in heads:
                connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})


def test_the_demo_needs_demo_mode_and_no_real_users(cli):
    runner, database = cli
    runner.invoke(args=["init-db"])
    off = _cli(database, DEMO_MODE=False).invoke(args=["demo", "--children", "1"])
    assert off.exit_code == 1 and "demo mode is off" in off.output
    with database.transaction() as session:
        accounts.ensure_team(session, "north")
        accounts.create_user(session, "jbloggs", "J Bloggs", "a-long-password", ["social_worker"],
                             "north")
    refused = runner.invoke(args=["demo", "--children", "1"])
    assert refused.exit_code == 1 and "looks like a real installation" in refused.output
    assert "jbloggs" in refused.output
    with database.transaction() as session:
        assert session.scalar(select(Subject.id)) is None
    forced = runner.invoke(args=["demo", "--children", "1", "--force"])
    assert forced.exit_code == 0, forced.output
    again = runner.invoke(args=["demo", "--if-empty"])  # nothing to build: nothing refused
    assert again.exit_code == 0 and "already present" in again.output
