"""Rows of a whole caseload as the database driver returns them.

The measures of a council read hundreds of thousands of rows; SQLAlchemy's per-row result
processing (on SQLite, parsing every date text) costs as much as the queries. These
readers take the driver's own rows instead, and ``Days`` makes each distinct day once:
the rows name a few thousand.
"""
from __future__ import annotations

import contextlib
import gc
from datetime import date

from sqlalchemy.engine import Connection


def fetch(connection: Connection, query) -> list[tuple]:
    result = connection.execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


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
