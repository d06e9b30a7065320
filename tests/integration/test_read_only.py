"""Transactions that only read: on SQLite they leave the write lock to caseworkers' saves;
on PostgreSQL a write inside one fails. And SQLite renders the index hints queries give."""
import sqlite3

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import InternalError, OperationalError

from engine.models import ProcessInstance, Subject


def _write_elsewhere(path: str) -> None:
    """A save on a connection of its own (a caseworker's request), waiting at most half a
    second for the write lock."""
    other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO subject (reference, display_name, team, attributes, created_at) "
                      "VALUES ('W1', 'W', 'north', '{}', '2026-01-05 09:00:00')")
        other.execute("COMMIT")
    finally:
        other.close()


def test_a_sqlite_read_only_transaction_does_not_hold_the_write_lock(sqlite_database):
    path = sqlite_database.engine.url.database
    with sqlite_database.transaction(read_only=True) as session:
        before = session.scalar(select(Subject.id).limit(1))
        _write_elsewhere(path)  # would fail with "database is locked" under BEGIN IMMEDIATE
        assert session.scalar(select(Subject.id).limit(1)) == before
    with sqlite_database.transaction() as session:
        session.execute(select(Subject.id).limit(1))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            _write_elsewhere(path)  # an ordinary transaction holds it, as it should


def test_a_sqlite_read_only_transaction_reads_one_snapshot(sqlite_database):
    path = sqlite_database.engine.url.database
    with sqlite_database.transaction(read_only=True) as session:
        count = session.scalar(text("SELECT count(*) FROM subject"))
        _write_elsewhere(path)
        assert session.scalar(text("SELECT count(*) FROM subject")) == count
    with sqlite_database.transaction(read_only=True) as session:
        assert session.scalar(text("SELECT count(*) FROM subject")) == count + 1


@pytest.mark.postgres
def test_a_postgresql_read_only_transaction_refuses_writes(pg_database):
    with pg_database.transaction(read_only=True) as session:
        assert session.scalar(text("SHOW transaction_read_only")) == "on"
    with pytest.raises((InternalError, OperationalError), match="read-only transaction"):
        with pg_database.transaction(read_only=True) as session:
            session.add(Subject(reference="W2", display_name="W", team="north"))
            session.flush()
    with pg_database.transaction() as session:
        assert session.scalar(text("SHOW transaction_read_only")) == "off"


def test_sqlite_renders_index_hints(sqlite_database):
    query = select(ProcessInstance.id).with_hint(
        ProcessInstance, "INDEXED BY ix_process_instance_ended", "sqlite")
    assert "process_instance INDEXED BY ix_process_instance_ended" in str(
        query.compile(sqlite_database.engine))
    with sqlite_database.transaction(read_only=True) as session:
        plan = session.execute(text("EXPLAIN QUERY PLAN " + str(query.where(
            ProcessInstance.process_id == "x").compile(
                sqlite_database.engine, compile_kwargs={"literal_binds": True})))).all()
    assert any("ix_process_instance_ended" in row[-1] for row in plan)
