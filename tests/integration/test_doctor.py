"""`pace worker`'s heartbeat, `pace doctor` and the guards on `pace demo` (issue 30), through
Flask's CLI runner on both databases."""
from __future__ import annotations

import http.server
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from engine import clock, heartbeat
from engine.models import OutboxMessage, Subject, WorkerHeartbeat
from tests.conftest import PG_URL
from web import create_app
from workflows import accounts

from .smtp_inbox import free_port


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
    from workflows.doctor import _alembic_script
    script = _alembic_script()
    with database.engine.begin() as connection:
        heads = [r[0] for r in connection.execute(text("SELECT version_num FROM alembic_version"))]
        # the newest revision of the longest line of migrations, taken back one step
        newest = max((script.get_revision(h) for h in heads),
                     key=lambda r: len(list(script.iterate_revisions(r.revision, "base"))))
        connection.execute(text("UPDATE alembic_version SET version_num = :older "
                                "WHERE version_num = :newest"),
                           {"older": newest.down_revision, "newest": newest.revision})
    try:
        result = runner.invoke(args=["doctor"])
        assert result.exit_code == 1
        lines = _lines(result.output)
        assert lines["schema"].startswith("FAIL") and newest.revision in lines["schema"]
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


# -- a deployment set up for real (issue 25): secret key, HTTPS cookies, SMTP, OIDC --------------
class _Discovery(http.server.BaseHTTPRequestHandler):
    """A provider's discovery document, served over real HTTP on this machine."""
    issuer = ""

    def do_GET(self):  # noqa: N802 - the name http.server calls
        if self.path != "/.well-known/openid-configuration":
            self.send_error(404)
            return
        body = json.dumps({"issuer": self.issuer, "authorization_endpoint": self.issuer + "/auth",
                           "token_endpoint": self.issuer + "/token",
                           "jwks_uri": self.issuer + "/jwks"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def provider():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    _Discovery.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield _Discovery.issuer
    server.shutdown()
    server.server_close()


GOOD_KEY = "3f9c2a7e8b1d4c6f0a5e9b2d7c4f1a8e6b3d0c9f2e5a8b1d4c7f0e3a6b9c2d5f"


@pytest.fixture
def live(database, monkeypatch, smtp, provider):
    """A healthy production configuration: migrated, deployed, a worker seen, a real secret
    key, HTTPS cookies, a mail server and a sign-in provider that answer."""
    monkeypatch.setenv("PACE_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("PACE_OIDC_ISSUER", provider)
    monkeypatch.setenv("PACE_OIDC_CLIENT_ID", "pace-flow")
    monkeypatch.setenv("PACE_OIDC_CLIENT_SECRET", "a-client-secret-from-the-provider")
    heartbeat.beat(database.factory, "worker-1", started_at=heartbeat.now(), interval=30,
                   did={}, errors=[])
    return database


def test_a_healthy_deployment_passes_every_check(live):
    result = _cli(live, DEMO_MODE=False, HTTPS=True).invoke(args=["doctor"])
    lines = _lines(result.output)
    assert result.exit_code == 0, result.output
    for name in ("database", "schema", "diagrams", "worker", "e-mail", "secret", "https",
                 "smtp", "sign-in"):
        assert lines[name].startswith("ok"), lines[name]
    assert "answers (discovery document read)" in lines["sign-in"]
    assert "127.0.0.1" in lines["smtp"] and "answers" in lines["smtp"]


def test_a_wrong_database_url_is_named_with_what_to_check(monkeypatch):
    monkeypatch.setenv("PACE_SECRET_KEY", GOOD_KEY)
    wrong = PG_URL.rsplit("/", 1)[0] + "/no_such_pace_database"
    result = create_app({"TESTING": True, "DATABASE_URL": wrong, "HTTPS": True}
                        ).test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 1
    line = _lines(result.output)["database"]
    assert line.startswith("FAIL") and "no_such_pace_database" in line
    assert 'database "no_such_pace_database" does not exist' in line
    assert "Check PACE_DATABASE_URL (database_url in the settings file)" in line
    assert "schema" not in _lines(result.output)  # nothing read from a database not there


@pytest.mark.parametrize("key,expected", [
    (None, "not set: neither PACE_SECRET_KEY nor secret_key in the settings file"),
    ("change-me", "PACE_SECRET_KEY is 'change-me', an example value anyone can read"),
    ("short-key-2026", "PACE_SECRET_KEY is too easy to guess (14 characters"),
])
def test_a_missing_or_weak_secret_key_fails_saying_how_to_make_one(live, monkeypatch, key,
                                                                    expected):
    if key is None:
        monkeypatch.delenv("PACE_SECRET_KEY")
    else:
        monkeypatch.setenv("PACE_SECRET_KEY", key)
    result = _cli(live, DEMO_MODE=False, HTTPS=True).invoke(args=["doctor"])
    assert result.exit_code == 1
    line = _lines(result.output)["secret"]
    assert line.startswith("FAIL") and expected in line
    assert "secrets.token_hex(32)" in line
    assert "1 check(s) failed: secret key" in result.output


def test_cookies_without_https_and_servers_that_do_not_answer_fail(live, monkeypatch):
    closed = free_port()
    monkeypatch.setenv("PACE_SMTP_PORT", str(closed))
    monkeypatch.setenv("PACE_OIDC_ISSUER", f"http://127.0.0.1:{closed}")
    result = _cli(live, DEMO_MODE=False).invoke(args=["doctor"])
    assert result.exit_code == 1
    lines = _lines(result.output)
    assert lines["https"].startswith("FAIL") and "set PACE_HTTPS=1" in lines["https"]
    assert lines["smtp"].startswith("FAIL") and f"cannot talk to 127.0.0.1:{closed}" \
        in lines["smtp"] and "Check PACE_SMTP_HOST, PACE_SMTP_PORT" in lines["smtp"]
    assert lines["sign-in"].startswith("FAIL") and "cannot reach http://127.0.0.1:" \
        f"{closed}/.well-known/openid-configuration" in lines["sign-in"]
    assert "3 check(s) failed: https cookies, smtp, sign-in provider" in result.output


def test_a_provider_that_calls_itself_otherwise_fails(live, monkeypatch, provider):
    monkeypatch.setenv("PACE_OIDC_ISSUER", provider + "/")
    line = _lines(_cli(live, DEMO_MODE=False, HTTPS=True).invoke(args=["doctor"]).output)
    assert line["sign-in"].startswith("FAIL")
    assert f"the provider calls itself {provider!r}, not {provider + '/'!r}" in line["sign-in"]
