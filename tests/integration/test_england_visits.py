"""English profile: the statutory visits loop, through the real runtime on both databases.

First visit within a week of each placement; then the next visit is due within 6 weeks, a
month or 3 months as the visit form's frequency choice routes it (3 months refused in a
placement's first year: tests/integration/test_england_regulations.py); a move starts a new
placement (first visit within a week again); ceasing to be looked after ends the whole
cycle (a terminate end: the review side is cancelled); late visits escalate to the team
manager, then the service manager.
"""
from datetime import date

import pytest

from engine.errors import InvalidData
from workflows.profiles import ENG_LEGAL_STATUS, ENG_LOOKED_AFTER

from .england_journey import EnglandJourney

LA = date(2026, 1, 5)


def visit(**answers):
    return {"seen_alone": True, "placement_status": "continuing", **answers}


def test_visit_frequencies_seen_alone_and_a_placement_move(eng_db):
    j = EnglandJourney(eng_db).looked_after(LA)
    j.expect("first_visit", "social_worker", date(2026, 1, 12))  # within 1 week of placement
    j.complete("first_visit", date(2026, 1, 9),
               **visit(visit_frequency="six_weekly", placement_arrangement="long_term"))
    j.expect("visit_six_weekly", "social_worker", date(2026, 2, 20))
    j.complete("visit_six_weekly", date(2026, 2, 18),
               **visit(seen_alone=False, seen_alone_reason="Asleep", visit_frequency="monthly"))
    j.expect("visit_monthly", "social_worker", date(2026, 3, 18))
    with pytest.raises(InvalidData, match="only after the first year of a placement"):
        j.complete("visit_monthly", date(2026, 3, 16), **visit(visit_frequency="three_monthly"))
    j.complete("visit_monthly", date(2026, 3, 16), **visit(visit_frequency="six_weekly"))
    j.expect("visit_six_weekly", "social_worker", date(2026, 4, 27))
    j.complete("visit_six_weekly", date(2026, 6, 1),
               **visit(placement_status="moved", new_placement_date=date(2026, 5, 29),
                       placement_type="U4", placement_provider="PR4", placement_postcode="LS2 1AA",
                       reason_place_change="CARPL"))
    j.expect("first_visit", "social_worker", date(2026, 6, 5))  # a week after the move
    j.complete("first_visit", date(2026, 6, 3), **visit(visit_frequency="six_weekly"))
    j.expect("visit_six_weekly", "social_worker", date(2026, 7, 15))

    assert j.actuals("VISIT") == [date(2026, 1, 9), date(2026, 2, 18), date(2026, 3, 16),
                                  date(2026, 6, 1), date(2026, 6, 3)]
    assert [m.data["seen_alone"] for m in j.milestone_rows("VISIT")] == [True, False, True, True, True]
    placements = j.milestone_rows("PLACEMENT_START")
    assert [(p.actual_date, p.data.get("placement_type")) for p in placements] == [
        (LA, "U6"), (date(2026, 5, 29), "U4")]
    assert placements[1].data == {"placement_type": "U4", "placement_provider": "PR4",
                                  "placement_postcode": "LS2 1AA", "reason_place_change": "CARPL"}
    # The review side runs alongside the visits.
    assert {"initial_care_plan", "initial_pep", "initial_health_assessment",
            "first_review"} <= j.open_names()


def test_ceasing_at_a_visit_ends_visits_and_reviews(eng_db):
    """A child in care proceedings (no section 20: regulation 39's approval is not needed,
    see test_england_regulations for that path)."""
    j = EnglandJourney(eng_db).looked_after(LA, legal_status="s31")
    j.complete("first_visit", date(2026, 1, 8), **visit(visit_frequency="six_weekly"))
    j.complete("visit_six_weekly", date(2026, 2, 2),
               **visit(placement_status="ceased", ceased_date=date(2026, 2, 2), reason_ceased="E4A",
                       ceasing_under_s20="no"))
    j.expect_open("record_interim_order")  # the legal path is left to legal services
    episode = j.instances()[ENG_LOOKED_AFTER]
    assert (episode.status, episode.end_event) == ("completed", "ceased_at_visit")
    assert j.instances()[ENG_LEGAL_STATUS].status == "running"
    (ceased,) = j.milestone_rows("CEASED")
    assert (ceased.actual_date, ceased.data) == (date(2026, 2, 2), {"reason_ceased": "E4A"})
    cancelled = {e.data["task"] for e in j.events("task_cancelled")}
    assert {"initial_care_plan", "initial_pep", "initial_health_assessment", "first_review"} <= cancelled


def test_missed_visit_escalates_to_team_manager_then_service_manager(eng_db):
    j = EnglandJourney(eng_db).looked_after(LA)
    j.expect("first_visit", "social_worker", date(2026, 1, 12))
    j.sweep(date(2026, 1, 12))
    assert [e.data["level"] for e in j.events("escalated") if e.data["task"] == "first_visit"] == []
    j.sweep(date(2026, 1, 13))  # due + 1 day
    j.sweep(date(2026, 1, 17))  # due + 5 days
    levels = [(e.data["level"], e.data["to_role"]) for e in j.events("escalated")
              if e.data["task"] == "first_visit"]
    assert levels == [(1, "team_manager"), (2, "service_manager")]
    # The reminder went 5 days before (first visit: 2 days before the due date).
    reminders = [e for e in j.events("reminder_sent") if e.data["task"] == "first_visit"]
    assert len(reminders) == 1
