"""Fixtures shared by every level: real SQLite and the real local PostgreSQL.

Each PostgreSQL test gets its own schema in database ``test`` so parallel runs never
collide. With CI=true a missing PostgreSQL is a failure, not a skip.
"""
from __future__ import annotations

import contextlib
import os
from datetime import date

import pytest

from engine import clock
from engine.scratch_db import pg_problem, scratch_database
from workflows.app import Database
from workflows.models_deploy import deploy_bundled

PG_URL = os.environ.get("PACE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgres"]
# Test data need not survive a power cut: commits do not wait for the WAL flush, which
# makes the per-test schema's DDL and every commit far cheaper on slow disks. Everything
# else (locks, isolation, constraints) is the real server's behaviour.
NO_FLUSH_WAIT = "-csynchronous_commit=off"


@pytest.fixture(scope="session")
def pg_ready():
    problem = pg_problem(PG_URL)
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")


def make_database(backend: str, tmp_path, request, deploy: bool = True) -> Database:
    if backend == "postgres":
        request.getfixturevalue("pg_ready")
    scratch = contextlib.ExitStack()
    request.addfinalizer(scratch.close)  # finalizers run last-first: after the dispose below
    where = scratch.enter_context(scratch_database(backend, tmp_path, PG_URL, prefix="t",
                                                   pg_options=NO_FLUSH_WAIT))
    pool = {"pool_size": 10, "max_overflow": 10} if backend == "postgres" else {}
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
