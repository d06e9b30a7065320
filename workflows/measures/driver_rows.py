"""Rows of a whole caseload as the database driver returns them.

The measures of a council read hundreds of thousands of rows; SQLAlchemy's per-row result
processing (on SQLite, parsing every date text) costs as much as the queries. These
readers take the driver's own rows instead, and ``Days`` makes each distinct day once:
the rows name a few thousand.
"""
from __future__ import annotations

import contextlib
import gc
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from sqlalchemy.engine import Connection
from sqlalchemy.pool import QueuePool


def fetch(connection: Connection, query) -> list[tuple]:
    result = connection.execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def fetch_alongside(connection: Connection, queries: dict, setup: str) -> dict | None:
    """Each query's rows (``fetch``), the queries run at once on PostgreSQL, each on a
    pooled connection of its own that imports this transaction's snapshot
    (``pg_export_snapshot``): together they read one moment of the database, as this
    transaction would, while the server works on them side by side. ``setup`` runs first
    on each. None, to be read one after another here, when they cannot:

    * not PostgreSQL;
    * this transaction has written (the others would not see what it wrote);
    * the pool has no connection to spare for each query beyond those in use: waiting for
      one could hold up every request that is waiting in turn for this one's.
    """
    if connection.dialect.name != "postgresql" or len(queries) < 2:
        return None
    pool = connection.engine.pool
    if not isinstance(pool, QueuePool) or pool.checkedout() + len(queries) > pool.size():
        return None
    if connection.exec_driver_sql("SELECT pg_current_xact_id_if_assigned()").scalar() is not None:
        return None
    snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    engine = connection.engine.execution_options(isolation_level="REPEATABLE READ",
                                                 postgresql_readonly=True)

    def read(query) -> list[tuple]:
        with engine.connect() as other:
            other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            other.exec_driver_sql(setup)
            try:
                return fetch(other, query)
            finally:
                other.rollback()

    with ThreadPoolExecutor(len(queries), thread_name_prefix="measure-read") as pool_of:
        futures = {key: pool_of.submit(read, query) for key, query in queries.items()}
        return {key: future.result() for key, future in futures.items()}


class Days(dict):
    """A driver's day -> date: SQLite's ISO text parsed once per distinct day, PostgreSQL's
    dates as they are, None as None. Look days up with ``days[value]``."""

    def __init__(self):
        super().__init__({None: None})

    def __missing__(self, value):
        found = self[value] = date.fromisoformat(value) if isinstance(value, str) else value
        return found


@contextlib.contextmanager
def collector_paused():
    """Building a council's rows makes hundreds of thousands of tuples, none in a cycle;
    each burst of them would otherwise start the cycle collector, which walks every object
    the process holds (seconds, in a process holding a large cache).

    On the way out, what was built is moved to the collector's oldest generation unread
    (``gc.freeze`` then ``gc.unfreeze``, two list splices) instead of being walked by the
    next young collection: at 100,000 children that walk is 0.12 s, a tenth of the aims,
    for objects that die by reference counting when the page is rendered. Anything cyclic
    among them is still collected, at the next full collection. Skipped when something else
    keeps objects frozen (a server that freezes at start-up), whose freeze this would undo.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
