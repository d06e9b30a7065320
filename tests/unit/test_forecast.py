"""Breach forecast on hand-made caseloads: the pace is the median of recent stages, the
stage in progress ends at its median or today, and each projected date and slack is worked
out by hand in the comments."""
from datetime import date, timedelta

import pytest

from workflows.measures import forecast
from workflows.measures.aims import DEFAULT_AIMS, Threshold
from workflows.measures.forecast import MISSED, ON_TRACK, UNKNOWN, WILL_MISS
from workflows.measures.data import Reached, episode
from workflows.vocabulary import CSO_HOME, PERMANENCE

from .caseloads import child

ON = date(2025, 6, 30)
SETTINGS = dict(DEFAULT_AIMS)  # Aim 1: 18 months; Aims 2 and 3: 30 weeks (210 days)
# The recent journey: planning meeting on day 3, initial review day 21, interim day 90,
# legal referral day 180, opinion day 195, recommendation day 240: stages 3, 18, 69, 90,
# 15 and 45 days.
JOURNEY = {"LA_START": 0, "PLANNING_MTG": 3, "INITIAL_LAR": 21, "INTERIM_LAR": 90,
           "LEGAL_REFERRAL": 180, "LEGAL_OPINION": 195, "PERM_RECOMMENDATION": 240}


def perm(start: date, upto: str | None = None, route="home", more=(), team="north",
         ended_on=None, milestones=JOURNEY):
    c = child(team=team)
    reached = []
    for code, offset in milestones.items():
        data = {"route": route} if code == "PERM_RECOMMENDATION" else {}
        reached.append(Reached(code, start + timedelta(days=offset), data=data))
        if code == upto:
            break
    return episode(c.id, c, reached + list(more), process_id=PERMANENCE,
                   status="completed" if ended_on else "running", ended_on=ended_on)


def pace_setters(n=5, finished=ON - timedelta(days=30)):
    """n children who completed the journey recently (recommendation 30 days ago)."""
    return [perm(finished - timedelta(days=240 + i)) for i in range(n)]


def days_before(n):
    return ON - timedelta(days=n)


def run(eps, clocks=("recommendation",), settings=SETTINGS):
    return forecast.forecast({PERMANENCE: eps}, settings, ON, clocks)


def test_pace_is_the_median_of_recent_stages():
    stages = forecast.pace(pace_setters(), forecast.CLOCKS["recommendation"].order, ON)
    assert {k: v.days for k, v in stages.items()} == {
        ("LA_START", "PLANNING_MTG"): 3, ("PLANNING_MTG", "INITIAL_LAR"): 18,
        ("INITIAL_LAR", "INTERIM_LAR"): 69, ("INTERIM_LAR", "LEGAL_REFERRAL"): 90,
        ("LEGAL_REFERRAL", "LEGAL_OPINION"): 15, ("LEGAL_OPINION", "PERM_RECOMMENDATION"): 45}
    assert all(s.recent and s.n == 5 for s in stages.values())


def test_old_stages_count_only_when_too_few_are_recent():
    slow_old = perm(ON - timedelta(days=1000),
                    milestones={"LA_START": 0, "PLANNING_MTG": 11})  # 11 days, 3 years ago
    recent = [perm(days_before(10 + i), "PLANNING_MTG") for i in range(5)]  # 3 days each
    order = forecast.CLOCKS["recommendation"].order
    assert forecast.pace(recent + [slow_old], order, ON)[("LA_START", "PLANNING_MTG")] == (
        "LA_START", "PLANNING_MTG", 3, 5, True)
    few = forecast.pace(recent[:2] + [slow_old], order, ON)[("LA_START", "PLANNING_MTG")]
    assert few == ("LA_START", "PLANNING_MTG", 3, 3, False)  # median of 3, 3, 11
    assert forecast.pace(recent[:2] + [slow_old] * 3, order, ON)[
        ("LA_START", "PLANNING_MTG")].days == 11  # 3, 3, 11, 11, 11


def test_projection_from_the_last_milestone_reached():
    # A: accommodated 100 days ago, interim review on day 90. The referral stage (90 days)
    # ends on day 180, then 15 + 45: day 240, deadline day 210 -> 30 days late.
    a = perm(days_before(100), "INTERIM_LAR")
    # B: fast, legal opinion on day 150 of 160: 150 + 45 = 195 -> 15 days to spare.
    b = perm(days_before(160), "LEGAL_OPINION",
             milestones={**JOURNEY, "LEGAL_REFERRAL": 120, "LEGAL_OPINION": 150})
    # C: stuck at the referral since day 100 of 200: that stage (15 days) should have ended
    # on day 115, so it ends today (day 200), then 45: day 245 -> 35 days late.
    c = perm(days_before(200), "LEGAL_REFERRAL", milestones={**JOURNEY, "LEGAL_REFERRAL": 100})
    # D: 250 days since accommodation, interim review on day 90: the deadline has passed;
    # projected today (day 250) + 15 + 45 = day 310 -> 100 days late.
    d = perm(days_before(250), "INTERIM_LAR")
    found = {f.child.id: f for f in run(pace_setters() + [a, b, c, d])}
    assert set(found) == {a.child.id, b.child.id, c.child.id, d.child.id}  # the decided: none
    assert (found[a.child.id].status, found[a.child.id].slack_days) == (WILL_MISS, -30)
    assert found[a.child.id].projected == days_before(100) + timedelta(days=240)
    assert found[a.child.id].deadline == days_before(100) + timedelta(days=210)
    assert (found[b.child.id].status, found[b.child.id].slack_days) == (ON_TRACK, 15)
    assert (found[c.child.id].status, found[c.child.id].slack_days) == (WILL_MISS, -35)
    assert (found[d.child.id].status, found[d.child.id].slack_days) == (MISSED, -100)
    assert found[d.child.id].reached_code == "INTERIM_LAR"
    ordered = [f.child.id for f in run(pace_setters() + [a, b, c, d])]
    assert ordered == [d.child.id, c.child.id, a.child.id, b.child.id]  # least slack first


def test_a_stage_the_children_skip_is_stepped_over():
    no_referral = {k: v for k, v in JOURNEY.items() if k != "LEGAL_REFERRAL"}
    setters = [perm(days_before(300 + i), milestones=no_referral) for i in range(5)]
    # Interim review (day 90) straight to the opinion (day 195): 105 days, then 45.
    waiting = perm(days_before(95), "INTERIM_LAR")
    [item] = run(setters + [waiting])
    assert item.projected == days_before(95) + timedelta(days=240)


def test_unknown_pace_says_which_stage():
    [item] = run([perm(days_before(20), "LA_START")])
    assert item.status == UNKNOWN and item.projected is None and item.slack_days is None
    assert item.note == "no child has completed the stage after looked after and accommodated"
    assert item.days_left == 190


def test_done_ended_and_future_children_are_not_forecast():
    done = perm(days_before(300))
    ended = perm(days_before(100), "INTERIM_LAR", ended_on=days_before(5))
    future = perm(ON + timedelta(days=3), "LA_START")
    assert run(pace_setters() + [done, ended, future]) == []


def test_the_deadline_follows_the_council_threshold():
    settings = {**SETTINGS, 2: SETTINGS[2].with_changes(threshold=Threshold.parse("7.5m"))}
    [item] = run(pace_setters() + [perm(date(2025, 6, 1), "LA_START")], settings=settings)
    assert item.deadline == date(2026, 1, 16)  # 1 June + 7 months and 15 days


def test_adm_clock_from_a_recommendation_away_from_home():
    away = {"LA_START": 0, "PERM_RECOMMENDATION": 200, "CAPR": 256, "PANEL": 340, "ADM": 354}
    setters = [perm(days_before(400 + i), route="adoption", milestones=away) for i in range(5)]
    # Recommended away 100 days ago, CAPR 50 days ago: panel due 50 + 84 -> in 34 days,
    # ADM 14 later: 48 days from now; deadline 210 - 100 = 110 days from now: slack 62.
    waiting = perm(days_before(300), "CAPR", route="permanence_order",
                   milestones={"LA_START": 0, "PERM_RECOMMENDATION": 200, "CAPR": 250})
    home = perm(days_before(300), "PERM_RECOMMENDATION", route="home")
    found = run(setters + [waiting, home], clocks=("adm",))
    assert [(f.child.id, f.status, f.slack_days) for f in found] == [
        (waiting.child.id, ON_TRACK, 62)]


def test_aim1_review_clock_on_the_cso_loop():
    def cso(start, review=None):
        c = child()
        reached = [Reached("CSO_START", start)]
        if review:
            reached.append(Reached("AIM1_REVIEW", review))
        return episode(c.id, c, reached, process_id=CSO_HOME)
    setters = [cso(days_before(600 + i), days_before(90 + i)) for i in range(5)]  # 510 days
    fresh = cso(date(2025, 1, 1))  # reviewed at 510 days: 26 May 2026; deadline 1 Jul 2026
    late = cso(date(2024, 3, 1))
    found = {f.child.id: f for f in forecast.forecast({CSO_HOME: setters + [fresh, late]},
                                                      SETTINGS, ON, ("aim1_review",))}
    assert found[fresh.child.id].projected == date(2026, 5, 26)
    assert found[fresh.child.id].deadline == date(2026, 7, 1)
    assert (found[fresh.child.id].status, found[fresh.child.id].slack_days) == (ON_TRACK, 36)
    # started 1 Mar 2024: projected 24 Jul 2025, deadline 1 Sep 2025: on track by 39 days
    assert (found[late.child.id].projected, found[late.child.id].slack_days) == (
        date(2025, 7, 24), 39)


def test_team_summary():
    items = run(pace_setters() + [perm(days_before(100), "INTERIM_LAR", team="north"),
                                  perm(days_before(250), "INTERIM_LAR", team="south"),
                                  perm(days_before(160), "LEGAL_OPINION", team="south",
                                       milestones={**JOURNEY, "LEGAL_REFERRAL": 120,
                                                   "LEGAL_OPINION": 150})])
    assert forecast.by_team(items) == [
        ("north", "recommendation", 1, 0, 1, 0, 0),
        ("south", "recommendation", 2, 1, 0, 1, 0)]


@pytest.mark.parametrize("clock", sorted(forecast.CLOCKS))
def test_every_clock_has_its_aim_and_route(clock):
    c = forecast.CLOCKS[clock]
    assert c.aim in SETTINGS and len(c.route) >= 2
    assert all(code in c.order for code in c.route)
