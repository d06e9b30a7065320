"""Due dates in words at the day boundaries, counted from today in the council's time zone.

Europe/London moves its clocks on 29 March 2026 (01:00 UTC, to BST) and 25 October 2026
(01:00 UTC, back to GMT): for an hour or so either side of midnight the UTC date is not the
date on the workers' calendars, and a task due today must still read "Due today".
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine import clock
from workflows.due_words import (DUE_TODAY, LATER, NO_DATE, OVERDUE, THIS_WEEK, council_today,
                                 due_group, due_in_words, local_day)

LONDON = ZoneInfo("Europe/London")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("days, words, group", [
    (0, "Due today", DUE_TODAY),
    (1, "Due tomorrow", THIS_WEEK),
    (3, "Due in 3 days", THIS_WEEK),
    (7, "Due in 7 days", THIS_WEEK),
    (8, "Due in 8 days", LATER),
    (-1, "1 day overdue", OVERDUE),
    (-5, "5 days overdue", OVERDUE),
])
def test_words_and_group_count_whole_days_from_today(days, words, group):
    today = date(2026, 11, 30)
    assert due_in_words(today + timedelta(days=days), today) == words
    assert due_group(today + timedelta(days=days), today) == group


def test_no_due_date_is_said_so_not_upcoming():
    assert due_in_words(None, date(2026, 1, 1)) == "No due date"
    assert due_group(None, date(2026, 1, 1)) == NO_DATE


@pytest.mark.parametrize("moment, day", [
    # winter: London is on UTC
    ("2026-03-28T23:30:00", date(2026, 3, 28)),
    # the night the clocks go forward: 23:30 UTC is 00:30 BST the next day
    ("2026-03-29T00:30:00", date(2026, 3, 29)),
    ("2026-03-29T23:30:00", date(2026, 3, 30)),
    # the night they go back: 23:30 UTC on the 24th is 00:30 BST on the 25th ...
    ("2026-10-24T23:30:00", date(2026, 10, 25)),
    # ... and 23:30 UTC on the 25th is 23:30 GMT, still the 25th
    ("2026-10-25T23:30:00", date(2026, 10, 25)),
    ("2026-10-26T00:30:00", date(2026, 10, 26)),
])
def test_the_councils_day_across_a_clock_change(moment, day):
    assert local_day(utc(moment), LONDON) == day


@pytest.mark.parametrize("moment, due, words", [
    # just after midnight in summer time, UTC still says yesterday
    ("2026-03-29T23:30:00", date(2026, 3, 30), "Due today"),
    ("2026-03-29T23:30:00", date(2026, 3, 29), "1 day overdue"),
    ("2026-03-29T23:30:00", date(2026, 4, 6), "Due in 7 days"),
    ("2026-10-24T23:30:00", date(2026, 10, 25), "Due today"),
    ("2026-10-24T23:30:00", date(2026, 10, 24), "1 day overdue"),
    ("2026-10-24T23:30:00", date(2026, 11, 1), "Due in 7 days"),
    # the week that spans the change back counts calendar days, not 24-hour periods
    ("2026-10-20T12:00:00", date(2026, 10, 27), "Due in 7 days"),
    ("2026-10-25T23:30:00", date(2026, 10, 25), "Due today"),
    ("2026-10-25T23:30:00", date(2026, 10, 18), "7 days overdue"),
])
def test_council_today_reads_the_clock_in_the_councils_zone(monkeypatch, moment, due, words):
    monkeypatch.setenv("PACE_TIME_ZONE", "Europe/London")
    with clock.frozen_at(utc(moment)):
        assert due_in_words(due, council_today()) == words


def test_another_council_zone_is_followed(monkeypatch):
    monkeypatch.setenv("PACE_TIME_ZONE", "Pacific/Auckland")
    with clock.frozen_at(utc("2026-06-30T13:00:00")):  # 01:00 on 1 July in Auckland
        assert council_today() == date(2026, 7, 1)
