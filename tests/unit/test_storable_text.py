"""Text the databases could not store is refused with a message, before it reaches them.

PostgreSQL refuses a NUL in text and a lone surrogate is no UTF-8: either would fail the
whole transaction of a case note or an API call instead of telling the worker what to fix.
"""
import pytest

from engine.plain_text import storable_problem


@pytest.mark.parametrize("value, problem", [
    ("note\x00", "Must not contain NUL characters."),
    ("\x00", "Must not contain NUL characters."),
    ("note \ud800", "Must be valid Unicode text."),
])
def test_what_no_database_can_store_is_named(value, problem):
    assert storable_problem(value) == problem


@pytest.mark.parametrize("value", ["", "Zoë visited.\nTwo lines are fine here.", "名前", "\x7f\x1b"])
def test_any_other_text_can_be_stored(value):
    assert storable_problem(value) is None
