"""kill -9 the timer worker at random points; after restart every timer has fired once."""
from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, Timer
from workflows.children import records as children

from .caseload import seed_children, url_with_search_path
from .consistency import assert_indexes_match_workflows

# Enough children that a sweep lasts long enough to be killed part-way: SQLite fires one
# child per transaction at a few hundred a second, so it needs more than PostgreSQL, whose
# batches of 25 children commit a few times a sweep.
CHILDREN = {"sqlite": 360, "postgresql": 80}


def _worker_env(db) -> dict:
    env = dict(os.environ)
    env["PACE_DATABASE_URL"] = url_with_search_path(db)
    return env


def test_worker_killed_mid_sweep_fires_each_timer_once(database):
    count = CHILDREN[database.engine.url.get_backend_name()]
    seed_children(database, "K", count, children.place_on_cso_at_home, date(2024, 1, 10))
    env = _worker_env(database)
    command = [sys.executable, "-m", "web.cli.main", "worker", "--once", "--now", "2026-01-01T09:00:00"]
    rng = random.Random(11)
    kills = 0

    def remaining() -> int:
        if database.engine.url.get_backend_name() == "sqlite":
            # A plain WAL reader: the app's transactions begin IMMEDIATE and would queue
            # behind the worker's, often until its whole sweep is over, leaving no moment
            # to kill it in.
            with contextlib.closing(sqlite3.connect(database.engine.url.database)) as conn:
                return conn.execute("SELECT count(*) FROM timer").fetchone()[0]
        with database.transaction() as session:
            return session.scalar(select(func.count()).select_from(Timer))

    for attempt in range(60):
        before = remaining()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started = time.monotonic()
        # Wait until this worker is visibly firing timers (start-up time varies with load),
        # then kill it a random moment later: mid-transaction at varying points.
        while proc.poll() is None and remaining() == before and time.monotonic() - started < 60:
            time.sleep(0.02)
        time.sleep(0 if kills == 0 else rng.uniform(0, 0.5))
        if proc.poll() is None and remaining() > 0:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            continue
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        if remaining() == 0:
            break
    else:
        pytest.fail("the worker never finished a sweep")
    assert kills >= 1, "the test must actually kill a worker mid-sweep"
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Timer)) == 0
        fired = session.execute(select(AuditEvent.instance_id, func.count()).where(
            AuditEvent.event_type == "timer_fired").group_by(AuditEvent.instance_id)).all()
        assert len(fired) == count and {n for _, n in fired} == {1}
    assert_indexes_match_workflows(database)
