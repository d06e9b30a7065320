"""IHI run-chart rules on hand-made series: each rule, its edges, and the runs table."""
from datetime import date
from math import comb

import pytest

from workflows.measures.run_charts import (ASTRONOMICAL, RUNS_TABLE, SHIFT, TOO_FEW_RUNS,
                                           TOO_MANY_RUNS, TREND, Annotation, Point, analyse,
                                           baseline_indices, count_runs, runs_signal, shifts,
                                           trends)


def months(values, start=(2023, 1)):
    year, month = start
    found = []
    for value in values:
        found.append(Point(date(year, month, 1), value))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return found


# -- shift: 6+ on one side; points on the median neither break nor count -------------------
@pytest.mark.parametrize("values, expected", [
    ([6, 6, 6, 6, 6, 6], [("above", (0, 1, 2, 3, 4, 5))]),
    ([6, 6, 6, 6, 6], []),                                      # five is not a shift
    ([4, 4, 4, 4, 4, 4, 4], [("below", (0, 1, 2, 3, 4, 5, 6))]),
    ([6, 6, 6, 5, 6, 6, 6], [("above", (0, 1, 2, 4, 5, 6))]),   # on the median: no break
    ([6, 6, 6, 5, 5, 6, 6], []),                                # only 5 counted points
    ([6, 6, 6, 4, 6, 6, 6], []),                                # a point below breaks it
    ([5, 6, 6, 6, 6, 6, 5, 4], []),                             # on-median points don't count
    ([6, 6, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4],
     [("above", (0, 1, 2, 3, 4, 5)), ("below", (6, 7, 8, 9, 10, 11))]),
])
def test_shift(values, expected):
    assert [(s.direction, s.indices) for s in shifts(values, 5)] == expected


# -- trend: 5+ rising or falling; equal neighbours count once ------------------------------
@pytest.mark.parametrize("values, expected", [
    ([1, 2, 3, 4, 5], [("up", (0, 1, 2, 3, 4))]),
    ([1, 2, 3, 4], []),
    ([9, 7, 5, 3, 1, 2], [("down", (0, 1, 2, 3, 4))]),
    ([1, 2, 2, 3, 4], []),                                       # the tie counts once: 4 points
    ([1, 2, 2, 3, 4, 5], [("up", (0, 1, 2, 3, 4, 5))]),           # ties neither make nor break
    ([1, 2, 3, 4, 5, 4, 3, 2, 1], [("up", (0, 1, 2, 3, 4)), ("down", (4, 5, 6, 7, 8))]),
    ([3, 3, 3, 3, 3, 3], []),
    ([1, 2, 3, 2, 3, 4, 5], []),
    ([50.0, 100 / 3, 100 / 3, 25.0, 20.0, 10.0], [("down", (0, 1, 2, 3, 4, 5))]),
])
def test_trend(values, expected):
    assert [(s.direction, s.indices) for s in trends(values)] == expected


# -- runs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("values, useful, runs", [
    ([6, 4, 6, 4], 4, 4),
    ([6, 5, 6, 5, 4], 3, 2),          # points on the median ignored, no crossing at 6-5-6
    ([6, 6, 5, 4, 4], 4, 2),
    ([5, 5], 0, 0),
])
def test_count_runs(values, useful, runs):
    assert count_runs(values, 5) == (useful, runs)


@pytest.mark.parametrize("useful, runs, expected", [
    (10, 2, TOO_FEW_RUNS), (10, 3, None), (10, 9, None), (10, 10, TOO_MANY_RUNS),
    (27, 9, TOO_FEW_RUNS), (27, 10, None), (60, 24, None), (60, 23, TOO_FEW_RUNS),
    (60, 39, TOO_MANY_RUNS), (9, 1, None), (61, 1, None),      # outside the table: no verdict
])
def test_runs_against_the_table(useful, runs, expected):
    found = runs_signal(useful, runs)
    assert (found.rule if found else None) == expected


def test_runs_table_is_complete_and_no_more_liberal_than_swed_eisenhart_5_percent():
    assert sorted(RUNS_TABLE) == list(range(10, 61))
    previous = (0, 0)
    for n, (lower, upper) in RUNS_TABLE.items():
        assert previous[0] <= lower < upper and previous[1] <= upper
        previous = (lower, upper)
        below, above = n // 2, n - n // 2
        p = _runs_distribution(below, above)
        assert sum(v for r, v in p.items() if r < lower) <= 0.05, n
        assert sum(v for r, v in p.items() if r > upper) <= 0.05, n
    # spot checks against the printed table
    assert RUNS_TABLE[16] == (5, 13) and RUNS_TABLE[31] == (11, 22) and RUNS_TABLE[60] == (24, 38)


def _runs_distribution(n1, n2):
    total, found = comb(n1 + n2, n1), {}
    for r in range(2, n1 + n2 + 1):
        k = r // 2
        if r % 2 == 0:
            ways = 2 * comb(n1 - 1, k - 1) * comb(n2 - 1, k - 1)
        else:
            ways = comb(n1 - 1, k) * comb(n2 - 1, k - 1) + comb(n1 - 1, k - 1) * comb(n2 - 1, k)
        found[r] = ways / total
    return found


# -- whole chart ---------------------------------------------------------------------------
def test_baseline_is_first_ten_points_and_frozen():
    values = [50, 52, 48, 51, 49, 50, 53, 47, 50, 49] + [70, 72, 71, 75, 74, 73]
    chart = analyse(months(values))
    assert chart.baseline == tuple(range(10)) and not chart.provisional
    assert chart.median == 50
    shift = [s for s in chart.signals if s.rule == SHIFT]
    assert [s.indices for s in shift] == [tuple(range(10, 16))]
    assert chart.useful == 13 and chart.runs_limits == (4, 11)


def test_chosen_baseline_period_and_provisional_median():
    points = months([10, 20, 30, 40, 50, 60])
    chart = analyse(points, baseline=(date(2023, 2, 1), date(2023, 4, 1)))
    assert chart.baseline == (1, 2, 3) and chart.median == 30 and chart.provisional
    assert baseline_indices(points) == (0, 1, 2, 3, 4, 5)
    assert [s.rule for s in chart.signals] == [TREND]
    assert analyse([]).median is None


def test_too_few_runs_on_a_chart():
    values = [40] * 5 + [60] * 5 + [40, 60]
    chart = analyse(months(values), baseline=(date(2023, 1, 1), date(2023, 12, 1)))
    assert chart.median == 50 and (chart.useful, chart.runs) == (12, 4)
    assert [s.rule for s in chart.signals] == []
    few = analyse(months([40] * 6 + [60] * 6), baseline=(date(2023, 1, 1), date(2023, 12, 1)))
    assert {s.rule for s in few.signals} == {SHIFT, TOO_FEW_RUNS}


def test_too_many_runs_on_a_chart():
    chart = analyse(months([40, 60] * 6))
    assert (chart.useful, chart.runs) == (12, 12)
    assert [s.rule for s in chart.signals] == [TOO_MANY_RUNS]


def test_astronomical_points_and_annotations():
    points = months([50, 52, 48, 95, 49, 51])
    notes = [Annotation(date(2023, 3, 9), "pdsa", "PDSA: two-week review (cycle 1)"),
             Annotation(date(2023, 2, 1), "deployment", "Permanence journey version 2 live")]
    chart = analyse(points, astronomical=[date(2023, 4, 17)], annotations=notes, target=75)
    flagged = [s for s in chart.signals if s.rule == ASTRONOMICAL]
    assert [s.indices for s in flagged] == [(3,)]
    assert [a.kind for a in chart.annotations] == ["deployment", "pdsa"]
    assert chart.signals_at(3) == flagged and chart.target == 75


# -- true to time: calendar months, gaps, points on few children ---------------------------
def test_the_calendar_keeps_a_missing_month_as_a_gap():
    from workflows.measures.run_charts import Point, calendar
    pts = [Point(date(2025, 11, 1), 50, 1, 2), Point(date(2026, 2, 1), 60, 3, 5)]
    assert calendar(pts) == [(date(2025, 11, 1), 0), (date(2025, 12, 1), None),
                             (date(2026, 1, 1), None), (date(2026, 2, 1), 1)]
    assert calendar([]) == []


def test_a_point_on_fewer_than_the_setting_is_marked():
    from workflows.measures.run_charts import Point, rests_on_few
    assert rests_on_few(Point(date(2025, 1, 1), 50, 2, 4))
    assert not rests_on_few(Point(date(2025, 1, 1), 50, 2, 5))
    assert rests_on_few(Point(date(2025, 1, 1), 50, 2, 5), few=6)
    assert not rests_on_few(Point(date(2025, 1, 1), 50))


def test_svg_breaks_the_line_at_a_gap_and_draws_few_children_hollow():
    import re

    from web.pages import run_chart_svg
    from workflows.measures.run_charts import Point, analyse
    chart = analyse([Point(date(2025, 1, 1), 50, 1, 2), Point(date(2025, 2, 1), 60, 6, 10),
                     Point(date(2025, 5, 1), 70, 7, 10)])
    svg = run_chart_svg.render(chart, "Aim 2")
    assert svg.count("<polyline") == 2  # Jan-Feb, then May alone after the gap
    assert "Mar 2025" in svg and "Apr 2025" in svg  # the gap's months are on the axis
    assert svg.count('fill="#ffffff" stroke=') == 1  # January: 2 children
    assert "1 of 2 children (fewer than 5 children)" in svg
    assert 'font-size="12"' not in svg and 'font-size="16"' in svg
    assert len(re.findall(r'<polyline points="([^"]+)"', svg)[0].split()) == 2
