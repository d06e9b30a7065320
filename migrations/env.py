"""Alembic environment: migrations run on a connection the app hands over, or on
PACE_DATABASE_URL when run from the alembic command line.

The schema compared by ``alembic revision --autogenerate`` and ``alembic check`` is
``workflows.schema``'s: the one module that imports every module declaring tables, so
autogenerate sees them all (importing only some made it propose dropping the others).
The comparison's settings are there too (``configure_options``), shared with
tests/integration/test_schema_check.py, which runs ``alembic check`` in the test suite.
"""
from __future__ import annotations

import os

from alembic import context

from engine.db import make_engine
from workflows import schema

config = context.config
target_metadata = schema.metadata


def _run(connection) -> None:
    context.configure(connection=connection, **schema.configure_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(os.environ.get("PACE_DATABASE_URL", "sqlite:///instance/pace.db"))
    with engine.begin() as connection:
        _run(connection)


run_migrations_online()
