"""/api/v1/measures/… on the constructed caseload of the Measures page tests, both databases.

North: 14 children accommodated a month apart from 5 January 2024, decided at 26 weeks
except every third (34 weeks, late), the last never decided; odd ones recommended for
adoption (no ADM yet). South: one never decided, one decided in 92 days. A CSO child in
each team, the north one reviewed (terminate). Figures worked out by hand below.
"""
from __future__ import annotations

import pytest

from workflows.measures import publication

from .api_client import api, assert_error
from .journeys import World
from .measures_site import ON

P = "/api/v1/measures"


@pytest.fixture(scope="module")
def world(site):
    return World(site["db"], site["app"])


def get(world, user, path):
    response = api(world, user).get(f"{P}{path}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_aims_carry_numerators_both_denominators_exclusions_and_outcome_mix(world):
    aims = {a["aim"]: a for a in get(world, "manager", f"/aims?on={ON}")["items"]}
    total = aims[2]["total"]
    assert (total["numerator"], total["decided"], total["due"]) == (9, 14, 16)
    assert total["excluded"] == total["pending"] + total["ended"]
    assert round(total["pct_of_decided"], 2) == round(100 * 9 / 14, 2)
    cohort = aims[2]["cohorts"][0]
    assert set(cohort["tally"]) >= {"numerator", "decided", "due", "excluded"}
    assert sum(c["tally"]["numerator"] for c in aims[2]["cohorts"]) == 9
    mix = {m["code"]: m for m in aims[1]["outcome_mix"]}
    assert mix["terminate"]["count"] == 1 and mix["terminate"]["pct"] == 100
    assert aims[2]["outcome_mix"] == [] and aims[2]["left_out_reasons"] == {}
    assert get(world, "tl.south", f"/aims/2?on={ON}")["total"]["due"] == 2


def test_drill_down_names_only_children_in_scope(world):
    north = get(world, "tl.north", f"/aims/2/children?on={ON}")
    assert north["team"] == "north" and len(north["items"]) == 14
    assert {i["child"]["team"] for i in north["items"]} == {"north"}
    late = get(world, "manager", f"/aims/2/children?on={ON}&status=late")["items"]
    assert len(late) == 5 and all(i["days_past_deadline"] == 28 for i in late)
    first = late[0]["cohort"]
    month = get(world, "manager", f"/aims/2/children?on={ON}&month={first}")["items"]
    assert month and {i["cohort"] for i in month} == {first}
    assert get(world, "manager", f"/aims/2/children?on={ON}&status=left_out")["items"] == []
    assert_error(api(world, "manager").get(f"{P}/aims/2/children?month=1999-01"), 404)
    assert_error(api(world, "manager").get(f"{P}/aims/2/children?month=1999-13"), 422, "month")
    assert_error(api(world, "owner").get(f"{P}/aims/2/children"), 403)
    assert_error(api(world, "tl.north").get(f"{P}/aims/2/children?team=south"), 403)


def test_run_chart(world):
    chart = get(world, "manager", f"/aims/2/run-chart?on={ON}")
    assert len(chart["points"]) == 14 and chart["target"] == 75
    assert chart["median"] is not None and chart["provisional"] is False
    assert sum(p["in_baseline"] for p in chart["points"]) == 10
    assert chart["definitions_version"] == publication.definition("run_chart").version
    decided = get(world, "manager", f"/aims/2/run-chart?on={ON}&denominator=decided")
    assert decided["denominator"] == "decided"
    period = get(world, "manager",
                 f"/aims/2/run-chart?on={ON}&baseline_from=2024-08&baseline_to=2024-12")
    assert sum(p["in_baseline"] for p in period["points"]) == 5 and period["provisional"]
    assert_error(api(world, "manager").get(f"{P}/aims/2/run-chart?baseline_from=2024-08"),
                 422, "baseline_to")
    assert_error(api(world, "manager").get(
        f"{P}/aims/2/run-chart?baseline_from=2024-08&baseline_to=2024-01"), 422, "baseline_to")
    assert_error(api(world, "manager").get(f"{P}/aims/7/run-chart"), 404)


def test_stage_delays_and_comparisons(world):
    body = get(world, "manager", f"/stage-delays?on={ON}")
    first = body["overall"][0]
    assert (first["start"], first["end"], first["n"], first["median"]) == (
        "LA_START", "PLANNING_MTG", 14, 3)  # the south children had no planning meeting
    assert body["per_version"][0]["version"] == 1 and body["comparison"] is None
    versions = get(world, "manager", f"/stage-delays?on={ON}&before=1&after=1")
    assert versions["comparison"]["label"] == "version 1 and version 1"
    assert all(s["median_change"] in (0, None) for s in versions["comparison"]["stages"])
    ranges = get(world, "manager", f"/stage-delays?on={ON}&from1=2024-01-01&to1=2024-06-30"
                                   "&from2=2024-07-01&to2=2025-12-31")
    assert ranges["comparison"]["label"].startswith("stages started 01 Jan 2024")
    assert_error(api(world, "manager").get(f"{P}/stage-delays?before=1"), 422, "after")
    assert_error(api(world, "manager").get(f"{P}/stage-delays?from1=2024-01-01"), 422, "to2")
    cso = get(world, "tl.north", f"/stage-delays?on={ON}&process=cso_home_review")
    assert [(s["start"], s["end"], s["n"]) for s in cso["overall"]] == [
        ("CSO_START", "AIM1_REVIEW", 1)]


def test_survival_counts_children_still_waiting_as_censored(world):
    """Decided: 92 days (1), 182 (8), 238 (5); waiting: 2. S(92) = 15/16;
    S(182) = 15/16 · 7/15 = 7/16, so the median is 182 days and 9/16 are decided by 210."""
    body = get(world, "manager", f"/survival?on={ON}")
    [curve] = body["curves"]
    assert (curve["children"], curve["decided"], curve["censored"]) == (16, 14, 2)
    assert curve["median_days"] == 182 and body["threshold_days"] == 210
    assert curve["pct_decided_by_threshold"] == pytest.approx(100 * 9 / 16)
    steps = {s["day"]: s for s in curve["steps"]}
    assert steps[182]["waiting_pct"] == pytest.approx(100 * 7 / 16)
    assert steps[238]["waiting_pct"] == pytest.approx(100 * 2 / 16)
    assert body["log_rank"] is None
    north = get(world, "tl.north", f"/survival?on={ON}")
    assert north["curves"][0]["children"] == 14 and north["team"] == "north"
    versions = get(world, "manager", f"/survival?on={ON}&group=version")
    assert [c["label"] for c in versions["curves"]] == ["Version 1"]
    ranges = get(world, "manager", f"/survival?on={ON}&group=ranges&from1=2024-01-01"
                                   "&to1=2024-06-30&from2=2024-07-01&to2=2025-12-31")
    assert [c["children"] for c in ranges["curves"]] == [8, 8]
    assert ranges["log_rank"]["degrees_of_freedom"] == 1
    ratified = get(world, "manager", f"/survival?on={ON}&clock=ratification")
    assert ratified["curves"][0]["decided"] == 0 and ratified["curves"][0]["children"] == 6
    assert_error(api(world, "manager").get(f"{P}/survival?group=ranges"), 422, "from1")
    assert_error(api(world, "manager").get(f"{P}/survival?clock=soon"), 422, "clock")
    assert_error(api(world, "manager").get(f"{P}/survival?on=0001-01-01"), 422, "on")


def test_forecast_by_team_and_child(world):
    summary = get(world, "manager", f"/forecast?on={ON}")
    rows = {(r["team"], r["clock"]): r for r in summary["teams"]}
    # Undecided N13 and S00 are long past 30 weeks; CS was never reviewed; the six
    # adoption recommendations wait for the ADM, every one past its 30 weeks.
    assert rows[("north", "recommendation")]["missed"] == 1
    assert rows[("south", "recommendation")]["missed"] == 1
    assert rows[("south", "aim1_review")]["missed"] == 1
    assert rows[("north", "adm")]["open"] == 6
    assert ("north", "aim1_review") not in rows  # reviewed
    children = get(world, "tl.north", f"/forecast/children?on={ON}")["items"]
    assert {i["child"]["team"] for i in children} == {"north"}
    slack = [i["slack_days"] if i["slack_days"] is not None else i["days_left"]
             for i in children]
    assert slack == sorted(slack)
    adm = get(world, "manager", f"/forecast/children?on={ON}&clock=adm&status=missed")["items"]
    assert len(adm) == rows[("north", "adm")]["missed"] and {i["clock"] for i in adm} == {"adm"}
    assert_error(api(world, "owner").get(f"{P}/forecast/children"), 403)
    assert get(world, "owner", f"/forecast?on={ON}")["teams"]  # counts only: process owners too


def test_definitions_are_versioned(world):
    items = {d["key"]: d for d in get(world, "owner", "/definitions")["items"]}
    assert set(items) == {"aim1", "aim2", "aim3", "run_chart", "outcome_mix", "stage_delays",
                          "survival", "forecast"}
    assert all(d["version"] and d["text"] for d in items.values())
