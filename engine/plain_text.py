"""What one line of typed text may hold, for every way text comes in.

A child's reference or name ends up in e-mail headers, CSV cells, page titles and log
lines. A line break there can forge a mail header (``R1\\r\\nBcc: …``) or split a log
entry; a NUL cannot be stored by PostgreSQL at all. So single-line fields refuse every
control character (C0, DEL, C1 and the Unicode line and paragraph separators) where they
come in, with one message for the API, the pages and the caseload import alike; text
stored before the rule existed is folded onto one line where it is written into a header.
"""
from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

SINGLE_LINE_MESSAGE = ("must be one line of text: remove line breaks, tabs and other "
                       "control characters")


def single_line_problem(value: str) -> str | None:
    """Why ``value`` cannot be a single-line field, or None when it can."""
    return SINGLE_LINE_MESSAGE if _CONTROL.search(value) else None


def storable_problem(value: str) -> str | None:
    """Why the databases could not store ``value`` (a NUL, which PostgreSQL refuses, or a
    lone surrogate, which is no UTF-8), or None when they can."""
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text."
    return None


def one_line(value: str) -> str:
    """``value`` with each run of control characters replaced by one space."""
    return _CONTROL.sub(" ", value) if _CONTROL.search(value) else value
