"""TEST-ONLY: park a web worker inside a task-completion transaction so a test can kill it.

The crash tests (tests/integration/test_web_crash.py) must SIGKILL a real gunicorn worker
at known moments of the completion transaction and then prove that nothing half-written
is visible. Sleeping on a named point is the only way to hit such a moment every time.

Off unless the process starts with ``PACE_TEST_PAUSE_AT=<point>`` (and
``PACE_TEST_PAUSE_FILE=<path>``) in its environment; nothing a request carries can switch
it on, and with the variable unset ``install`` registers nothing. The test arms the point
by creating the file empty; the first completion to reach the point then writes the
worker's pid into it and sleeps until it is killed. Unarmed, or once the file holds a pid,
the point is passed, so completions before the test is ready and the restarted worker
run normally.
Never set these variables on a real installation.

Points, in the order a completion passes them:

* ``advanced``: the workflow has moved on in memory; its new state is not yet flushed.
* ``flushed``: every row of the completion is written but the transaction is open.
* ``commit``: COMMIT is about to be sent to the database.
* ``committed``: COMMIT has returned (on SQLite the WAL write is done) and the worker has
  not yet answered the browser.
"""
from __future__ import annotations

import os
import time

from sqlalchemy import event


POINTS = ("advanced", "flushed", "commit", "committed")
_MARK = "pace_completing"


def install(database, environ=os.environ) -> None:
    point, marker = environ.get("PACE_TEST_PAUSE_AT"), environ.get("PACE_TEST_PAUSE_FILE")
    if not point:
        return
    if point not in POINTS or not marker:
        raise RuntimeError(f"PACE_TEST_PAUSE_AT must be one of {', '.join(POINTS)} and "
                           "PACE_TEST_PAUSE_FILE a path; unset both outside the crash tests.")

    def pause(at: str | None) -> None:
        if at != point or not os.path.exists(marker) or os.path.getsize(marker):
            return
        with open(marker, "w") as out:
            out.write(str(os.getpid()))
        while True:  # until the test kills this worker
            time.sleep(1)

    # Watched at the cursor, under whichever flush writes them (the unit of work's or the
    # save path's own, engine/writer.py): the instance's new state, then the completion's
    # audit event.
    @event.listens_for(database.engine, "before_cursor_execute")
    def _advanced(_conn, _cursor, statement, _parameters, _context, _executemany):
        if "UPDATE process_instance SET" in statement:  # alone, or in a WITH (PostgreSQL)
            pause("advanced")

    @event.listens_for(database.engine, "after_cursor_execute")
    def _completing(conn, _cursor, statement, parameters, _context, _executemany):
        if statement.startswith("INSERT INTO audit_event") and "'task_completed'" in repr(parameters):
            conn.info[_MARK] = True

    @event.listens_for(database.factory, "before_commit")
    def _flushed(session):
        session.flush()  # the audit event of the completion may still be pending
        if session.connection().info.get(_MARK):
            session.info[_MARK] = True
            pause("flushed")

    def then(point: str | None):
        """Pass ``point`` if this transaction (a Session's or Connection's) completed a
        task, and forget that it did: a pooled connection serves other requests next."""
        def listener(target):
            if target.info.pop(_MARK, False):
                pause(point)
        return listener

    event.listen(database.engine, "commit", then("commit"))
    event.listen(database.engine, "rollback", then(None))
    event.listen(database.factory, "after_commit", then("committed"))
    event.listen(database.factory, "after_rollback", then(None))
