"""English profile: the looked-after review cycle and the IRO's dispute resolution, through the
real runtime on both databases, with working days that skip England and Wales bank holidays.

First review within 20 working days of becoming looked after, the second within 3 months of
the first, then every 6 months; the care plan, PEP and health assessment fall due before
each review (5 working days before the booked date); a challenged plan goes informal →
formal stage 1 (team manager) → formal stage 2 (service manager) → formal stage 3 (head of
service) → formal stage 4 (director) → the IRO's decision on referring to Cafcass, while the
review cycle carries on.
"""
from datetime import date

import pytest

from workflows.due_rules import DueRules
from workflows.profiles import ENG_LOOKED_AFTER

from .england_journey import EnglandJourney

EASTER_2026 = date(2026, 3, 23)  # a Monday: 20 working days later crosses Good Friday and Easter Monday


def review(**answers):
    return {"plan_challenged": "no", "looked_after_status": "continues", "participation": "PN1",
            "permanence_plan": "in_place", "legal_status_check": "right", **answers}


def prepare(j, on):
    for task in ("care_plan_review", "pep_review", "health_assessment_review"):
        j.complete(task, on)


def test_review_cycle_timescales_over_english_bank_holidays(eng_db):
    j = EnglandJourney(eng_db).looked_after(EASTER_2026)
    # 10, 15 and 20 working days, skipping Good Friday (3 April) and Easter Monday (6 April):
    # Easter Monday is not a Scottish bank holiday, so each is a day later than in Scotland.
    j.expect("initial_care_plan", "social_worker", date(2026, 4, 8))
    j.expect("initial_pep", "designated_teacher", date(2026, 4, 8))
    j.expect("initial_health_assessment", "health", date(2026, 4, 15))
    j.expect("first_review", "iro", date(2026, 4, 22))
    scotland = DueRules().resolve("LA_START+20wd", {"LA_START": EASTER_2026})
    assert scotland == date(2026, 4, 21)
    for task in ("initial_care_plan", "initial_pep", "initial_health_assessment"):
        j.complete(task, date(2026, 4, 7))
    j.complete("first_review", date(2026, 4, 20), **review(next_review_date=date(2026, 7, 10)))

    # Nothing for the next review until its preparation starts, 25 working days before the
    # booked date; the visits go on meanwhile.
    assert "review" not in j.open_names()
    assert j.sweep(date(2026, 6, 4)).timers_fired == 0
    assert j.sweep(date(2026, 6, 5)).timers_fired == 1
    j.expect("care_plan_review", "social_worker", date(2026, 7, 3))  # 5 working days before 10 July
    j.expect("pep_review", "designated_teacher", date(2026, 7, 3))
    j.expect("health_assessment_review", "health", date(2026, 7, 3))
    j.expect("review", "iro", date(2026, 7, 20))  # within 3 months of the first review
    # The review is not held back by preparation that is late.
    j.complete("care_plan_review", date(2026, 7, 1))
    j.complete("review", date(2026, 7, 10), **review(next_review_date=date(2027, 1, 4)))
    j.expect("pep_review")
    j.expect("health_assessment_review")

    # Third review: 6 months after the second; preparation over Christmas and New Year.
    assert j.sweep(date(2026, 11, 24)).timers_fired == 0
    j.sweep(date(2026, 11, 25))
    assert len([i for i in j.open_items() if i.task_name == "care_plan_review"]) == 1
    j.expect("review", "iro", date(2027, 1, 10))
    j.complete("review", date(2027, 1, 4), **review(participation="PN6",
                                                     next_review_date=date(2027, 6, 28)))

    ms = j.milestones()
    assert ms["REVIEW_FIRST"] == [(date(2026, 4, 22), date(2026, 4, 20))]
    assert [a for _, a in ms["REVIEW"] if a] == [date(2026, 7, 10), date(2027, 1, 4)]
    assert ms["REVIEW"][0][0] == date(2026, 7, 10)  # planned: the date booked at the first review
    recorded = {"permanence_plan": "in_place", "legal_status_check": "right"}
    assert [m.data for m in j.milestone_rows("REVIEW")] == [{"participation": "PN1", **recorded},
                                                             {"participation": "PN6", **recorded}]
    assert j.instances()[ENG_LOOKED_AFTER].status == "running"


def test_ceasing_at_a_review_ends_the_cycle(eng_db):
    """Under a care order (section 20's path through regulation 39 is in
    test_england_regulations)."""
    j = EnglandJourney(eng_db).looked_after(date(2026, 1, 5), legal_status="s31")
    j.complete("first_review", date(2026, 1, 30),
               **review(looked_after_status="ceased", ceased_date=date(2026, 1, 30),
                        reason_ceased="E13", ceasing_under_s20="no"))
    assert "first_visit" not in j.open_names()
    episode = j.instances()[ENG_LOOKED_AFTER]
    assert (episode.status, episode.end_event) == ("completed", "ceased_at_review")
    assert [(m.actual_date, m.data) for m in j.milestone_rows("CEASED")] == [
        (date(2026, 1, 30), {"reason_ceased": "E13"})]


STAGES = {
    "informal": ["resolved"],
    "stage_1": ["not_resolved", "resolved"],
    "stage_2": ["not_resolved", "not_resolved", "resolved"],
    "stage_3": ["not_resolved"] * 3 + ["resolved"],
    "stage_4": ["not_resolved"] * 4 + ["resolved"],
    "cafcass": ["not_resolved"] * 5,
}


@pytest.mark.parametrize("resolved_at", list(STAGES))
def test_iro_dispute_resolution_informal_then_formal_stages(eng_db, resolved_at):
    j = EnglandJourney(eng_db).looked_after(date(2026, 8, 3))
    # The IRO challenges the plan at the first review, held the Wednesday before the English
    # late summer bank holiday (31 August; Scotland's was 3 August).
    j.complete("first_review", date(2026, 8, 26),
               **review(plan_challenged="yes", concerns="Contact plan not implemented",
                        next_review_date=date(2026, 11, 20)))
    outcomes = iter(STAGES[resolved_at])
    j.expect("informal_resolution", "iro", date(2026, 9, 3))  # 5 working days, skipping 31 Aug
    j.complete("informal_resolution", date(2026, 9, 1), outcome=next(outcomes))
    if resolved_at != "informal":
        j.expect("formal_stage_1", "team_manager", date(2026, 9, 8))
        j.complete("formal_stage_1", date(2026, 9, 7), outcome=next(outcomes))
    if resolved_at in ("stage_2", "stage_3", "stage_4", "cafcass"):
        j.expect("formal_stage_2", "service_manager", date(2026, 9, 14))
        j.complete("formal_stage_2", date(2026, 9, 14), outcome=next(outcomes))
    # Head of service, then director, before the IRO considers Cafcass: 5 working days each.
    if resolved_at in ("stage_3", "stage_4", "cafcass"):
        assert "cafcass_referral" not in j.open_names()
        j.expect("formal_stage_3", "head_of_service", date(2026, 9, 21))
        j.complete("formal_stage_3", date(2026, 9, 21), outcome=next(outcomes))
    if resolved_at in ("stage_4", "cafcass"):
        assert "cafcass_referral" not in j.open_names()
        j.expect("formal_stage_4", "director", date(2026, 9, 28))
        j.complete("formal_stage_4", date(2026, 9, 25), outcome=next(outcomes))
    if resolved_at == "cafcass":
        j.expect("cafcass_referral", "iro", date(2026, 10, 2))
        j.complete("cafcass_referral", date(2026, 10, 1), cafcass_decision="referred")
        assert j.milestone_rows("CAFCASS_DECISION")[0].data == {"cafcass_decision": "referred"}
    steps = ["DISPUTE_RAISED", "DISPUTE_INFORMAL", "DISPUTE_STAGE1", "DISPUTE_STAGE2",
             "DISPUTE_STAGE3", "DISPUTE_STAGE4", "CAFCASS_DECISION"]
    reached = [code for code in steps if j.actuals(code)]
    assert reached == steps[:len(reached)]  # in order, none skipped
    assert len(reached) == 1 + len(STAGES[resolved_at]) + (resolved_at == "cafcass")
    dispute = {"informal_resolution", "formal_stage_1", "formal_stage_2", "formal_stage_3",
               "formal_stage_4", "cafcass_referral"}
    assert not dispute & j.open_names()
    assert j.actuals("DISPUTE_RAISED") == [date(2026, 8, 26)]
    # The review cycle carried on: its preparation timer is still waiting.
    assert j.sweep(date(2026, 10, 16)).timers_fired == 1
    j.expect("review", "iro", date(2026, 11, 26))
