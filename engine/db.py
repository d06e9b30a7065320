"""Database engine and unit of work for both backends.

SQLite is the embedded default (WAL, busy timeout, ``BEGIN IMMEDIATE`` so a writer never
fails half-way when it upgrades a read lock); PostgreSQL is the scale-out store. The same
code runs on both; only these connection settings differ.

A transaction that only reads (``unit_of_work(..., read_only=True)``: a council's measures,
a second or more at national scale) starts with a plain ``BEGIN`` on SQLite, so in WAL it
reads a snapshot while caseworkers' saves go on, instead of holding the one write lock for
its whole length; on PostgreSQL it is ``READ ONLY``, so a write slipped into such a path
fails in every test run rather than passing unnoticed on SQLite.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict
from .session_memo import forget_at_transaction_ends

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
            read_only = conn.get_execution_options().get(READ_ONLY)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        engine.dialect.statement_compiler = _SQLiteHintsCompiler
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


class _SQLiteHintsCompiler(SQLiteCompiler):
    """SQLAlchemy's SQLite compiler drops FROM hints; this one renders them as written, so
    ``select(...).with_hint(Table, "INDEXED BY ix_name", "sqlite")`` can name the covering
    index SQLite's planner passes over for a primary-key lookup (which, for a row holding
    a large serialized state, reads every overflow page before the columns after it)."""

    def get_from_hint_text(self, table, text):
        return text


READ_ONLY = "pace_read_only"  # execution option: this transaction only reads


def _read_only_options(engine: Engine) -> dict:
    if engine.dialect.name == "postgresql":
        return {READ_ONLY: True, "postgresql_readonly": True}
    return {READ_ONLY: True}


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """The engine's sessions: objects stay readable after commit, and what a session
    remembers for a transaction (engine/session_memo.py) is forgotten when it ends. Notices
    are derived only once the runtime is wired to the factory (``NoticeDerivation.listen``,
    see workflows/app.py)."""
    factory = sessionmaker(engine, expire_on_commit=False)
    forget_at_transaction_ends(factory)
    return factory


@contextlib.contextmanager
def unit_of_work(factory: sessionmaker[Session], read_only: bool = False) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back on any error."""
    session = factory()
    try:
        if read_only:
            session.connection(execution_options=_read_only_options(session.get_bind()))
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


def new_row(mapped, **values):
    """``mapped(**values)`` for the rows the save path makes on every request (audit
    events, work items): the same new object, its values set straight into its state
    instead of through one attribute event each (a third of what an audit event cost). Only
    for classes no attribute listener or validator watches, with column values only; the
    flush reads a new object's values from its state either way."""
    obj = mapped.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj
