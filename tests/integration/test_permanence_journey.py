"""Every branch of the permanence journey, through the real runtime, on both databases.

At each step: which role's queue the task lands in, and its due date (DOMAIN.md timescales).
"""
from datetime import date

from .driver import Journey

LA = date(2026, 1, 5)


def to_substantive_lar(database, booked: date | None = None) -> Journey:
    j = Journey(database).accommodate(LA)
    j.expect("planning_meeting", "team_leader", date(2026, 1, 8))
    j.complete("planning_meeting", date(2026, 1, 7))
    j.expect("initial_lar", "independent_chair", date(2026, 1, 26))
    j.complete("initial_lar", date(2026, 1, 26))
    j.expect("interim_lar", "independent_chair", date(2026, 4, 5))
    j.complete("interim_lar", date(2026, 4, 2), **({"substantive_lar_date": booked} if booked else {}))
    if booked is None:
        j.expect("legal_referral", "social_worker", date(2026, 7, 20))
        j.complete("legal_referral", date(2026, 7, 15))
        j.expect("legal_opinion", "legal_services", date(2026, 8, 2))
        j.complete("legal_opinion", date(2026, 7, 30))
        j.expect("substantive_lar", "independent_chair", date(2026, 8, 3))
    return j


def test_issue_example_dates_and_adoption_to_the_council_order(database):
    j = to_substantive_lar(database)
    j.complete("substantive_lar", date(2026, 8, 3), route="adoption", date_held=date(2026, 8, 3))
    j.expect("capr", "social_worker", date(2026, 9, 28))
    j.complete("capr", date(2026, 9, 20))
    j.expect("panel", "panel_adviser", date(2026, 10, 26))
    j.complete("panel", date(2026, 10, 20), panel_recommendation="agrees")
    j.expect("adm_decision", "adm", date(2026, 11, 3))
    j.complete("adm_decision", date(2026, 11, 1), adm_decision="ratified")
    j.expect("lodge_application", "legal_services", date(2026, 12, 13))
    j.complete("lodge_application", date(2026, 12, 10))
    j.expect("court_order", "legal_services", date(2027, 6, 10))
    j.complete("court_order", date(2027, 5, 1), court_outcome="granted")
    # The permanence order with authority to adopt is the council's; the adopters' petition
    # follows family finding and matching (test_permanence_routes.py).
    assert "family_finding" in [i.task_name for i in j.open_items()]
    (instance,) = j.instances()
    assert instance.status == "running"
    ms = j.milestones()
    assert ms["LA_START"] == [(None, LA)]
    assert ms["PLANNING_MTG"] == [(date(2026, 1, 8), date(2026, 1, 7))]
    assert ms["PERM_RECOMMENDATION"] == [(date(2026, 8, 3), date(2026, 8, 3))]
    assert ms["ADM"] == [(date(2026, 11, 3), date(2026, 11, 1))]
    assert ms["ORDER_GRANTED"] == [(date(2027, 6, 10), date(2027, 5, 1))]


def test_booked_substantive_lar_moves_legal_referral(database):
    j = to_substantive_lar(database, booked=date(2026, 7, 27))
    j.expect("legal_referral", "social_worker", date(2026, 7, 13))
    j.complete("legal_referral", date(2026, 7, 10))
    j.expect("legal_opinion", "legal_services", date(2026, 7, 26))
    j.complete("legal_opinion", date(2026, 7, 24))
    j.expect("substantive_lar", "independent_chair", date(2026, 7, 27))


def test_not_yet_decided_loops_with_new_review_date(database):
    j = to_substantive_lar(database)
    j.complete("substantive_lar", date(2026, 8, 3), route="not_decided",
               next_review_date=date(2026, 10, 5))
    j.expect("substantive_lar", "independent_chair", date(2026, 10, 5))
    assert "PERM_RECOMMENDATION" not in {k for k, v in j.milestones().items() if any(a for _, a in v)}
    j.complete("substantive_lar", date(2026, 10, 5), route="home", date_held=date(2026, 10, 5))
    j.expect("return_home_plan", "social_worker", date(2026, 11, 2))
    assert [a for _, a in j.milestones()["PERM_RECOMMENDATION"]] == [date(2026, 10, 5)]


def test_return_home_sustained_and_returned_to_care(database):
    j = to_substantive_lar(database)
    j.complete("substantive_lar", date(2026, 8, 3), route="home", date_held=date(2026, 8, 3))
    # Recorded once the child is home (a recorded date may not lie in the future).
    j.complete("return_home_plan", date(2026, 8, 24), return_date=date(2026, 8, 24))
    j.expect("return_home_review", "independent_chair", date(2026, 11, 24))
    j.complete("return_home_review", date(2026, 11, 20), return_home_outcome="returned_to_care",
               next_review_date=date(2027, 1, 11))
    j.expect("substantive_lar", "independent_chair", date(2027, 1, 11))
    j.complete("substantive_lar", date(2027, 1, 11), route="home", date_held=date(2027, 1, 11))
    j.complete("return_home_plan", date(2027, 1, 25), return_date=date(2027, 1, 25))
    j.complete("return_home_review", date(2027, 4, 25), return_home_outcome="sustained",
               date_held=date(2027, 4, 25))
    j.expect_nothing_open()
    assert j.instances()[0].end_event == "permanence_at_home"
    assert [a for _, a in j.milestones()["RETURN_HOME"]] == [date(2026, 8, 24), date(2027, 1, 25)]
    assert [a for _, a in j.milestones()["ORDER_GRANTED"]] == [date(2027, 4, 25)]


def test_kinship_granted_and_refused(database):
    j = to_substantive_lar(database)
    j.complete("substantive_lar", date(2026, 8, 3), route="kinship", date_held=date(2026, 8, 3))
    j.expect("kinship_assessment", "social_worker", date(2026, 9, 14))
    j.complete("kinship_assessment", date(2026, 8, 25), completed_date=date(2026, 8, 25),
               kinship_assessment_outcome="suitable")
    j.expect("kinship_application", "social_worker", date(2026, 10, 6))
    j.complete("kinship_application", date(2026, 9, 1), lodged_date=date(2026, 9, 1))
    j.expect("kinship_order", "legal_services", date(2026, 12, 22))
    j.complete("kinship_order", date(2026, 12, 1), kinship_order_outcome="refused",
               next_review_date=date(2027, 1, 15))
    j.expect("substantive_lar", "independent_chair", date(2027, 1, 15))
    j.complete("substantive_lar", date(2027, 1, 15), route="kinship", date_held=date(2027, 1, 15))
    j.complete("kinship_assessment", date(2027, 1, 25), completed_date=date(2027, 1, 25),
               kinship_assessment_outcome="suitable")
    j.complete("kinship_application", date(2027, 2, 1), lodged_date=date(2027, 2, 1))
    j.complete("kinship_order", date(2027, 4, 1), kinship_order_outcome="granted",
               decision_date=date(2027, 4, 1))
    j.expect_nothing_open()
    assert j.instances()[0].end_event == "kinship_order_granted"


def test_permanence_order_not_ratified_then_court_refused_loop_back(database):
    j = to_substantive_lar(database)
    j.complete("substantive_lar", date(2026, 8, 3), route="permanence_order", date_held=date(2026, 8, 3))
    j.complete("capr", date(2026, 9, 20))
    j.complete("panel", date(2026, 10, 20), panel_recommendation="does_not_agree",
               date_held=date(2026, 10, 20))
    j.expect("adm_decision", "adm", date(2026, 11, 3))
    j.complete("adm_decision", date(2026, 11, 2), adm_decision="not_ratified",
               next_review_date=date(2026, 12, 7))
    j.expect("substantive_lar", "independent_chair", date(2026, 12, 7))
    assert "ADM" not in {k for k, v in j.milestones().items() if any(a for _, a in v)}
    j.complete("substantive_lar", date(2026, 12, 7), route="permanence_order", date_held=date(2026, 12, 7))
    j.expect("capr", "social_worker", date(2027, 2, 1))
    j.complete("capr", date(2027, 1, 20))
    j.complete("panel", date(2027, 2, 20), date_held=date(2027, 2, 20), panel_recommendation="agrees")
    j.complete("adm_decision", date(2027, 3, 1), adm_decision="ratified", decision_date=date(2027, 3, 1))
    j.complete("lodge_application", date(2027, 3, 20), lodged_date=date(2027, 3, 20))
    j.complete("court_order", date(2027, 8, 1), court_outcome="refused", next_review_date=date(2027, 9, 1))
    # beside the six-monthly review, whose alert fired as the year went by
    review = [i for i in j.open_items() if i.task_name == "substantive_lar"]
    assert [(i.role, i.due_date) for i in review] == [("independent_chair", date(2027, 9, 1))]
    assert j.instances()[0].status == "running"
