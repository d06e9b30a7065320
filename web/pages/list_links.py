"""Links within a filtered, sorted, paged list (the task queues, “My team's work”).

A link keeps the list's current filters, changes the ones given, and leaves out what is
empty or the default (page 1, sorted by due date), so the addresses stay short and the
same list has one address.
"""
from __future__ import annotations

from flask import url_for


def list_link(endpoint: str, params: dict, **changes) -> str:
    """The address of ``endpoint`` with ``params`` changed by ``changes``."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in ("", None)}
    if merged.get("page") == 1:
        merged.pop("page")
    if merged.get("sort") == "due":
        merged.pop("sort")
    return url_for(endpoint, **merged)
