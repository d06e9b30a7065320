"""Database engine and unit of work for both backends.

SQLite is the embedded default (WAL, busy timeout, ``BEGIN IMMEDIATE`` so a writer never
fails half-way when it upgrades a read lock); PostgreSQL is the scale-out store. The same
code runs on both; only these connection settings differ.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict

STALE_MESSAGE = ("Someone else changed this child's record at the same time; reload the page "
                 "and try again. Nothing was saved.")


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_after_idle(engine)
    return engine


# A pooled connection that came back less than this long ago is used without a ping.
IDLE_PING_SECONDS = 1.0


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has lain idle, instead of on every
    checkout (``pool_pre_ping``: a round trip per request, on the hot path).

    A server restart or a dropped connection is found while connections lie idle in the
    pool: the ping fails, the pool replaces that connection, and the request never sees
    it. A connection lost while busy, or in the moment since its last use, fails that
    one request (a "busy" page); SQLAlchemy recognises the disconnect and replaces every
    connection pooled before it, so the next request works.
    """
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record):
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy):
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < IDLE_PING_SECONDS:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_conn, None):
                raise DisconnectionError(str(exc)) from exc  # the pool connects afresh
            raise


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict(STALE_MESSAGE) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
