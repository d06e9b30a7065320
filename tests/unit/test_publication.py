"""Every export for publication: no count of 1 to 4 printed, none recoverable from what is
printed (totals and percentages included), and every figure built on a withheld count
withheld. Councils' published cohorts, random tables (hypothesis), and the cases a reader
would try: a percentage over a large denominator, a change of median, a single child's
curve."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from workflows.measures import aim_results as measures, publication, run_charts, stage_delays
from workflows.measures import survival
from workflows.measures.aim_statuses import AimResult, Cohort, Tally
from workflows.measures.aims import DEFAULT_AIMS, PRESETS
from workflows.measures.disclosure import MARK
from workflows.measures.forecast import TeamRow

from .caseloads import child
from .published import assert_aim_table_safe, assert_nothing_small_recoverable, table
from .test_measures import D, midlothian_caseload, south_ayrshire_caseload

M = MARK
ON = D("2024-12-01")


def counted(on_time=0, late=0, overdue=0, pending=0, ended=0) -> Tally:
    return Tally(entries=None, counts={(s, None): n for s, n in (
        ("on_time", on_time), ("late", late), ("overdue", overdue), ("pending", pending),
        ("ended", ended)) if n})


def aim_result(months: list[tuple[int, ...]], aim: int = 2) -> AimResult:
    cohorts = [Cohort(date(2024, 1 + i, 1), counted(*m), True) for i, m in enumerate(months)]
    total = counted(*(sum(m[k] for m in months) for k in range(5)))
    return AimResult(DEFAULT_AIMS[aim], ON, total, cohorts, [])


def both(result: AimResult):
    return measures.csv_rows(result), measures.csv_rows(result, publication=True)


def total_row(rows) -> dict:
    return table(rows, "cohort_month")[-1]


# -- the aims' tables ----------------------------------------------------------------------
def test_the_published_midlothian_cohort_gives_no_child_away():
    """Midlothian (DOMAIN.md): 20 on time, 1 late, 4 overdue. Printing 20 and 95.2% would
    tell every reader that one child was late, so the late and overdue counts are withheld
    with the percentages built on them; nothing withheld can be worked out."""
    result = measures.aim2(midlothian_caseload(), PRESETS["midlothian"][2], D("2018-11-01"))
    internal, published = both(result)
    assert_aim_table_safe(internal, published)
    total = total_row(published)
    assert (total["on_time"], total["late"], total["overdue_undecided"]) == ("20", M, M)
    assert total["pct_on_time_of_decided"] == total["pct_on_time_of_decided_and_overdue"] == M
    assert total_row(internal)["pct_on_time_of_decided"] == "95.2"


def test_the_published_south_ayrshire_aim_1_gives_no_child_away():
    on = D("2019-10-01")
    result = measures.aim1(south_ayrshire_caseload(on), PRESETS["south_ayrshire"][1], on)
    assert_aim_table_safe(*both(result))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 12)] * 5), min_size=1, max_size=4))
def test_no_small_count_of_a_random_aim_table_can_be_worked_out(months):
    assert_aim_table_safe(*both(aim_result(months)))


def test_a_month_withheld_alone_takes_the_next_smallest_month_of_its_column():
    internal, published = both(aim_result([(9, 1, 0, 0, 0), (8, 6, 0, 0, 0), (7, 12, 0, 0, 0)]))
    late = [r["late"] for r in table(published, "cohort_month")]
    assert late == [M, M, "12", "19"]  # 1 alone would be 19 - 6 - 12
    assert [r["on_time"] for r in table(published, "cohort_month")] == ["9", "8", "7", "24"]
    first = table(published, "cohort_month")[0]
    assert first["pct_on_time_of_decided"] == M and first["pct_done"] == M
    third = table(published, "cohort_month")[2]
    assert third["pct_on_time_of_decided"] == "36.8"  # 7 of 19, nothing withheld


def test_a_small_numerator_over_a_large_denominator_is_withheld_with_its_percentage():
    """2 on time of 40 decided: 5.0% with 38 late printed would give the 2 back."""
    _, published = both(aim_result([(2, 38, 0, 0, 0)]))
    first = table(published, "cohort_month")[0]
    assert first["on_time"] == M and first["pct_on_time_of_decided"] == M
    assert first["pct_on_time_of_decided_and_overdue"] == first["pct_done"] == M
    assert first["late"] == "38"


def test_counts_of_five_and_zero_are_printed():
    internal, published = both(aim_result([(5, 0, 5, 0, 0)]))
    assert published[-2:] == internal[-2:]


# -- outcome mix ------------------------------------------------------------------------------
def test_outcome_mix_withholds_a_small_recommendation_and_the_one_that_would_give_it_away():
    on = D("2019-10-01")
    result = measures.aim1(south_ayrshire_caseload(on), PRESETS["south_ayrshire"][1], on)
    rows = publication.outcome_mix_rows(result, "all teams", True)
    mix = {r["recommendation"]: (r["reviews"], r["pct_of_reviews"])
           for r in table(rows, "recommendation")}
    # 32 terminate, 4 continue, 2 vary, 2 permanence away: 40 reviews
    assert mix["continue"] == mix["vary"] == mix["permanence_away"] == (M, M)
    assert mix["terminate"] == ("32", "80.0") and mix["total"] == ("40", "")
    internal = publication.outcome_mix_rows(result, "all teams", False)
    truth = {r["recommendation"]: int(r["reviews"]) for r in table(internal, "recommendation")}
    printed = {k: None if v[0] == M else int(v[0]) for k, v in mix.items()}
    assert_nothing_small_recoverable(printed, [("total", tuple(k for k in mix if k != "total"))],
                                     truth)


def test_share_is_withheld_exactly_when_told():
    assert publication.share(2, 40, True) == M
    assert publication.share(2, 40, False) == "5.0"
    assert publication.share(0, 0, False) == ""
    assert publication.share(1, 3, False, places=2) == "33.33"


# -- run charts -----------------------------------------------------------------------------
def chart_rows(points, baseline=None):
    chart = run_charts.analyse(points, baseline=baseline)
    result = aim_result([(5, 0, 0, 0, 0)])
    return publication.run_chart_rows(chart, result, "due", "all teams", True)


def test_run_chart_points_resting_on_few_children_are_withheld():
    months = [date(2024, m, 1) for m in range(1, 5)]
    points = [run_charts.Point(months[0], 100 * 20 / 21, 20, 21),  # 1 not on time
              run_charts.Point(months[1], 10.0, 3, 30),           # 3 on time
              run_charts.Point(months[2], 100.0, 30, 30),
              run_charts.Point(months[3], 50.0, 2, 4)]
    rows = table(chart_rows(points), "month")
    assert [(r["value"], r["numerator"], r["denominator"]) for r in rows] == [
        (M, M, "21"), (M, M, "30"), ("100.0", "30", "30"), (M, M, M)]
    printed = {("n", i): None if r["numerator"] == M else int(r["numerator"])
               for i, r in enumerate(rows)}
    printed |= {("d", i): None if r["denominator"] == M else int(r["denominator"])
                for i, r in enumerate(rows)}
    truth = {("n", i): p.numerator for i, p in enumerate(points)}
    truth |= {("d", i): p.denominator for i, p in enumerate(points)}
    truth |= {("rest", i): p.denominator - p.numerator for i, p in enumerate(points)}
    assert_nothing_small_recoverable(
        printed, [(("d", i), (("n", i), ("rest", i))) for i in range(4)], truth,
        hidden=[("rest", i) for i in range(4)])


def test_the_median_of_a_baseline_with_a_withheld_point_is_withheld():
    months = [date(2024, m, 1) for m in range(1, 13)]
    points = [run_charts.Point(m, 50.0, 10, 20) for m in months]
    head = chart_rows(points)
    assert next(r for r in head if r and r[0] == "median")[1] == "50.0"
    points[3] = run_charts.Point(months[3], 95.0, 19, 20)
    head = chart_rows(points)
    assert next(r for r in head if r and r[0] == "median")[1] == M


# -- stage delays ---------------------------------------------------------------------------
def stat(n, median, start="LA_START", end="PLANNING_MTG"):
    return stage_delays.StageStat(start, end, n, median, median and median + 10)


def test_a_change_of_median_is_withheld_when_either_side_is():
    comparison = [stage_delays.Comparison(stat(3, 20.0), stat(30, 12.0))]
    rows = publication.stage_rows("permanence_journey", [stat(33, 13.0)],
                                  {}, comparison, "two ranges", ON, "all teams", True)
    compared = table(rows, "from")[-1]
    assert (compared["children_before"], compared["median_before"]) == (M, M)
    assert compared["children_after"] == "30" and compared["median_after"] == "12.0"
    assert compared["median_change"] == compared["p90_change"] == M
    shown = publication.stage_rows("permanence_journey", [stat(33, 13.0)], {}, comparison,
                                   "two ranges", ON, "all teams", False)
    assert table(shown, "from")[-1]["median_change"] == "-8.0"
    both_large = [stage_delays.Comparison(stat(8, 20.0), stat(30, 12.0))]
    rows = publication.stage_rows("permanence_journey", [stat(38, 13.0)], {}, both_large,
                                  "two ranges", ON, "all teams", True)
    assert table(rows, "from")[-1]["median_change"] == "-8.0"


def test_versions_of_a_stage_add_up_to_the_stage_and_are_withheld_together():
    """Version 1: 2 children, version 2: 20, 22 overall: version 2's count (and its
    medians) are withheld too, and the comparison of the two versions withholds the same."""
    per_version = {1: [stat(2, 30.0)], 2: [stat(20, 10.0)]}
    comparison = [stage_delays.Comparison(stat(2, 30.0), stat(20, 10.0))]
    rows = publication.stage_rows("permanence_journey", [stat(22, 11.0)], per_version,
                                  comparison, "version 1 and version 2", ON, "all teams", True,
                                  versions=(1, 2))
    groups = {r["group"]: (r["children"], r["median_days"]) for r in table(rows, "group")}
    assert groups == {"all": ("22", "11.0"), "version 1": (M, M), "version 2": (M, M)}
    compared = table(rows, "from")[-1]
    assert (compared["children_before"], compared["children_after"]) == (M, M)
    assert compared["median_change"] == M


# -- survival ---------------------------------------------------------------------------------
def test_a_single_childs_curve_discloses_nothing():
    result = _survival([[(100, True)]])
    rows = publication.survival_rows(result, "all teams", True)
    summary = table(rows, "group")[0]
    assert (summary["children"], summary["decided"], summary["censored"]) == (M, M, "0")
    assert summary["median_days"] == summary["pct_decided_by_threshold"] == M
    readings = table(rows[rows.index(["group", "day", "still_waiting", "decided_so_far",
                                      "pct_still_waiting"]):], "group")
    assert readings and all(r["still_waiting"] in (M, "0") and r["decided_so_far"] in (M, "0")
                            and r["pct_still_waiting"] == M for r in readings)
    internal = publication.survival_rows(result, "all teams", False)
    assert table(internal, "group")[0]["median_days"] == "100.0"


def test_survival_readings_of_one_to_four_children_are_withheld_and_not_recoverable():
    observations = [(20 + 9 * i, True) for i in range(12)] + [(30, False), (200, False)]
    result = _survival([observations])
    rows = publication.survival_rows(result, "all teams", True)
    head = ["group", "day", "still_waiting", "decided_so_far", "pct_still_waiting"]
    readings = table(rows[rows.index(head):], "group")
    curve = result.curves[0]
    truth = {("children",): curve.n}
    printed = {("children",): int(table(rows, "group")[0]["children"])}
    groups, hidden = [], []
    for day, decided, censored, waiting in publication.readings(curve):
        truth |= {("d", day): decided, ("c", day): censored, ("w", day): waiting}
        row = next(r for r in readings if r["day"] == str(day))
        printed |= {("d", day): None if row["decided_so_far"] == M else int(row["decided_so_far"]),
                    ("w", day): None if row["still_waiting"] == M else int(row["still_waiting"])}
        groups.append((("children",), (("d", day), ("c", day), ("w", day))))
        hidden.append(("c", day))
        if M in (row["decided_so_far"], row["still_waiting"]):
            assert row["pct_still_waiting"] == M
    assert any(v is None for v in printed.values())  # the last readings are small
    assert_nothing_small_recoverable(printed, groups, truth, hidden=hidden)


def _survival(groups):
    curves = [survival.fit(f"group {i}", [
        survival.Observation(child(), j, D("2024-01-01"),
                             D("2024-01-01") + timedelta(days=d), decided, 1)
        for j, (d, decided) in enumerate(obs)]) for i, obs in enumerate(groups)]
    return survival.Survival(survival.CLOCKS["recommendation"], ON, curves, [], None, 210)


# -- forecast -------------------------------------------------------------------------------
def test_forecast_counts_per_team_add_up_to_the_open_clocks():
    items = [TeamRow("north", "aim2", 23, 1, 0, 22, 0), TeamRow("south", "aim2", 9, 0, 4, 5, 0)]
    withheld = [publication.disclosure.protect(dict(zip(r._fields[2:], r[2:])),
                                               [publication.Group("open", r._fields[3:])])
                for r in items]
    assert withheld[0] == {"missed", "on_track"} and withheld[1] == {"will_miss", "on_track"}


def test_readings_count_each_child_once_by_the_day_of_each_reading():
    """Decided on days 10, 28 and 40, censored on day 28 and 90, still waiting after 56 days:
    at day 0 none decided; at 28, those decided or censored on day 28 count as done."""
    result = _survival([[(10, True), (28, True), (40, True), (28, False), (90, False),
                         (60, True), (70, True)]])
    assert publication.readings(result.curves[0]) == [
        (0, 0, 0, 7), (28, 2, 1, 4), (56, 3, 1, 3), (84, 5, 1, 1)]


def test_a_curve_of_five_or_more_prints_its_counts_and_figures():
    result = _survival([[(30 * i, i % 3 != 0) for i in range(1, 16)]])
    rows = publication.survival_rows(result, "all teams", True)
    summary = table(rows, "group")[0]
    assert (summary["children"], summary["decided"], summary["censored"]) == ("15", "10", "5")
    assert summary["median_days"] == _days(result.curves[0].median_days) != M
    assert summary["pct_decided_by_threshold"] not in (M, "")
    head = ["group", "day", "still_waiting", "decided_so_far", "pct_still_waiting"]
    first = table(rows[rows.index(head):], "group")[0]
    assert (first["day"], first["still_waiting"], first["decided_so_far"],
            first["pct_still_waiting"]) == ("0", "15", "0", "100.0")
    result = _survival([[(30 * i, i % 4 != 0) for i in range(1, 13)]])  # 3 censored
    summary = table(publication.survival_rows(result, "all teams", True), "group")[0]
    assert (summary["children"], summary["decided"], summary["censored"]) == ("12", M, M)
    assert summary["median_days"] == summary["pct_decided_by_threshold"] == M


def _days(value):
    return f"{value:.1f}"


def test_the_aim_download_names_its_teams_above_the_table():
    result = aim_result([(9, 1, 0, 0, 0), (8, 6, 0, 0, 0)])
    rows = publication.aim_rows(result, "north", True)
    header = rows.index(next(r for r in rows if r and r[0] == "cohort_month"))
    assert rows[header - 2:header] == [["Teams: north"], []]
    assert rows[:header - 2] + rows[header - 1:] == measures.csv_rows(result, True)


def test_a_point_with_a_count_missing_still_withholds_a_small_one():
    months = [date(2024, m, 1) for m in range(1, 4)]
    points = [run_charts.Point(months[0], 60.0, 3, None), run_charts.Point(months[1], 50.0),
              run_charts.Point(months[2], 40.0, None, 30)]
    rows = table(chart_rows(points), "month")
    assert [(r["value"], r["numerator"], r["denominator"]) for r in rows] == [
        (M, M, ""), ("50.0", "", ""), ("40.0", "", "30")]


def test_a_version_comparison_withholds_each_side_as_its_own_row():
    """Version 1: 3 children (withheld, with version 3's 5 beside it); version 2: 20,
    shown. Comparing versions 1 and 2 withholds the before side only."""
    per_version = {1: [stat(3, 30.0)], 2: [stat(20, 10.0)], 3: [stat(5, 12.0)],
                   4: [stat(9, 11.0, end="INITIAL_LAR")]}
    comparison = [stage_delays.Comparison(stat(3, 30.0), stat(20, 10.0))]
    rows = publication.stage_rows("permanence_journey",
                                  [stat(28, 11.0), stat(9, 11.0, end="INITIAL_LAR")],
                                  per_version, comparison, "version 1 and version 2", ON,
                                  "all teams", True, versions=(1, 2))
    groups = [(r["group"], r["to"], r["children"]) for r in table(rows, "group")]
    assert groups == [("all", "PLANNING_MTG", "28"), ("all", "INITIAL_LAR", "9"),
                      ("version 1", "PLANNING_MTG", M), ("version 2", "PLANNING_MTG", "20"),
                      ("version 3", "PLANNING_MTG", M), ("version 4", "INITIAL_LAR", "9")]
    compared = table(rows, "from")[-1]
    assert (compared["children_before"], compared["children_after"]) == (M, "20")
    assert compared["median_after"] == "10.0" and compared["median_change"] == M


def test_run_chart_download_lists_its_baseline_and_signals():
    months = [date(2024 + m // 12, m % 12 + 1, 1) for m in range(12)]
    points = [run_charts.Point(m, 50.0 + (20 if i >= 4 else 0), 50, 100)
              for i, m in enumerate(months)]
    rows = chart_rows(points, baseline=(months[0], months[3]))
    listed = table(rows, "month")
    assert [r["in_baseline"] for r in listed] == ["yes"] * 4 + ["no"] * 8
    assert listed[-1]["signals"] == "Shift"
    signals = table(rows, "signal")
    assert [(s["signal"], s["from"], s["to"], s["direction"]) for s in signals] == [
        ("Shift", "2024-05", "2024-12", "above")]
