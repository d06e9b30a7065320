"""Due dates in words: "Due today", "Due in 3 days", "5 days overdue", "No due date".

A worker scanning a queue should not have to count days on a calendar, nor read a task due
today under "Due this week". The words and the group a due date falls in are pure
functions of the due date and *today in the council's time zone*: between midnight and
1 am in summer, the UTC date is still yesterday, and a task due today would read "Due
tomorrow". ``council_today`` is the one place that turns the clock into that day; every
queue, the child page and the task page go through it (web/pages/due_dates.py).
"""
from __future__ import annotations

import os
from datetime import date, datetime, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine import clock

DEFAULT_ZONE = "Europe/London"
WEEK = 7  # "Due this week": due tomorrow up to this many days ahead (today is its own group)

# The groups a due date falls in, most urgent first, with the GOV.UK tag colour of each.
OVERDUE, DUE_TODAY, THIS_WEEK, LATER, NO_DATE = "overdue", "due_today", "this_week", "later", "no_date"
TAG_COLOURS = {OVERDUE: "red", DUE_TODAY: "orange", THIS_WEEK: "yellow", LATER: "grey",
               NO_DATE: "grey"}


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def due_in_words(due: date | None, today: date) -> str:
    """How a due date reads on a worker's page, counted in whole days from ``today``."""
    if due is None:
        return "No due date"
    days = (due - today).days
    if days == 0:
        return "Due today"
    if days == 1:
        return "Due tomorrow"
    if days > 1:
        return f"Due in {_days(days)}"
    return f"{_days(-days)} overdue"


def due_group(due: date | None, today: date) -> str:
    """Which group a due date falls in: today is its own group, not part of "this week"."""
    if due is None:
        return NO_DATE
    days = (due - today).days
    if days < 0:
        return OVERDUE
    if days == 0:
        return DUE_TODAY
    return THIS_WEEK if days <= WEEK else LATER


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The calendar day ``moment`` falls on in ``zone`` (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone).date()


def council_zone() -> tzinfo:
    """The council's time zone (``PACE_TIME_ZONE``, checked at start-up by
    workflows/configuration.py); UTC when the machine has no time zone database."""
    try:
        return ZoneInfo(os.environ.get("PACE_TIME_ZONE", "").strip() or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def council_today() -> date:
    """Today as the council's workers' calendars show it (the engine's clock, so tests and
    imports at a chosen time see the same day)."""
    return local_day(clock.now(), council_zone())
