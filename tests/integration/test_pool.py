"""Pooled PostgreSQL connections: no ping on the hot path, yet a dropped idle connection
is replaced before any request sees it."""
import time

import pytest
from sqlalchemy import create_engine, text

from engine import db
from tests.conftest import PG_URL


@pytest.mark.postgres
def test_connections_dropped_while_idle_are_replaced_unseen(pg_ready, monkeypatch):
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.2)
    engine = db.make_engine(PG_URL, pool_size=3)
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        held = [engine.connect() for _ in range(3)]
        dropped = {c.execute(text("select pg_backend_pid()")).scalar() for c in held}
        for connection in held:
            connection.close()
        with admin.connect() as killer:  # as a server restart would
            for pid in dropped:
                killer.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        time.sleep(0.4)
        for _ in range(3):
            with engine.connect() as connection:
                assert connection.execute(text("select pg_backend_pid()")).scalar() not in dropped
    finally:
        engine.dispose()
        admin.dispose()


@pytest.mark.postgres
def test_a_connection_in_steady_use_is_not_pinged(pg_ready):
    engine = db.make_engine(PG_URL, pool_size=1)
    pings = []
    original = engine.dialect.do_ping  # counted, still pinging (pool_pre_ping would call it)
    engine.dialect.do_ping = lambda conn: pings.append(1) or original(conn)
    try:
        for _ in range(20):
            with engine.connect() as connection:
                connection.execute(text("select 1"))
        assert pings == []
    finally:
        engine.dispose()
