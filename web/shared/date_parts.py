"""Dates and months typed into the GOV.UK date pattern, read from a page's web address.

Why: the browser's own date and month inputs show US order in a US-locale browser and month
inputs do not exist in Firefox and Safari, so the measures filters use the GOV.UK date
input (separate day, month and year boxes: ``on-day``, ``on-month``, ``on-year``; a month
filter has only month and year). A link the pages write still carries ``on=2026-03-31``
(``query_args.day``), and that is read too; boxes filled in win over it.

What was typed is checked here, and a date that cannot be used stops the request with the
400 page (``query_args.BadQuery``) naming the filter and what is wrong in words: a missing
part, a part that is not a number, a month above 12, or a day the month does not have
("31 February 2026 does not exist: February 2026 has 28 days").
"""
from __future__ import annotations

import calendar
from datetime import date

from flask import request

from web.shared import query_args
from web.shared.query_args import FIRST_DAY, LAST_DAY, BadQuery

DAY_PARTS = ("day", "month", "year")
# The two date ranges a before/after comparison takes, with the names the page gives them.
RANGE_LABELS = {"from1": "First range from", "to1": "First range to",
                "from2": "Second range from", "to2": "Second range to"}
MONTH_PARTS = ("month", "year")


def _typed(name: str, parts) -> dict[str, str] | None:
    found = {part: (request.args.get(f"{name}-{part}") or "").strip() for part in parts}
    return found if any(found.values()) else None


def _whole(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None


def check(label: str, typed: dict[str, str]) -> date:
    """The date the boxes say (day 1 when there is no day box); ValueError with the message
    the 400 page shows, naming ``label``."""
    missing = [part for part, text in typed.items() if not text]
    if missing:
        raise ValueError(f"{label} must include a {' and a '.join(missing)}.")
    numbers = {part: _whole(text) for part, text in typed.items()}
    wrong = [part for part, n in numbers.items() if n is None]
    if wrong:
        raise ValueError(f"{label}: the {' and '.join(wrong)} must be a number "
                         f"(for example, 27 3 2026).")
    year, month, day = numbers["year"], numbers["month"], numbers.get("day", 1)
    if len(typed["year"]) != 4:
        raise ValueError(f"{label}: the year must have 4 numbers (for example, 2026).")
    if not 1 <= month <= 12:
        raise ValueError(f"{label}: the month must be a number from 1 to 12.")
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ValueError(f"{label} must be between 1900 and 2999.")
    length = calendar.monthrange(year, month)[1]
    if not 1 <= day <= length:
        name = calendar.month_name[month]
        raise ValueError(f"{label} must be a real date: {day} {name} {year} does not exist "
                         f"({name} {year} has {length} days).")
    return date(year, month, day)


def day(name: str, label: str) -> date | None:
    """The day typed into ``name``'s boxes, else ``?name=YYYY-MM-DD``, else None."""
    typed = _typed(name, DAY_PARTS)
    if typed is None:
        return query_args.day(name)
    try:
        return check(label, typed)
    except ValueError as exc:
        raise BadQuery(str(exc)) from None


def month(name: str, label: str) -> date | None:
    """The month typed into ``name``'s month and year boxes (as its first day), else
    ``?name=YYYY-MM``, else None."""
    typed = _typed(name, MONTH_PARTS)
    if typed is None:
        return query_args.month(name)
    try:
        return check(label, typed)
    except ValueError as exc:
        raise BadQuery(str(exc)) from None


def given(name: str) -> bool:
    """Whether the address carries ``name`` in either form."""
    return bool(request.args.get(name)) or _typed(name, DAY_PARTS) is not None
