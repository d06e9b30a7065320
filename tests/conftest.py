"""Fixtures shared by every level: real SQLite and the real local PostgreSQL.

Each test process has its own PostgreSQL schemas in database ``test`` so parallel runs
never collide; a function-scoped database reuses one emptied after the previous test
(``PgSchemas``). With CI=true a missing PostgreSQL is a failure, not a skip.
"""
from __future__ import annotations

import contextlib
import os
import sys
from datetime import date

import pytest

from sqlalchemy import create_engine, text

from engine import clock
from engine.scratch_db import pg_problem, scratch_database
from workflows import schema
from workflows.app import Database
from workflows.process_models.bundled import deploy_bundled

from tests.required import missing

PG_URL = os.environ.get("PACE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]
# Test data need not survive a power cut: commits do not wait for the WAL flush, which
# makes the per-test schema's DDL and every commit far cheaper on slow disks. Everything
# else (locks, isolation, constraints) is the real server's behaviour.
NO_FLUSH_WAIT = "-csynchronous_commit=off"


@pytest.fixture(scope="session")
def pg_ready():
    problem = pg_problem(PG_URL)
    if problem:
        missing(f"PostgreSQL at {PG_URL} ({problem})")


class PgSchemas:
    """Migrated PostgreSQL schemas of this test process, reused by function-scoped databases.

    Building a schema (CREATE SCHEMA, every migration, DROP SCHEMA) costs about half a
    second; emptying one (DELETE from every table, then the rows and sequence positions the
    migrations left put back) about 20 ms. So a
    test that is done with its database gives the schema back, emptied, for the next test
    in the same process. A schema whose shape changed (a column, index or trigger), or
    that could not be emptied within the lock timeout (a connection left holding a lock),
    is dropped instead, so no test inherits another's leftovers. Module-scoped databases
    (shared worlds) keep schemas of their own."""

    def __init__(self):
        self.free: list[tuple[object, str]] = []   # (ScratchDatabase, shape when made)
        self.seeded: dict = {}                      # per schema: rows and sequences to restore
        self.scratch = contextlib.ExitStack()

    def take(self, tmp_path) -> tuple[object, str | None]:
        """A schema (with its shape) ready for a test; shape None: new, not migrated yet."""
        if self.free:
            return self.free.pop()
        where = self.scratch.enter_context(scratch_database(
            "postgres", tmp_path, PG_URL, prefix="t", pg_options=NO_FLUSH_WAIT))
        return where, None

    def give_back(self, where, shape: str) -> None:
        engine = create_engine(where.url, **where.engine_kwargs())
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                if _shape(conn) != shape:
                    return
                for table in reversed(schema.metadata.sorted_tables):
                    conn.execute(table.delete())
                rows, sequences = self.seeded[where.url, repr(where.connect_args)]
                for table in schema.metadata.sorted_tables:  # what the migrations seeded
                    if rows.get(table.name):
                        conn.execute(table.insert(), rows[table.name])
                for sequence, (value, called) in sequences.items():
                    conn.execute(text("SELECT setval(:s, :v, :c)"),
                                 {"s": f'"{sequence}"', "v": value, "c": called})
            self.free.append((where, shape))
        except Exception:  # noqa: BLE001 - not reusable: left for the drop at the end
            pass
        finally:
            engine.dispose()

    def remember_seed(self, where, conn) -> None:
        """The rows and sequence positions the migrations leave (default aim settings …),
        put back each time the schema is emptied."""
        rows = {table.name: [dict(r._mapping) for r in conn.execute(table.select())]
                for table in schema.metadata.sorted_tables}
        sequences = {name: (value, called) for name, value, called in conn.execute(text(
            "SELECT sequencename, COALESCE(last_value, 1), last_value IS NOT NULL "
            "FROM pg_sequences WHERE schemaname = current_schema()"))}
        self.seeded[where.url, repr(where.connect_args)] = (rows, sequences)


def _shape(conn) -> str:
    """Columns, indexes, triggers and the migration head of the current schema."""
    return conn.execute(text("""
        SELECT concat_ws('|',
          (SELECT string_agg(table_name || '.' || column_name || ':' || data_type || is_nullable,
                             ',' ORDER BY table_name, column_name)
             FROM information_schema.columns WHERE table_schema = current_schema()),
          (SELECT string_agg(indexdef, ',' ORDER BY indexdef) FROM pg_indexes
            WHERE schemaname = current_schema()),
          (SELECT string_agg(trigger_name, ',' ORDER BY trigger_name)
             FROM information_schema.triggers WHERE trigger_schema = current_schema()),
          (SELECT string_agg(version_num, ',') FROM alembic_version))""")).scalar()


@pytest.fixture(scope="session")
def pg_schemas():
    pool = PgSchemas()
    yield pool
    pool.scratch.close()


def make_database(backend: str, tmp_path, request, deploy: bool = True) -> Database:
    if backend == "postgres":
        request.getfixturevalue("pg_ready")
    pool = {"pool_size": 10, "max_overflow": 10} if backend == "postgres" else {}
    if backend == "postgres" and request.scope == "function":
        schemas = request.getfixturevalue("pg_schemas")
        where, shape = schemas.take(tmp_path)
        database = Database.connect(where.url, **where.engine_kwargs(), **pool)
        if shape is None:
            database.migrate()
            with database.engine.connect() as conn:
                shape = _shape(conn)
                schemas.remember_seed(where, conn)
        request.addfinalizer(lambda: schemas.give_back(where, shape))
        request.addfinalizer(database.engine.dispose)  # runs first: finalizers go last-first
    else:
        scratch = contextlib.ExitStack()
        request.addfinalizer(scratch.close)  # finalizers run last-first: after the dispose below
        where = scratch.enter_context(scratch_database(backend, tmp_path, PG_URL, prefix="t",
                                                       pg_options=NO_FLUSH_WAIT))
        database = Database.connect(where.url, **where.engine_kwargs(), **pool)
        request.addfinalizer(database.engine.dispose)
        database.migrate()
    if deploy:
        with database.transaction() as session:
            deploy_bundled(session)
    return database


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path) -> Database:
    return make_database(request.param, tmp_path, request)


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path) -> Database:
    """Schema only: for tests that deploy diagrams of their own."""
    return make_database(request.param, tmp_path, request, deploy=False)


@pytest.fixture
def pg_database(request, tmp_path) -> Database:
    return make_database("postgres", tmp_path, request)


@pytest.fixture
def sqlite_database(request, tmp_path) -> Database:
    return make_database("sqlite", tmp_path, request)


@pytest.fixture(autouse=True)
def _reset_clock():
    clock.set_now(None)
    yield
    clock.set_now(None)


@pytest.fixture
def at():
    """Set the injected clock: at(date(2026, 1, 5)) or at('2026-01-05')."""
    def _set(day):
        clock.set_now(date.fromisoformat(day) if isinstance(day, str) else day)
    return _set


@pytest.fixture
def environ():
    """The process's environment without PACE_ variables, put back as it was afterwards: the
    app factory writes the settings file's values into it (workflows/configuration.py)."""
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("PACE_")]:
        del os.environ[name]
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _caches_cleared_under_mutation_testing():
    """Under ``make mutate`` each test starts with empty functools caches: mutmut forks each
    mutant's run from a process that has already run the tests, and an answer cached from the
    unchanged code (check_expression, parse_rule …) would hide the change from every test."""
    if "MUTANT_UNDER_TEST" in os.environ:
        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith(("engine.", "workflows.")):
                for value in list(vars(module).values()):
                    if callable(getattr(value, "cache_clear", None)):
                        value.cache_clear()
    yield
