"""Throw-away databases for tests and benchmarks: a SQLite file, or a PostgreSQL schema.

Tests and benchmarks both need a fresh, empty database per run on either backend, and
must leave nothing behind on the shared PostgreSQL server; one helper keeps the two from
drifting apart (schema naming, search path, clean-up order).
"""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text


@dataclass(frozen=True)
class ScratchDatabase:
    backend: str            # "sqlite" | "postgres"
    url: str
    connect_args: dict = field(default_factory=dict)

    def engine_kwargs(self) -> dict:
        """What to pass to ``make_engine`` besides the URL (SQLite sets its own args)."""
        return {"connect_args": dict(self.connect_args)} if self.connect_args else {}


def pg_problem(url: str) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used, or None when a query works."""
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc).splitlines()[0]


@contextlib.contextmanager
def scratch_database(backend: str, folder: Path, pg_url: str, *, prefix: str,
                     pg_options: str = "") -> Iterator[ScratchDatabase]:
    """A fresh database: ``<folder>/<prefix>.db``, or schema ``<prefix>_<random>`` in
    ``pg_url``, dropped on exit. Dispose every engine opened on it before the block ends
    (an open connection would make DROP SCHEMA wait)."""
    if backend == "sqlite":
        yield ScratchDatabase(backend, f"sqlite:///{Path(folder) / f'{prefix}.db'}")
        return
    if backend != "postgres":
        raise ValueError(f"unknown backend {backend!r}; use sqlite or postgres")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT",
                          **({"connect_args": {"options": pg_options}} if pg_options else {}))
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        options = f"-csearch_path={schema} {pg_options}".strip()
        try:
            yield ScratchDatabase(backend, pg_url, {"options": options})
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
