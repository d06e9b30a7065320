"""kill -9 a gunicorn web worker inside a task completion, at each point of its transaction.

The real app runs under gunicorn (as in production) on the test's SQLite file or
PostgreSQL schema. The test-only fault hook (web/shared/fault_points.py) parks the worker at one
named point of the completion; the test kills it there with SIGKILL and gunicorn starts a
new worker. Then: the completion committed earlier is intact, the killed one either
happened completely (killed after COMMIT returned) or left no trace at all (killed
before), every index matches its workflow, the audit chains verify, and sending the same
form again completes the task exactly once.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bench.web_load import Client, serve, stop
from engine import clock
from engine.models import AuditEvent, WorkItem
from workflows.children import records as children

from .caseload import seed_children, url_with_search_path
from .consistency import assert_indexes_match_workflows, snapshot

# (point, whether the killed completion is committed)
POINTS = [("advanced", False), ("flushed", False), ("commit", False), ("committed", True)]


def _form(token: str) -> dict:
    held = date.today()
    return {"csrf_token": token, "date_held.year": str(held.year), "date_held.month": str(held.month),
            "date_held.day": str(held.day), "chair": "A. Reid", "actions_agreed": "Agreed actions.",
            "attendees.count": "0", "action": "complete"}


def _completions(db, item_id: int) -> int:
    with db.transaction() as session:
        task_id = session.get(WorkItem, item_id).task_id
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event_type == "task_completed", AuditEvent.task_id == task_id))


def _status(db, item_id: int) -> str:
    with db.transaction() as session:
        return session.get(WorkItem, item_id).status


def _wait_for(path, server: subprocess.Popen, seconds: float = 90) -> int:
    """The pid the parked worker wrote, once it is inside the transaction."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return int(path.read_text())
        assert server.poll() is None, "gunicorn exited: " + server.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    pytest.fail(f"no worker reached the pause point within {seconds} s")


def _uncommitted_writes(db) -> bool:
    """Whether another connection holds writes it has not committed (the parked worker)."""
    if db.engine.url.get_backend_name() == "sqlite":
        probe = sqlite3.connect(db.engine.url.database, timeout=0.2)
        try:
            probe.execute("BEGIN IMMEDIATE")  # refused while a writer is inside its transaction
            probe.rollback()
            return False
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return True
        finally:
            probe.close()
    with db.engine.connect() as conn:
        return bool(conn.exec_driver_sql(
            "select count(*) from pg_locks l join pg_class c on c.oid = l.relation "
            "where c.relnamespace = current_schema()::regnamespace "
            "and l.mode = 'RowExclusiveLock' and l.pid <> pg_backend_pid()").scalar())


def _stop_with_parked(server: subprocess.Popen, marker) -> None:
    if marker.exists() and marker.read_text():
        try:  # a worker still parked would otherwise outlive its master
            os.kill(int(marker.read_text()), signal.SIGKILL)
        except ProcessLookupError:
            pass
    stop(server)
    print(server.stderr.read().decode()[-4000:])  # shown by pytest when the test failed


@pytest.mark.parametrize("point,committed", POINTS)
def test_web_worker_killed_mid_completion_loses_and_half_writes_nothing(
        database, tmp_path, point, committed):
    seed_children(database, "W", 2, children.accommodate, date.today() - timedelta(days=3))
    clock.set_now(None)  # the server runs on the real clock; so does this test from here
    with database.transaction() as session:
        earlier, killed = session.scalars(select(WorkItem.id).where(
            WorkItem.status == "ready", WorkItem.task_name == "planning_meeting")
            .order_by(WorkItem.id)).all()
    marker = tmp_path / "paused"
    server, port = serve(url_with_search_path(database), 1, PACE_SECRET_KEY="crash-test",
                         PACE_TEST_PAUSE_AT=point, PACE_TEST_PAUSE_FILE=str(marker))
    try:
        browser = Client(port)
        browser.sign_in()
        token = browser.token(f"/tasks/{earlier}")
        assert browser.request("POST", f"/tasks/{earlier}", _form(token))[0] == 302
        before = snapshot(database)
        marker.write_text("")  # arm the pause point for the next completion

        doomed = Client(port)
        doomed.cookies = dict(browser.cookies)
        outcome: dict = {}

        def submit():
            try:
                outcome["status"] = doomed.request("POST", f"/tasks/{killed}", _form(token))[0]
            except Exception as exc:  # noqa: BLE001 - the dropped connection is expected
                outcome["error"] = exc
        thread = threading.Thread(target=submit)
        thread.start()
        worker = _wait_for(marker, server)
        assert _uncommitted_writes(database) is not committed
        os.kill(worker, signal.SIGKILL)
        thread.join(60)
        assert "error" in outcome, f"the browser got an answer from a killed worker: {outcome}"

        # gunicorn has started a new worker; the database is as the kill left it
        assert _status(database, earlier) == "completed" and _completions(database, earlier) == 1
        if committed:
            assert _status(database, killed) == "completed" and _completions(database, killed) == 1
            before = snapshot(database)  # complete: the resend below must add nothing
        else:
            assert snapshot(database) == before, "the killed completion left rows behind"
            assert _status(database, killed) == "ready"
        assert_indexes_match_workflows(database)

        again = Client(port)  # the worker resends the page it never got an answer to
        again.cookies = dict(browser.cookies)
        assert again.request("POST", f"/tasks/{killed}", _form(token))[0] == 302
        if committed:
            assert snapshot(database) == before, "the resent form was recorded a second time"
        assert _status(database, killed) == "completed" and _completions(database, killed) == 1
        assert _completions(database, earlier) == 1
        assert_indexes_match_workflows(database)
    finally:
        _stop_with_parked(server, marker)
