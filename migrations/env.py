"""Alembic environment: migrations run on a connection the app hands over, or on
PACE_DATABASE_URL when run from the alembic command line."""
from __future__ import annotations

import os

from alembic import context

from engine.db import make_engine
from engine.models import Base
import workflows.settings_models  # noqa: F401 - aims/PDSA tables on the same Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(os.environ.get("PACE_DATABASE_URL", "sqlite:///instance/pace.db"))
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
