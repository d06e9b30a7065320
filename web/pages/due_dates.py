"""Due dates in words on every worker page: the ``due_words`` and ``due_colour`` filters.

The wording is workflows/due_words.py's (a pure function); here it meets the council's
today, once per filter call, so a page rendered just after midnight already counts from
the new day. Templates use the ``due_in_words`` macro (web/templates/macros/due.html),
which puts the words in a GOV.UK tag coloured by urgency.
"""
from __future__ import annotations

from datetime import date

from flask import Flask

from workflows.due_words import TAG_COLOURS, council_today, due_group, due_in_words


def words(due: date | None) -> str:
    return due_in_words(due, council_today())


def colour(due: date | None) -> str:
    return TAG_COLOURS[due_group(due, council_today())]


def init_app(app: Flask) -> None:
    app.jinja_env.filters["due_words"] = words
    app.jinja_env.filters["due_colour"] = colour
