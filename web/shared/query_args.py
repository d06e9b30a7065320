"""What a page reads from its web address, read defensively: bounded, in range, one line.

Anyone can type a query string. Read naively, ``page=99999999999999999999`` overflows the
database's integer, ``on=0001-01-01`` sends date arithmetic below year 1 and a NUL in
``q`` is refused by PostgreSQL: each was a 500. So the pages read numbers and dates here,
and a value they cannot use stops the request with a 400 page that says which parameter
was wrong and what it must be (``BadQuery``). Before any page runs, every query parameter
is checked for control characters (NUL, line breaks, tabs, C1, the Unicode line and
paragraph separators: ``engine/plain_text.py``), which no page's own links or forms ever
send. Path arguments declared ``<int:…>`` stop at ``MAX_ID`` (a larger one is a 404, not
an overflow), and text ones hold no control character (a 404 too).

The JSON API checks its arguments with marshmallow instead (web/api/schemas.py) and uses the
same bounds: ``MAX_PAGE``, ``MAX_ID``, ``FIRST_DAY`` and ``LAST_DAY``.
"""
from __future__ import annotations

from datetime import date

from flask import Flask, render_template, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from engine.plain_text import single_line_problem

MAX_ID = 2**31 - 1            # the largest id the tables hold (PostgreSQL integer)
MAX_PAGE = 100_000            # page numbers of every list
FIRST_DAY = date(1900, 1, 1)  # dates a page or the API accepts as a measurement date,
LAST_DAY = date(2999, 12, 31)  # a range, an export's from and to
DAY_TEXT = "a date from 1 January 1900 to 31 December 2999, written like 2026-03-31"
MONTH_TEXT = "a month from January 1900 to December 2999, written like 2026-03"
TITLE = "There is a problem with the web address"


class BadQuery(BadRequest):
    """A query parameter a page cannot use: a 400 page with ``description`` on it."""


class BoundedInt(IntegerConverter):
    """``<int:…>`` in a route: at most ``MAX_ID`` unless the rule says otherwise."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class OneLine(UnicodeConverter):
    """``<name>`` in a route: text without control characters (a NUL there reached
    PostgreSQL, which refuses it: a 500); anything else does not match, a 404."""

    def to_python(self, value: str) -> str:
        if single_line_problem(value):
            raise ValidationError()
        return value


def _refuse(name: str, must: str):
    raise BadQuery(f"‘{name[:40]}’ in the web address must be {must}.")


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` between FIRST_DAY and LAST_DAY; ValueError saying what it must be."""
    try:
        found = date.fromisoformat(text.strip())
    except ValueError:
        found = None
    if found is None or len(text.strip()) != 10 or not FIRST_DAY <= found <= LAST_DAY:
        raise ValueError(DAY_TEXT)
    return found


def day(name: str) -> date | None:
    """The date in ``name`` (None when absent or empty)."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse_day(raw)
    except ValueError as exc:
        _refuse(name, str(exc))


def month(name: str) -> date | None:
    """The month in ``name`` (``YYYY-MM``) as its first day (None when absent or empty)."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 7:
            return parse_day(f"{raw}-01")
    except ValueError:
        pass
    _refuse(name, MONTH_TEXT)


def number(name: str, default: int | None = None, *, minimum: int = 1,
           maximum: int = MAX_ID) -> int | None:
    """The whole number in ``name`` (``default`` when absent or empty)."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(maximum))
            and minimum <= int(raw) <= maximum):
        _refuse(name, f"a whole number from {minimum:,} to {maximum:,}")
    return int(raw)


def choice(name: str, allowed, default: str = "", *, must: str | None = None) -> str:
    """One of ``allowed`` (values, or (value, label) pairs) in ``name``; ``default`` when
    absent or empty. Anything else is a 400 saying what it must be (``must``, else the
    values the page offers)."""
    values = [a[0] if isinstance(a, tuple) else a for a in allowed]
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if raw not in values:
        _refuse(name, must or "one of " + ", ".join(v for v in values if v))
    return raw


def page(name: str = "page") -> int:
    """A list's page number: 1 when absent."""
    return number(name, 1, maximum=MAX_PAGE)


def _one_line_args() -> None:
    """before_request: no page takes a control character in its address."""
    if request.path.startswith("/api/") or request.endpoint == "static":
        return  # the API's schemas answer in JSON; static files read no parameters
    for name, value in request.args.items(multi=True):
        if single_line_problem(name) or single_line_problem(value):
            raise BadQuery(f"‘{name[:40].encode('unicode_escape').decode()}’ in the web "
                           "address holds a line break or another control character, which "
                           "no page uses.")


def _page(exc: BadQuery):
    return render_template("errors/error.html", status=400, title=TITLE,
                           text=f"{exc.description} Check the web address, or go back and use "
                                "the page's own links and filters."), 400


def init_app(app: Flask) -> None:
    """Before any blueprint is registered (the int converter applies to rules added later)."""
    app.url_map.converters["int"] = BoundedInt
    app.url_map.converters["default"] = app.url_map.converters["string"] = OneLine
    app.before_request(_one_line_args)
    app.register_error_handler(BadQuery, _page)
