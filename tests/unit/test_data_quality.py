"""Data quality rules (out of order, in the future, missing) and what the measures leave
out because of them: stage delays' negative stages, aims' steps dated before their clock."""
from __future__ import annotations

from datetime import date

from workflows.measures import aim_results, data_quality as dq, stage_delays
from workflows.measures.aims import DEFAULT_AIMS as DEFAULTS
from workflows.measures.records import Child, Reached, episode
from workflows.vocabulary import CSO_HOME, PERMANENCE

D = date.fromisoformat
TODAY = D("2026-01-15")


def _ep(i, rows, process=PERMANENCE):
    child = Child(i, f"C{i:02d}", f"Child {i}", "north", D("2018-01-01"))
    return episode(i, child, [Reached(code, D(on), 1, 1, data) for code, on, data in rows],
                   process_id=process)


def _kinds(ep):
    return [(p.kind, p.code, p.other_code) for p in dq.problems_of(ep, TODAY)]


def test_a_clean_journey_has_no_problem_and_skipped_steps_are_not_missing():
    ep = _ep(1, [("LA_START", "2024-01-05", {}), ("PERM_RECOMMENDATION", "2024-07-01", {}),
                 ("ADM", "2024-10-01", {}), ("APPLICATION_LODGED", "2024-11-01", {})])
    assert dq.problems_of(ep, TODAY) == []  # no planning meeting, legal referral, CAPR: fine


def test_out_of_order_future_and_missing_are_each_named():
    ep = _ep(2, [("LA_START", "2024-04-01", {}), ("PLANNING_MTG", "2024-01-10", {}),
                 ("INITIAL_LAR", "2024-05-01", {}), ("CAPR", "2026-03-01", {})])
    assert _kinds(ep) == [("out_of_order", "PLANNING_MTG", "LA_START"),
                          ("future", "CAPR", None),
                          ("missing", "PERM_RECOMMENDATION", "CAPR")]
    out, future, missing = dq.problems_of(ep, TODAY)
    assert out.explanation == ("Planning meeting is dated 10 January 2024, before Looked after "
                               "and accommodated (01 April 2024), which comes earlier in the "
                               "journey.")
    assert future.explanation == "Child's Adoption and Permanence Report submitted is dated 01 March 2026, after today."
    assert missing.on is None and "is not recorded, but Child's Adoption and Permanence Report submitted is" in missing.explanation


def test_a_step_before_several_earlier_ones_is_compared_with_the_latest():
    ep = _ep(3, [("LA_START", "2024-01-01", {}), ("INITIAL_LAR", "2024-06-01", {}),
                 ("INTERIM_LAR", "2024-03-01", {}), ("LEGAL_REFERRAL", "2024-04-01", {})])
    assert _kinds(ep) == [("out_of_order", "INTERIM_LAR", "INITIAL_LAR"),
                          ("out_of_order", "LEGAL_REFERRAL", "INITIAL_LAR")]


def test_cso_review_without_the_order_is_missing_the_order():
    ep = _ep(4, [("AIM1_REVIEW", "2025-01-01", {})], CSO_HOME)
    assert _kinds(ep) == [("missing", "CSO_START", "AIM1_REVIEW")]
    assert dq.tally(dq.problems([ep], TODAY)) == {"missing": 1}


def test_stage_delays_leave_out_stages_dated_backwards_and_say_how_many():
    good = _ep(5, [("LA_START", "2024-01-01", {}), ("PLANNING_MTG", "2024-01-11", {})])
    bad = _ep(6, [("LA_START", "2024-04-01", {}), ("PLANNING_MTG", "2024-01-01", {})])
    items = stage_delays.intervals([good, bad])
    assert sorted(i.days for i in items) == [-91, 10]
    assert stage_delays.summarise(items)[0].median < 0  # what the page used to show
    kept, left_out = stage_delays.in_order(items)
    assert left_out == 1 and [s.median for s in stage_delays.summarise(kept)] == [10]
    counted = stage_delays.counts(items)  # the database's counts read alike
    assert stage_delays.in_order(counted)[1] == 1
    # every stage left out is a problem on the Data quality page
    assert [p.code for p in dq.problems([good, bad], TODAY)] == ["PLANNING_MTG"]


def test_aims_leave_out_a_step_dated_before_its_clock_with_the_reason():
    reviewed_early = _ep(7, [("CSO_START", "2023-01-01", {}),
                             ("AIM1_REVIEW", "2022-06-01", {"recommendation": "continue"})],
                         CSO_HOME)
    result = aim_results.aim1([reviewed_early], DEFAULTS[1], TODAY)
    assert result.total.decided == 0
    assert result.left_out_reasons() == {aim_results.DATED_BEFORE_START[1]: 1}
    early = _ep(8, [("LA_START", "2024-05-01", {}),
                    ("PERM_RECOMMENDATION", "2024-04-01", {"route": "adoption"})])
    result = aim_results.aim2([early], DEFAULTS[2], TODAY)
    assert result.total.on_time == 0 and len(result.left_out) == 1
    assert "a date to correct" in result.left_out[0].reason
