"""Reading a service's plain arguments as a form, the API and the command line give them:
text (a form field, ``KEY=VALUE``) or already typed (JSON after the API's schema).

Each reader appends a ``FieldError`` naming the field to ``problems`` and returns None when
the value cannot be used, so a service reports every problem at once; blank text is None
(the caller decides whether the field may be empty).
"""
from __future__ import annotations

import math
import re
from datetime import date

from engine.errors import FieldError

EARLIEST = date(2000, 1, 1)  # PACE began in 2014: an earlier date is a typing mistake
LATEST = date(2099, 12, 31)
_WHOLE = re.compile(r"-?[0-9]{1,12}")


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value, name: str, problems: list[FieldError], *, max_length: int,
         single_line: bool = False) -> str:
    """Text as stored: no NUL (the databases refuse it), within ``max_length``."""
    found = "" if value is None else value
    if not isinstance(found, str):
        problems.append(FieldError(name, "Must be text."))
        return ""
    if "\x00" in found:
        problems.append(FieldError(name, "Must not contain NUL characters."))
        return ""
    if single_line and any(ch in found for ch in "\r\n\t"):
        problems.append(FieldError(name, "Must be on one line."))
        return ""
    if len(found) > max_length:
        problems.append(FieldError(name, f"Must be {max_length} characters or fewer."))
        return ""
    return found


def day(value, name: str, problems: list[FieldError], message: str | None = None) -> date | None:
    """A date, or ISO text (YYYY-MM-DD) naming a real day between 2000 and 2099."""
    if blank(value):
        return None
    found = value if isinstance(value, date) else None
    if found is None and isinstance(value, str):
        try:
            found = date.fromisoformat(value.strip())
        except ValueError:
            found = None
    if found is None:
        problems.append(FieldError(name, message or "Enter a real date as YYYY-MM-DD, "
                                                    "for example 2025-04-01."))
        return None
    if not EARLIEST <= found <= LATEST:
        problems.append(FieldError(name, f"Enter a date between {EARLIEST.isoformat()} and "
                                         f"{LATEST.isoformat()}."))
        return None
    return found


def month(value, name: str, problems: list[FieldError], message: str) -> date | None:
    """The first day of a month given as a date or as text (YYYY-MM or YYYY-MM-DD)."""
    if blank(value):
        problems.append(FieldError(name, message))
        return None
    if isinstance(value, str) and len(value.strip()) == 7:
        value = f"{value.strip()}-01"
    found = day(value, name, problems, message)
    return found.replace(day=1) if found else None


def whole_number(value, name: str, problems: list[FieldError], message: str, *,
                 low: int, high: int) -> int | None:
    """An integer from ``low`` to ``high`` (``message`` otherwise); blank is None."""
    if blank(value):
        return None
    found = None
    if isinstance(value, int) and not isinstance(value, bool):
        found = value
    elif isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        found = int(value.strip())
    if found is None or not low <= found <= high:
        problems.append(FieldError(name, message))
        return None
    return found


def number(value, name: str, problems: list[FieldError], message: str) -> float | None:
    """A finite number (text such as ``62.5`` too); blank is None."""
    if blank(value):
        return None
    found = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        found = float(value)
    elif isinstance(value, str) and len(value) <= 30:
        try:
            found = float(value.strip())
        except ValueError:
            found = None
    if found is None or not math.isfinite(found):
        problems.append(FieldError(name, message))
        return None
    return found
