"""What keeps a due rule from being misread: its description, the offset check, its bounds.

A rule counting back (``LA_START-2w``, a reminder before a review) described as "+ 2 weeks"
on a form would tell a worker the opposite of what the engine does; an offset check that
refused nothing would let ``+9999y`` or a typo through to a timer.
"""
from datetime import date

import pytest

from workflows.due_rules import HORIZON_YEARS, DueRules, RuleError, describe, parse_rule, resolve


def test_a_rule_counting_back_is_described_as_minus():
    assert describe("LA_START-2w") == "LA_START - 2 weeks"
    assert describe("LAC_REVIEW - 5 wd") == "LAC_REVIEW - 5 working days"


def test_every_alternative_and_unit_is_described():
    assert describe("A+1d+2w | B-3m | C+1y") == (
        "A + 1 days + 2 weeks, otherwise B - 3 months, otherwise C + 1 years")


@pytest.mark.parametrize("offsets, fix", [
    ("2d", "cannot read '2d'"),
    ("+3x", "cannot read '\\+3x'"),
    ("", "expected one or more offsets"),
    ("P7D", "ISO 8601 duration"),
    ("+9999y", "reaches 9,999 years ahead; the limit is 25 years"),
])
def test_check_offsets_refuses_what_a_timer_cannot_use(offsets, fix):
    with pytest.raises(RuleError, match=fix):
        DueRules().check_offsets(offsets)


def test_check_offsets_accepts_reminders_and_escalations():
    assert DueRules().check_offsets("-5d") is None
    assert DueRules().check_offsets("+2d +7d") is None


def test_the_horizon_is_25_years_in_any_unit():
    assert HORIZON_YEARS == 25
    parse_rule("BIRTH+25y")
    parse_rule("BIRTH+9131d")  # 25 years of 365.25 days
    for too_far in ("BIRTH+26y", "BIRTH+9132d", "BIRTH+301m", "BIRTH+1305w", "BIRTH+6523wd"):
        with pytest.raises(RuleError, match="the limit is 25 years"):
            parse_rule(too_far)


def test_a_rule_may_be_500_characters_long():
    parse_rule("LA_START+3w".ljust(500))
    with pytest.raises(RuleError, match="^the due rule is longer than 500 characters$"):
        parse_rule("LA_START+3w".ljust(501))


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_rule_says_what_to_write(empty):
    with pytest.raises(RuleError, match="^the due rule is empty; write e.g. LA_START\\+3w$"):
        parse_rule(empty)


def test_an_unknown_region_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="unknown bank-holiday region 'XX'; known: ENG, NIR, SCT, WLS"):
        DueRules("XX")


def test_shift_counts_working_days_in_the_rules_region():
    # Monday 4 August 2025 is a bank holiday in Scotland only.
    friday = date(2025, 8, 1)
    assert DueRules("SCT").shift(friday, "+1wd") == [date(2025, 8, 5)]
    assert DueRules("ENG").shift(friday, "+1wd") == [date(2025, 8, 4)]
    assert DueRules().shift(friday, "+1wd -1d") == [date(2025, 8, 5), date(2025, 7, 31)]


def test_a_rule_counts_working_days_with_its_regions_bank_holidays():
    # 2 January is a bank holiday in Scotland only.
    new_year = {"LA_START": date(2025, 1, 1)}
    assert DueRules("SCT").resolve("LA_START+1wd", new_year) == date(2025, 1, 3)
    assert DueRules("ENG").resolve("LA_START+1wd", new_year) == date(2025, 1, 2)
    assert resolve("LA_START+1wd", new_year) == date(2025, 1, 3)  # Scotland unless told


def test_an_unreadable_offset_says_how_to_write_one():
    with pytest.raises(RuleError) as refused:
        parse_rule("LA_START+3q")
    assert str(refused.value) == ("'LA_START+3q': cannot read '+3q'; write offsets like +3d, -2w, "
                                  "+6m, +1y or +10wd")


@pytest.mark.parametrize("written, rule", [
    ("P1Y2M3W4D", "+1y+2m+3w+4d"),
    ("P1DT2M", "+1d"),  # minutes after the T are not months
    ("PT12H", "+1d"),  # under a day: the next day
])
def test_an_iso_duration_is_answered_with_the_rule_to_write(written, rule):
    with pytest.raises(RuleError) as refused:
        parse_rule(written)
    assert str(refused.value) == (f"{written!r} is an ISO 8601 duration; PACE Flow counts from a "
                                  f"milestone or a date field: write ANCHOR{rule}, for example LA_START{rule}")
