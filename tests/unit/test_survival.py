"""Kaplan–Meier time to a permanence decision on hand-made cohorts, checked against the
product-limit estimate worked out by hand (fractions), and the log-rank test likewise."""
from datetime import date, timedelta

import pytest

from workflows.measures import survival
from workflows.measures.data import Reached, episode

from .caseloads import child, journey

D = date.fromisoformat
ON = D("2025-06-30")
DAY0 = ON - timedelta(days=50)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def hand_cohort():
    """Eight children: decided on days 10, 20, 20, 30 and 40; one left care on day 15
    (censored 15); one accommodated 25 days before the measurement date and still waiting
    (censored 25); one decided only after the measurement date (censored 50)."""
    return [journey(DAY0, day(10)),
            journey(DAY0, ended_on=day(15)),
            journey(DAY0, day(20)), journey(DAY0, day(20)),
            journey(ON - timedelta(days=25)),
            journey(DAY0, day(30)), journey(DAY0, day(40)),
            journey(DAY0, day(60))]


def test_observations_censor_children_still_waiting_or_gone():
    items, left_out = survival.observations(hand_cohort(), "recommendation", ON)
    assert left_out == []
    assert sorted((o.days, o.decided) for o in items) == [
        (10, True), (15, False), (20, True), (20, True), (25, False), (30, True), (40, True),
        (50, False)]


def test_kaplan_meier_matches_the_product_limit_by_hand():
    result = survival.analyse(hand_cohort(), "recommendation", ON)
    [curve] = result.curves
    assert (curve.n, curve.decided, curve.censored) == (8, 5, 3)
    steps = {s.day: s for s in curve.steps}
    # S(10) = 7/8; S(20) = 7/8 · 4/6; S(30) = · 2/3; S(40) = · 1/2
    expected = {10: 7 / 8, 15: 7 / 8, 20: 7 / 12, 25: 7 / 12, 30: 7 / 18, 40: 7 / 36, 50: 7 / 36}
    for d, value in expected.items():
        assert steps[d].waiting == pytest.approx(value), d
    assert (steps[20].at_risk, steps[20].decided, steps[20].censored) == (6, 2, 0)
    assert (steps[25].at_risk, steps[25].decided, steps[25].censored) == (4, 0, 1)
    assert steps[30].at_risk == 3
    assert all(s.lower <= s.waiting <= s.upper for s in curve.steps)
    assert curve.median_days == 30  # first day the estimate falls to one half or below
    assert curve.waiting_at(29) == pytest.approx(7 / 12)  # a step function
    assert curve.decided_by(30) == pytest.approx(100 * 11 / 18)
    assert curve.waiting_at(5) == 1.0 and curve.waiting_at(51) is None
    # Counting only decided children would put the median at 20 days: censoring matters.


def test_median_unknown_while_fewer_than_half_are_decided():
    eps = [journey(DAY0, day(10))] + [journey(DAY0) for _ in range(3)]
    [curve] = survival.analyse(eps, "recommendation", ON).curves
    assert curve.median_days is None
    assert curve.waiting_at(50) == pytest.approx(3 / 4)


def test_a_decision_dated_before_accommodation_is_left_out_with_the_reason():
    eps = [journey(DAY0, DAY0 - timedelta(days=3)), journey(DAY0, day(5))]
    result = survival.analyse(eps, "recommendation", ON)
    assert [lo.reason for lo in result.left_out] == [
        "recommendation for permanence dated before accommodation"]
    assert result.curves[0].n == 1


def test_nothing_after_the_measurement_date_and_no_children_is_an_empty_curve():
    later = journey(ON + timedelta(days=1))
    result = survival.analyse([later], "recommendation", ON)
    assert result.curves[0].n == 0 and result.curves[0].steps == []
    assert result.comparison is None


def test_ratification_clock_starts_at_each_recommendation_away_from_home():
    c = child()
    away = episode(c.id, c, [
        Reached("LA_START", DAY0),
        Reached("PERM_RECOMMENDATION", day(1), 1, data={"route": "adoption"}),
        Reached("ADM", day(41))])
    c2 = child()
    waiting = episode(c2.id, c2, [
        Reached("LA_START", DAY0),
        Reached("PERM_RECOMMENDATION", day(20), 1, data={"route": "permanence_order"})])
    home = journey(DAY0, day(3), route="home")
    items, _ = survival.observations([away, waiting, home], "ratification", ON)
    assert sorted((o.days, o.decided) for o in items) == [(30, False), (40, True)]


def _versioned(v: int, decided_day: int | None):
    c = child()
    reached = [Reached("LA_START", DAY0, model_version=v)]
    if decided_day is not None:
        reached.append(Reached("PERM_RECOMMENDATION", day(decided_day), model_version=v,
                               data={"route": "home"}))
    return episode(c.id, c, reached)


def test_log_rank_between_versions_matches_the_hand_calculation():
    """Version 1 decides on days 1 and 2, version 2 on days 3 and 4. By hand: O₁ = 2,
    E₁ = 2/4 + 1/3, V = 1/4 + 2/9, so χ² = (7/6)² / (17/36) = 49/17."""
    eps = [_versioned(1, 1), _versioned(1, 2), _versioned(2, 3), _versioned(2, 4)]
    result = survival.analyse(eps, "recommendation", ON, grouping="version")
    assert [c.label for c in result.curves] == ["Version 1", "Version 2"]
    assert result.comparison.statistic == pytest.approx(49 / 17)
    assert result.comparison.degrees_of_freedom == 1
    assert 0.05 < result.comparison.p_value < 0.1 and not result.comparison.significant


def test_groups_by_date_range_of_the_start():
    early, late = journey(D("2025-01-10"), D("2025-02-01")), journey(D("2025-03-10"))
    result = survival.analyse([early, late], "recommendation", ON, grouping="ranges",
                              ranges=[(D("2025-01-01"), D("2025-01-31")),
                                      (D("2025-03-01"), D("2025-03-31"))])
    assert [c.n for c in result.curves] == [1, 1]
    assert result.comparison is not None


def test_grid_reads_the_curve_at_fixed_days_for_publication():
    [curve] = survival.analyse(hand_cohort(), "recommendation", ON).curves
    rows = survival.grid(curve, every=14)
    assert [r[0] for r in rows] == [0, 14, 28, 42]
    assert rows[1] == (14, 7, 1, pytest.approx(100 * 7 / 8))
    assert rows[2][1:3] == (3, 3)  # at risk on day 28: days 30, 40, 50; decided: 10, 20, 20
