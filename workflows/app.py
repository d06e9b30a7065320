"""Wiring, built once and used by the web app, the CLI, tests and bench alike: one engine,
session factory and PACE runtime per database (``Database.connect``), the unit of work
(``transaction``) and the schema upgrade (``migrate``)."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.db import make_engine, make_session_factory, unit_of_work
from engine.runtime import Runtime
from .engine_config import pace_runtime
from . import schema  # noqa: F401 - every table, in the one metadata (workflows/schema.py)

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Database:
    engine: Engine
    factory: sessionmaker[Session]
    runtime: Runtime

    @classmethod
    def connect(cls, url: str, **engine_kwargs) -> "Database":
        return cls.wire(make_engine(url, **engine_kwargs), pace_runtime())

    @classmethod
    def wire(cls, engine: Engine, runtime: Runtime) -> "Database":
        """A session factory for ``engine`` whose flushes derive ``runtime``'s notices (its
        configuration's policy) from the audit events they write; the runtime derives those
        of its own save path itself (engine/notice_derivation.py)."""
        factory = make_session_factory(engine)
        runtime.notices.listen(factory)
        return cls(engine, factory, runtime)

    @contextmanager
    def transaction(self, read_only: bool = False):
        """``read_only``: for pages that only read (see engine/db.py)."""
        with unit_of_work(self.factory, read_only=read_only) as session:
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "migrations"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
