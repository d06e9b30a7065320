"""Which point a run-chart signal is drawn on, and the runs table entry by entry.

The chart page, its SVG, the API and the CSV mark a point with the signals that name it:
a shift on the six points that make it, never on the points before it, and the runs
rules (which judge the whole chart) on no point at all. A team reading a red point acts on
it, so a signal drawn on the wrong points misleads them.
"""
from datetime import date

import pytest

from workflows.measures.run_charts import (RUNS_TABLE, SHIFT, TOO_FEW_RUNS, TOO_MANY_RUNS, TREND,
                                           Point, analyse, count_runs, runs_signal, shifts,
                                           trends)


def months(values):
    return [Point(date(2023 + i // 12, i % 12 + 1, 1), value) for i, value in enumerate(values)]


def test_a_shift_is_drawn_on_its_points_only():
    values = [50, 52, 48, 51, 49, 50, 53, 47, 50, 49] + [70, 72, 71, 75, 74, 73]
    chart = analyse(months(values))
    assert [s.rule for s in chart.signals] == [SHIFT]
    assert [i for i in range(len(values)) if chart.signals_at(i)] == list(range(10, 16))
    assert [s.rule for s in chart.signals_at(12)] == [SHIFT]
    assert chart.signals_at(3) == []


@pytest.mark.parametrize("values, rule", [
    ([40, 60] * 6, TOO_MANY_RUNS),
    ([40] * 6 + [60] * 6, TOO_FEW_RUNS),
])
def test_a_runs_signal_is_drawn_on_no_point(values, rule):
    chart = analyse(months(values), baseline=(date(2023, 1, 1), date(2023, 12, 1)))
    assert rule in {s.rule for s in chart.signals}
    for index in range(len(values)):
        assert rule not in {s.rule for s in chart.signals_at(index)}


def test_a_trend_is_drawn_on_its_points_only():
    chart = analyse(months([10, 11, 12, 13, 14, 3, 9, 3, 9, 3]))
    assert [s.indices for s in chart.signals if s.rule == TREND] == [(0, 1, 2, 3, 4)]
    assert [s.rule for s in chart.signals_at(4)] == [TREND]
    assert chart.signals_at(7) == []


# The published table (Perla, Provost & Murray 2011, Table 1) as a second copy: the runs
# test of tests/unit/test_run_charts.py checks it against Swed & Eisenhart's distribution,
# which allows more than one table; this copy makes an edit to any entry fail.
PUBLISHED = {
    10: (3, 9), 11: (3, 10), 12: (3, 11), 13: (4, 11), 14: (4, 12), 15: (5, 12),
    16: (5, 13), 17: (5, 13), 18: (6, 14), 19: (6, 15), 20: (6, 16), 21: (7, 16),
    22: (7, 17), 23: (7, 17), 24: (8, 18), 25: (8, 18), 26: (9, 19), 27: (10, 19),
    28: (10, 20), 29: (10, 20), 30: (11, 21), 31: (11, 22), 32: (11, 23), 33: (12, 23),
    34: (12, 24), 35: (12, 24), 36: (13, 25), 37: (13, 25), 38: (14, 26), 39: (14, 26),
    40: (15, 27), 41: (15, 27), 42: (16, 28), 43: (16, 28), 44: (17, 29), 45: (17, 30),
    46: (17, 31), 47: (18, 31), 48: (18, 32), 49: (19, 32), 50: (19, 33), 51: (20, 33),
    52: (20, 34), 53: (21, 34), 54: (21, 35), 55: (22, 35), 56: (22, 35), 57: (23, 36),
    58: (23, 37), 59: (24, 38), 60: (24, 38),
}


@pytest.mark.parametrize("useful", sorted(PUBLISHED))
def test_each_entry_judges_runs_at_its_published_limits(useful):
    lower, upper = PUBLISHED[useful]
    assert RUNS_TABLE[useful] == (lower, upper)
    assert runs_signal(useful, lower) is None and runs_signal(useful, upper) is None
    too_few = runs_signal(useful, lower - 1)
    assert too_few.rule == TOO_FEW_RUNS
    assert too_few.note == (f"{lower - 1} runs in {useful} useful observations; "
                            f"fewer than {lower} is too few")
    too_many = runs_signal(useful, upper + 1)
    assert too_many.rule == TOO_MANY_RUNS
    assert too_many.note == (f"{upper + 1} runs in {useful} useful observations; "
                             f"more than {upper} is too many")


def test_on_the_median_means_equal_within_rounding_only():
    # 0.1 + 0.2 is 0.30000000000000004: on a median of 0.3, as a person would read it.
    assert count_runs([0.1 + 0.2, 0.4, 0.2], 0.3) == (2, 2)
    # Large values are not made equal by a relative tolerance: 1e9 + 0.5 is above 1e9.
    assert [s.direction for s in shifts([1e9 + 0.5] * 6, 1e9)] == ["above"]
    assert [s.indices for s in trends([1.0, 1.0 + 1e-12, 2.0, 3.0, 4.0, 5.0])] == [(0, 1, 2, 3, 4, 5)]
    assert trends([1e9, 1e9 + 0.5, 1e9 + 1, 1e9 + 1.5, 1e9 + 2])[0].indices == (0, 1, 2, 3, 4)


def test_a_trend_from_the_first_point_is_found():
    assert [(s.indices, s.direction) for s in trends([1, 2, 3, 4, 5])] == [((0, 1, 2, 3, 4), "up")]


def test_a_chart_with_no_points_has_no_runs():
    chart = analyse([])
    assert (chart.median, chart.useful, chart.runs, chart.runs_limits, chart.signals) == (None, 0, 0, None, [])


def test_neighbours_equal_but_for_rounding_count_once_in_a_trend():
    # Four distinct values rising: not a trend of five, though five points rise or hold.
    assert trends([1.0, 2.0, 2.0 + 1e-12, 3.0, 4.0]) == []
