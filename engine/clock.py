"""Injectable "now".

Tests, the demo generator and imports of historic caseloads must run the same code as
production at a chosen time. SpiffWorkflow reads ``datetime.now(timezone.utc)`` inside its
timer definitions; engine/spiff_fixes.py points that one module at this clock.
"""
from __future__ import annotations

import contextlib
import contextvars
from datetime import date, datetime, timedelta, timezone

_frozen: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("pace_now", default=None)


def now() -> datetime:
    """Current time, timezone-aware UTC; the injected time when one is set."""
    frozen = _frozen.get()
    return frozen if frozen is not None else datetime.now(timezone.utc)


def today() -> date:
    return now().date()


def aware(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, 12, tzinfo=timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@contextlib.contextmanager
def frozen_at(moment: datetime | date):
    """Run a block as if it were ``moment`` (a date means midday UTC that day)."""
    token = _frozen.set(aware(moment))
    try:
        yield
    finally:
        _frozen.reset(token)


def set_now(moment: datetime | date | None) -> None:
    """Set (or clear with None) the injected time for the rest of this context."""
    _frozen.set(None if moment is None else aware(moment))


def advance(delta: timedelta) -> None:
    set_now(now() + delta)

