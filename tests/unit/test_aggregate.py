"""The aggregate export's rows from constructed aims: the run chart's numerator and
denominator, the percentage, the diagram version at each month's end, the PDSA cycles begun
in the month, small numbers withheld; CSV and JSON in the documented columns."""
from __future__ import annotations

from datetime import date

from workflows.measures import aggregate
from workflows.measures.aggregate import COLUMNS, Cycle
from workflows.measures.disclosure import MARK
from workflows.measures.records import Deployment

from .test_publication import aim_result

D = date.fromisoformat
PROCESSES = {1: "cso_home_review", 2: "permanence_journey", 3: "permanence_journey"}
DEPLOYMENTS = [Deployment("permanence_journey", 1, D("2023-06-01")),
               Deployment("cso_home_review", 1, D("2023-06-01")),
               Deployment("permanence_journey", 2, D("2024-02-29"))]


def export(months, aim=2, cycles=()):
    result = aim_result(months, aim)
    return aggregate.build("midlothian", result.measured_on, {aim: result}, PROCESSES,
                           DEPLOYMENTS, cycles)


def test_each_month_with_its_figures_version_and_cycles():
    # (on_time, late, overdue, pending, ended) for January to April 2024
    found = export([(15, 5, 0, 0, 0), (20, 1, 0, 3, 0), (0, 2, 0, 0, 0), (9, 3, 10, 0, 1)],
                   cycles=[Cycle(2, "Legal referral at 20 weeks", 1, D("2024-02-05")),
                           Cycle(1, "Another aim's cycle", 1, D("2024-02-06")),
                           Cycle(2, "Before any deadline", 2, D("2023-11-20"))])
    rows = [(r.month.isoformat()[:7], r.numerator, r.denominator, r.percentage,
             r.diagram_version, r.pdsa_cycles, sorted(r.withheld)) for r in found.rows]
    assert rows == [
        ("2023-11", 0, 0, None, 1, ("Before any deadline (cycle 2)",), []),
        ("2024-01", 15, 20, 75.0, 1, (), []),
        ("2024-02", 20, 21, 100 * 20 / 21, 2, ("Legal referral at 20 weeks (cycle 1)",),
         ["numerator", "percentage"]),                    # 1 not on time: 20 of 21 withheld
        ("2024-03", 0, 2, 0.0, 2, (), ["denominator", "percentage"]),
        ("2024-04", 9, 22, 100 * 9 / 22, 2, (), []),
    ]
    assert all(r.target_pct == 75.0 for r in found.rows)


def test_aim_1_counts_reviews_done_of_those_due():
    found = export([(6, 4, 5, 0, 0)], aim=1)
    assert (found.rows[0].numerator, found.rows[0].denominator) == (10, 15)
    assert found.rows[0].diagram_version == 1


def test_csv_and_json_in_the_documented_columns():
    found = export([(15, 5, 0, 0, 0), (20, 1, 0, 0, 0)])
    rows = aggregate.csv_rows(found)
    assert rows[0] == list(COLUMNS)
    assert rows[1] == ["1", "midlothian", "2024-12-01", "2", "2024-01", "yes", "15", "20",
                       "75.0", "75.0", "1", "", aggregate.aim_results.DEFINITIONS_VERSION]
    assert rows[2][6:9] == [MARK, "21", MARK]
    body = aggregate.as_json(found)
    assert (body["format"], body["format_version"]) == ("pace-flow-aggregate", "1")
    assert body["rows"][1]["numerator"] is None and body["rows"][1]["denominator"] == 21
    assert body["rows"][1]["percentage"] is None
    assert body["rows"][1]["withheld"] == ["numerator", "percentage"]
    assert body["rows"][0]["percentage"] == 75.0


def test_no_version_before_the_first_deployment():
    assert aggregate.version_on(DEPLOYMENTS, "permanence_journey", D("2023-05-31")) is None
    assert aggregate.version_on(DEPLOYMENTS, "permanence_journey", D("2024-02-29")) == 2
