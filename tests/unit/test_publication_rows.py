"""Every row of the published downloads, as a council receives them, for one table of each
kind (the forecast, survival curves, a run chart, stage delays with versions, Aim 1's outcome mix), for
publication and for internal use: what is printed, withheld, rounded and labelled, and in
which order. Mutation testing (issue 31) found the row builders checked only in part. The
expected rows are in publication_rows.json; the definitions' wording is left to their own
tests (only each definition's heading is compared here)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from workflows.measures import aim_results as measures, publication, run_charts, stage_delays
from workflows.measures import forecast
from workflows.measures.aims import PRESETS
from workflows.measures.forecast import MISSED, ON_TRACK, UNKNOWN, WILL_MISS
from workflows.measures.records import Child

from .test_measures import D, south_ayrshire_caseload
from .test_publication import ON, _survival, aim_result, stat

EXPECTED = Path(__file__).with_name("publication_rows.json")


def survival_case(published: bool):
    result = _survival([[(30 * i, i % 3 != 0) for i in range(1, 16)],
                        [(20 * i, True) for i in range(1, 4)]])
    return publication.survival_rows(result, "all teams", published)


def chart_case(published: bool):
    months = [date(2024 + m // 12, m % 12 + 1, 1) for m in range(10)]
    points = [run_charts.Point(months[0], 100 * 20 / 21, 20, 21),
              run_charts.Point(months[1], 10.0, 3, 30)] + \
        [run_charts.Point(m, 50.0 + (20 if i >= 4 else 0), 50, 100) for i, m in enumerate(months[2:])]
    chart = run_charts.analyse(points, baseline=(months[0], months[3]))
    return publication.run_chart_rows(chart, aim_result([(5, 0, 0, 0, 0)]), "due", "all teams",
                                      published)


def stage_case(published: bool):
    per_version = {1: [stat(2, 30.0)], 2: [stat(20, 10.0)]}
    comparison = [stage_delays.Comparison(stat(2, 30.0), stat(20, 10.0))]
    return publication.stage_rows("permanence_journey",
                                  [stat(22, 11.0), stat(40, 7.5, "PLANNING_MTG", "PANEL")],
                                  per_version, comparison, "version 1 and version 2", ON,
                                  "all teams", published, versions=(1, 2))


def mix_case(published: bool):
    on = D("2019-10-01")
    result = measures.aim1(south_ayrshire_caseload(on), PRESETS["south_ayrshire"][1], on)
    return publication.outcome_mix_rows(result, "all teams", published)


def forecast_case(published: bool):
    """North: 7 open recommendation clocks (1 missed, 1 to be missed, 5 on track), 1 ADM clock with no
    pace known; south: 9 recommendation clocks on track."""
    statuses = [("north", "recommendation", MISSED)] + [("north", "recommendation", WILL_MISS)] + \
        [("north", "recommendation", ON_TRACK)] * 5 + [("north", "adm", UNKNOWN)] + \
        [("south", "recommendation", ON_TRACK)] * 9
    items = [forecast.Forecast(Child(n, f"C{n:03d}", f"Child {n}", team), n, clock,
                               date(2024, 1, n), date(2024, 8, n), "LA_START", date(2024, 1, n),
                               None if status == UNKNOWN else date(2024, 6 + n % 4, n),
                               status, ON, "no pace known" if status == UNKNOWN else "")
             for n, (team, clock, status) in enumerate(statuses, 1)]
    return publication.forecast_rows(items, ON, "all teams", published)


def long_chart_case(published: bool):
    """Twenty months, a shift from the fifth on, a point with no counts, a target, an
    astronomical point and two annotations: every part of the run chart download."""
    months = [date(2023 + m // 12, m % 12 + 1, 1) for m in range(20)]
    points = [run_charts.Point(m, 40.0 + (25 if i >= 4 else i % 3), 40 + (25 if i >= 4 else i % 3),
                               100) for i, m in enumerate(months)]
    points[7] = run_charts.Point(months[7], 64.0, None, None)
    chart = run_charts.analyse(points, target=75.0, astronomical=[months[12]], annotations=[
        run_charts.Annotation(months[4], "pdsa", "PDSA 1: earlier reviews"),
        run_charts.Annotation(months[9], "deployment", "Version 2 deployed")])
    return publication.run_chart_rows(chart, aim_result([(5, 0, 0, 0, 0)]), "due", "all teams",
                                      published)


CASES = {"long_run_chart": long_chart_case, "forecast": forecast_case, "survival": survival_case, "run_chart": chart_case, "stages": stage_case,
         "outcome_mix": mix_case}


def headed(rows: list[list[str]]) -> list[list[str]]:
    """The rows with each definition cut to its heading ("Definition version 2 (Aim 2)")."""
    return [[row[0].partition(":")[0]] if row and row[0].startswith("Definition version") else row
            for row in rows]


def all_rows() -> dict:
    return {f"{name} {'published' if published else 'internal'}": headed(case(published))
            for name, case in CASES.items() for published in (True, False)}


@pytest.mark.parametrize("published", [True, False])
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_download_prints_exactly_its_rows(name, published):
    key = f"{name} {'published' if published else 'internal'}"
    assert headed(CASES[name](published)) == json.loads(EXPECTED.read_text())[key]


if __name__ == "__main__":  # python -m tests.unit.test_publication_rows: write the expected rows
    EXPECTED.write_text(json.dumps(all_rows(), indent=1) + "\n")
