"""English profile: what the regulations require of the diagrams (issue 29 items 7 and 8), through
the real runtime on both databases.

- Visits, regulation 28 of the Care Planning, Placement and Case Review (England) Regulations
  2010: weekly until the first review on temporary approval (reg. 24) or with parents under an
  interim care order, then at most 6-weekly; a 3-monthly choice refused in a placement's first
  year and for a placement not meant to last, allowed after the first year with parents under a
  care order.
- Regulation 39: a child under section 20 stops being looked after only after a review and the
  nominated officer's approval.
- Legal status on entry recorded as what it is (police protection, EPO, remand), never section 20.
- A long time under section 20 opens a review of the legal status (the diagram's timer rule).
- The review records the permanence plan, required from the second review.
- The section 20 agreement records informed consent by a person with parental responsibility.
"""
from datetime import date, timedelta

import pytest

from engine.errors import InvalidData
from workflows.profiles import ENG_LEGAL_STATUS, ENG_LOOKED_AFTER
from workflows.returns import ssda903

from .england_journey import EnglandJourney

LA = date(2026, 1, 5)


def visit(**answers):
    return {"seen_alone": True, "placement_status": "continuing", **answers}


def review(**answers):
    return {"plan_challenged": "no", "looked_after_status": "continues", "participation": "PN1",
            "legal_status_check": "right", **answers}


def refused(j, task, on, field, **answers) -> str:
    """The message a completion is refused with (and the task still open)."""
    with pytest.raises(InvalidData) as caught:
        j.complete(task, on, **answers)
    j.expect(task)
    [error] = [e for e in caught.value.errors if e.field == field]
    return error.message


@pytest.mark.parametrize("arrangement", ["temporary_approval", "parents_interim_order"])
def test_weekly_visits_until_the_first_review_then_six_weekly(eng_db, arrangement):
    j = EnglandJourney(eng_db).looked_after(LA, placement_type="U3")
    message = refused(j, "first_visit", date(2026, 1, 8), "visit_frequency",
                      **visit(placement_arrangement=arrangement, visit_frequency="six_weekly"))
    assert "at least once a week" in message and "regulation 28(3) and (4)" in message
    j.complete("first_visit", date(2026, 1, 8),
               **visit(placement_arrangement=arrangement, visit_frequency="weekly"))
    j.expect("visit_weekly", "social_worker", date(2026, 1, 15))
    j.complete("visit_weekly", date(2026, 1, 15), **visit(visit_frequency="weekly"))
    assert "at least once a week" in refused(j, "visit_weekly", date(2026, 1, 22),
                                             "visit_frequency", **visit(visit_frequency="monthly"))
    j.complete("visit_weekly", date(2026, 1, 22), **visit(visit_frequency="weekly"))
    j.expect("visit_weekly", "social_worker", date(2026, 1, 29))
    j.complete("first_review", date(2026, 1, 28), **review(next_review_date=date(2026, 4, 20)))
    # After the first review: at most every 6 weeks, never 3-monthly for this placement.
    refused(j, "visit_weekly", date(2026, 1, 29), "visit_frequency",
            **visit(visit_frequency="three_monthly"))
    j.complete("visit_weekly", date(2026, 1, 29), **visit(visit_frequency="six_weekly"))
    j.expect("visit_six_weekly", "social_worker", date(2026, 3, 12))
    rows = j.milestone_rows("VISIT")
    assert rows[0].data == {"seen_alone": True, "placement_arrangement": arrangement}
    assert [r.actual_date for r in rows] == [date(2026, 1, 8), date(2026, 1, 15),
                                             date(2026, 1, 22), date(2026, 1, 29)]


def test_three_monthly_refused_in_the_first_year_allowed_after_with_parents_under_a_care_order(eng_db):
    la = date(2025, 1, 6)
    j = EnglandJourney(eng_db).looked_after(la, legal_status="s31", placement_type="P1",
                                            placement_provider="PR0")
    message = refused(j, "first_visit", date(2025, 1, 10), "visit_frequency",
                      **visit(placement_arrangement="parents_care_order",
                              visit_frequency="three_monthly"))
    assert message.startswith("Visits every 3 months are allowed only after the first year of a "
                              "placement (regulation 28 of the Care Planning, Placement and Case "
                              "Review (England) Regulations 2010)")
    j.complete("first_visit", date(2025, 1, 10),
               **visit(placement_arrangement="parents_care_order", visit_frequency="six_weekly"))
    day = date(2025, 1, 10)
    while day + timedelta(weeks=6) < date(2026, 1, 6):  # 6-weekly through the first year
        day += timedelta(weeks=6)
        j.complete("visit_six_weekly", day, **visit(visit_frequency="six_weekly"))
    assert day == date(2025, 12, 12)
    refused(j, "visit_six_weekly", date(2026, 1, 5), "visit_frequency",
            **visit(visit_frequency="three_monthly"))  # the day before the anniversary
    j.complete("visit_six_weekly", date(2026, 1, 6), **visit(visit_frequency="three_monthly"))
    j.expect("visit_three_monthly", "social_worker", date(2026, 4, 6))


def test_three_monthly_refused_after_the_first_year_for_a_placement_not_meant_to_last(eng_db):
    j = EnglandJourney(eng_db).looked_after(date(2025, 1, 6), legal_status="s31")
    j.complete("first_visit", date(2025, 1, 10),
               **visit(placement_arrangement="other", visit_frequency="monthly"))
    message = refused(j, "visit_monthly", date(2026, 2, 2), "visit_frequency",
                      **visit(visit_frequency="three_monthly"))
    assert "intended to last until the child is 18" in message


def test_ceasing_under_section_20_needs_a_review_and_the_nominated_officer(eng_db):
    j = EnglandJourney(eng_db).looked_after(LA)
    j.complete("first_visit", date(2026, 1, 8),
               **visit(placement_arrangement="other", visit_frequency="six_weekly"))
    j.complete("visit_six_weekly", date(2026, 2, 2),
               **visit(placement_status="ceased", ceased_date=date(2026, 2, 2),
                       reason_ceased="E4A", ceasing_under_s20="yes"))
    # Not ended: the IRO reviews first (regulation 39).
    assert j.instances()[ENG_LOOKED_AFTER].status == "running"
    assert not j.milestone_rows("CEASED")
    j.expect("cessation_review", "iro", date(2026, 2, 9))  # 5 working days
    j.complete("cessation_review", date(2026, 2, 6), cessation_decision="cease",
               reasons="Mother's circumstances have changed; support from the family centre")
    j.expect("approval_after_visit", "service_manager", date(2026, 2, 13))
    # The nominated officer does not approve: visits go on.
    j.complete("approval_after_visit", date(2026, 2, 10), approval="not_approved",
               nominated_officer="Head of Children in Care")
    j.expect("visit_six_weekly", "social_worker")
    assert j.instances()[ENG_LOOKED_AFTER].status == "running"
    # Proposed again at the first review, which is the regulation 39 review: approved.
    j.complete("first_review", date(2026, 2, 12),
               **review(looked_after_status="ceased", ceased_date=date(2026, 2, 12),
                        reason_ceased="E4A", ceasing_under_s20="yes"))
    assert "cessation_review" not in j.open_names()
    j.expect("approval_after_review", "service_manager", date(2026, 2, 19))
    j.complete("approval_after_review", date(2026, 2, 16), approval="approved",
               nominated_officer="Head of Children in Care", ceased_date=date(2026, 2, 16))
    episode = j.instances()[ENG_LOOKED_AFTER]
    assert (episode.status, episode.end_event) == ("completed", "ceased_after_approval")
    assert [(m.actual_date, m.data) for m in j.milestone_rows("CEASED")] == [
        (date(2026, 2, 16), {"reason_ceased": "E4A"})]
    assert [m.data for m in j.milestone_rows("CEASE_DECISION")] == [
        {"approval": "not_approved"}, {"approval": "approved"}]
    assert j.actuals("CEASE_PROPOSED") == [date(2026, 2, 2), date(2026, 2, 12)]
    assert "visit_six_weekly" not in j.open_names()


@pytest.mark.parametrize("status, code", [("police_protection", "L1"),
                                          ("emergency_protection_order", "L2"),
                                          ("remand", "J1")])
def test_entry_under_police_protection_epo_or_remand_is_not_section_20(eng_db, status, code):
    j = EnglandJourney(eng_db).looked_after(LA, legal_status=status)
    assert "s20_agreement" not in j.open_names()
    j.expect("emergency_entry", "social_worker", date(2026, 1, 6))
    (start,) = j.milestone_rows("LA_START")
    assert start.data["legal_status"] == status
    if status == "remand":
        j.complete("emergency_entry", LA, order_date=LA, next_step="remand_continues")
        assert j.instances()[ENG_LEGAL_STATUS].end_event == "emergency_ended"
        expected = [code]
    else:
        # Parents then agree to accommodation: section 20 from that day, a new episode.
        j.complete("emergency_entry", date(2026, 1, 7), order_date=LA, next_step="s20",
                   s20_from=date(2026, 1, 7))
        j.expect("s20_agreement", "social_worker", date(2026, 1, 9))
        (change,) = j.milestone_rows("LEGAL_STATUS")
        assert (change.actual_date, change.data) == (date(2026, 1, 7), {"next_step": "s20"})
        expected = [code, "V2"]
    with eng_db.transaction() as session:
        export = ssda903.collect(session, date(2025, 4, 1), date(2026, 3, 31))
    assert [e["LS"] for e in export.episodes] == expected
    assert export.episodes[-1]["RNE"] == ("L" if len(expected) == 2 else "S")


def test_a_long_time_under_section_20_opens_a_review_of_the_legal_status(eng_db):
    j = EnglandJourney(eng_db).looked_after(LA)
    assert "must be informed" in refused(
        j, "s20_agreement", date(2026, 1, 6), "consent_informed", legal_planning_needed="no",
        agreed_by="Jane Doe, mother", has_parental_responsibility=True, consent_informed=False)
    assert "parental responsibility" in refused(
        j, "s20_agreement", date(2026, 1, 6), "has_parental_responsibility",
        legal_planning_needed="no", agreed_by="John Doe, uncle",
        has_parental_responsibility=False, consent_informed=True)
    j.complete("s20_agreement", date(2026, 1, 6), legal_planning_needed="no",
               agreed_by="Jane Doe, mother", has_parental_responsibility=True,
               consent_informed=True)
    # 6 months under section 20 (the timer's rule S20_AGREEMENT+6m): the team manager reviews.
    assert j.sweep(date(2026, 7, 5)).timers_fired == 0
    assert j.sweep(date(2026, 7, 6)).timers_fired == 1
    j.expect("s20_legal_review", "team_manager", date(2026, 7, 20))
    j.complete("s20_legal_review", date(2026, 7, 14), s20_review_outcome="remain_s20",
               reasons="Mother still agrees; reunification plan on track")
    assert "s20_legal_review" not in j.open_names()
    assert j.sweep(date(2027, 1, 13)).timers_fired == 0
    j.sweep(date(2027, 1, 14))  # 6 months after that review
    j.complete("s20_legal_review", date(2027, 1, 18), s20_review_outcome="legal_planning",
               reasons="Drift: no progress towards return home")
    j.expect("legal_planning_meeting", "legal", date(2027, 2, 1))
    assert j.actuals("S20_REVIEW") == [date(2026, 7, 14), date(2027, 1, 18)]


def test_the_permanence_plan_is_required_from_the_second_review(eng_db):
    j = EnglandJourney(eng_db).looked_after(LA, legal_status="s31")
    j.complete("first_review", date(2026, 1, 30),
               **review(permanence_plan="not_yet", next_review_date=date(2026, 4, 24),
                        parents_views="Want the children home", carers_views="Settled",
                        contact="Twice weekly, supervised"))
    j.sweep(date(2026, 3, 20))  # review preparation starts
    message = refused(j, "review", date(2026, 4, 24), "permanence_plan",
                      **review(permanence_plan="not_yet", next_review_date=date(2026, 10, 23)))
    assert "by the second review" in message
    j.complete("review", date(2026, 4, 24),
               **review(permanence_plan="in_place", next_review_date=date(2026, 10, 23)))
    (first,) = j.milestone_rows("REVIEW_FIRST")
    assert first.data["permanence_plan"] == "not_yet"
    (second,) = j.milestone_rows("REVIEW")
    assert second.data == {"participation": "PN1", "permanence_plan": "in_place",
                           "legal_status_check": "right"}


def test_the_process_owners_check_refuses_a_refusal_rule_written_wrong(eng_db):
    import json

    from engine.registry import ModelBundle
    from workflows.process_models import model_validation
    from workflows.profiles import ENGLAND_PROFILE

    ctx = model_validation.validation_context(eng_db.runtime, ENG_LOOKED_AFTER)
    shipped = ModelBundle.from_directory(ENGLAND_PROFILE.process_folder(ENG_LOOKED_AFTER))
    assert model_validation.validate(shipped, ctx).ok
    form = json.loads(shipped.forms["statutory_visit.schema.json"])
    form["properties"]["visit_frequency"]["x-refuse"][1]["answers"] = ["fortnightly"]
    broken = ModelBundle(shipped.process_id, shipped.bpmn_xml,
                         {**shipped.forms, "statutory_visit.schema.json": json.dumps(form)})
    report = model_validation.validate(broken, ctx)
    messages = {f.message for f in report.findings}
    assert not report.ok
    assert any("visit_frequency': x-refuse rule 2: answers names 'fortnightly'" in m
               for m in messages), messages
    assert "visit_six_weekly" in {f.element_id for f in report.findings}  # each task using the form
