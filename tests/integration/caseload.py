"""A small caseload on a test database, and its URL for processes started by a test."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import quote

from engine import clock
from workflows.children import records as children
from workflows.demo import scotland as demo


def seed_children(db, prefix: str, count: int, start: Callable, day: date) -> list[int]:
    """The demo users plus ``count`` north-team children, each started on ``day`` with
    ``start`` (``children.accommodate``, ``children.place_on_cso_at_home``); the clock is
    left at ``day``."""
    clock.set_now(day)
    ids = []
    with db.transaction() as session:
        demo.ensure_users(session, actor="test")
        for number in range(count):
            child = children.register_child(session, f"{prefix}{number:04d}", "Child", "north", "test")
            start(session, db.runtime, child, day, "test")
            ids.append(child.id)
    return ids


def url_with_search_path(db) -> str:
    """The test database's URL, pointing a new process at the test's own PostgreSQL schema."""
    url = db.engine.url
    if url.get_backend_name() != "postgresql":
        return url.render_as_string(hide_password=False)
    with db.engine.connect() as conn:
        schema = conn.exec_driver_sql("select current_schema()").scalar()
    return url.render_as_string(hide_password=False) + "?options=" + quote(f"-csearch_path={schema}")
