"""Due rules as councils write them (DOMAIN.md), without a database."""
from datetime import date

import pytest

from workflows.due_rules import (DueRules, RuleError, add_working_days, describe, is_working_day,
                                 parse_offsets, resolve)

LA = {"LA_START": date(2026, 1, 5)}


@pytest.mark.parametrize("rule, expected", [
    ("LA_START+3d", date(2026, 1, 8)),            # planning meeting
    ("LA_START+3w", date(2026, 1, 26)),           # initial LAR (South Ayrshire)
    ("LA_START+2w", date(2026, 1, 19)),           # Midlothian two-week review
    ("LA_START+3m", date(2026, 4, 5)),            # interim review
    ("LA_START+30w", date(2026, 8, 3)),           # substantive LAR
    ("LA_START+30w-2w", date(2026, 7, 20)),       # legal referral, no LAR booked
    ("PERM_RECOMMENDATION_PLANNED-2w | LA_START+30w-2w", date(2026, 7, 20)),
    ("LA_START+1y", date(2027, 1, 5)),
    ("LA_START + 6m - 6w", date(2026, 5, 24)),
])
def test_permanence_timescales(rule, expected):
    assert resolve(rule, LA) == expected


def test_first_known_alternative_wins():
    anchors = dict(LA, PERM_RECOMMENDATION_PLANNED=date(2026, 9, 1))
    assert resolve("PERM_RECOMMENDATION_PLANNED-2w | LA_START+30w-2w", anchors) == date(2026, 8, 18)
    assert resolve("next_review_date | LA_START+30w", dict(LA, next_review_date=date(2026, 10, 1))) \
        == date(2026, 10, 1)


def test_unknown_anchor_gives_none():
    assert resolve("CSO_START+18m", LA) is None


def test_month_end_is_clamped():
    assert resolve("X+1m", {"X": date(2026, 1, 31)}) == date(2026, 2, 28)


def test_working_days_skip_weekends_and_scottish_bank_holidays():
    # 2 January is a bank holiday in Scotland but not in England.
    assert not is_working_day(date(2026, 1, 2))
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 5)
    assert add_working_days(date(2026, 1, 5), -1) == date(2025, 12, 31)
    assert resolve("X+5wd", {"X": date(2026, 4, 2)}) == date(2026, 4, 10)  # Good Friday skipped


@pytest.mark.parametrize("bad", ["", "   ", "+3d", "LA_START+3", "LA_START+3x", "LA_START*2",
                                 "__import__('os')", "LA_START.year", "LA_START+3d; rm"])
def test_bad_rules_are_rejected_with_a_message(bad):
    with pytest.raises(RuleError) as err:
        DueRules().check_rule(bad)
    assert str(err.value)


def test_offsets_for_reminders_and_escalation():
    assert [o.amount for o in parse_offsets("+2d +7d")] == [2, 7]
    assert DueRules().shift(date(2026, 1, 8), "-5d") == [date(2026, 1, 3)]
    with pytest.raises(RuleError):
        parse_offsets("soon")


def test_describe_reads_as_english():
    assert describe("LA_START+3w") == "LA_START + 3 weeks"
    assert "otherwise" in describe("A-2w | B+1m")
