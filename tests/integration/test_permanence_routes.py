"""Version 2 of the Scottish permanence journey (docs/journey-changes.md), on both databases:
the Children's Reporter and the Hearing's advice before a permanence order application for a
child on a compulsory supervision order, six-monthly looked-after reviews until permanence,
a deferred panel returning to panel, adoption through family finding, matching, placement
and the adopters' petition, and the kinship carer assessment before the carer's application.
"""
from datetime import date

from sqlalchemy import select

from engine import clock
from engine.models import ProcessInstance, Timer

from .test_permanence_journey import to_substantive_lar


def expect(j, task_name: str, role: str, due: date | None = None):
    """``task_name`` open in ``role``'s queue, due on ``due``, beside any six-monthly review
    (its alert fires when a completion passes its date)."""
    items = [i for i in j.open_items() if i.task_name != "six_monthly_review"]
    assert [i.task_name for i in items] == [task_name]
    assert items[0].role == role
    if due is not None:
        assert items[0].due_date == due
    return items[0]


def to_adm(j, route: str, legal_basis: str):
    """Substantive review 3 August 2026 recommending ``route``, through the panel to the ADM."""
    j.complete("substantive_lar", date(2026, 8, 3), route=route, date_held=date(2026, 8, 3),
               legal_basis=legal_basis)
    j.complete("capr", date(2026, 9, 20), submitted_date=date(2026, 9, 20),
               plan_in_report="permanence_order" if route == "permanence_order"
               else "permanence_order_with_authority_to_adopt")
    j.complete("panel", date(2026, 10, 20), date_held=date(2026, 10, 20),
               panel_recommendation="agrees")
    j.complete("adm_decision", date(2026, 11, 1), adm_decision="ratified",
               decision_date=date(2026, 11, 1), legal_basis=legal_basis)
    return j


def test_reporter_notified_and_hearing_advice_before_the_application(database):
    j = to_adm(to_substantive_lar(database), "permanence_order", "cso")
    j.expect("notify_reporter", "social_worker", date(2026, 11, 8))
    j.complete("notify_reporter", date(2026, 11, 4), date_notified=date(2026, 11, 4))
    j.expect("hearing_advice", "social_worker", date(2026, 12, 2))
    j.complete("hearing_advice", date(2026, 11, 25), hearing_date=date(2026, 11, 25),
               hearing_advice="supports")
    # Lodged two weeks after the Hearing's advice, not six weeks after the ADM.
    j.expect("lodge_application", "legal_services", date(2026, 12, 9))
    ms = j.milestones()
    assert [a for _, a in ms["PERM_REPORTER_NOTIFIED"]] == [date(2026, 11, 4)]
    assert [a for _, a in ms["HEARING_ADVICE"]] == [date(2026, 11, 25)]
    j.complete("lodge_application", date(2026, 12, 8), lodged_date=date(2026, 12, 8),
               application_type="permanence_order")
    j.complete("court_order", date(2027, 5, 1), court_outcome="granted",
               decision_date=date(2027, 5, 1))
    j.expect_nothing_open()
    assert j.instances()[0].end_event == "order_granted"


def test_voluntary_child_goes_straight_to_the_application(database):
    j = to_adm(to_substantive_lar(database), "permanence_order", "voluntary")
    j.expect("lodge_application", "legal_services", date(2026, 12, 13))
    assert "PERM_REPORTER_NOTIFIED" not in j.milestones()


def test_return_home_on_a_cso_seeks_variation_first(database):
    j = to_substantive_lar(database)
    j.complete("substantive_lar", date(2026, 8, 3), route="home", date_held=date(2026, 8, 3),
               legal_basis="interim_cso")
    j.expect("seek_cso_variation", "social_worker", date(2026, 8, 31))
    j.complete("seek_cso_variation", date(2026, 8, 20), requested_date=date(2026, 8, 5),
               hearing_date=date(2026, 8, 20), variation_outcome="not_varied",
               next_review_date=date(2026, 10, 1))
    j.expect("substantive_lar", "independent_chair", date(2026, 10, 1))
    j.complete("substantive_lar", date(2026, 10, 1), route="home", date_held=date(2026, 10, 1),
               legal_basis="cso")
    j.complete("seek_cso_variation", date(2026, 10, 20), requested_date=date(2026, 10, 2),
               hearing_date=date(2026, 10, 20), variation_outcome="varied")
    j.expect("return_home_plan", "social_worker")
    assert [a for _, a in j.milestones()["CSO_VARIATION"]] == [date(2026, 10, 20)]


def test_deferred_panel_returns_to_panel_not_to_the_adm(database):
    j = to_substantive_lar(database)
    j.complete("substantive_lar", date(2026, 8, 3), route="permanence_order",
               date_held=date(2026, 8, 3))
    j.complete("capr", date(2026, 9, 20), submitted_date=date(2026, 9, 20))
    j.complete("panel", date(2026, 10, 20), date_held=date(2026, 10, 20),
               panel_recommendation="deferred", reconvene_date=date(2026, 11, 17))
    j.expect("panel", "panel_adviser", date(2026, 11, 17))
    assert "PANEL" not in j.milestones() or not any(a for _, a in j.milestones()["PANEL"])
    j.complete("panel", date(2026, 11, 17), date_held=date(2026, 11, 17),
               panel_recommendation="agrees")
    j.expect("adm_decision", "adm", date(2026, 12, 1))
    assert [a for _, a in j.milestones()["PANEL"]] == [date(2026, 11, 17)]


def test_adoption_family_finding_matching_placement_and_adopters_petition(database):
    j = to_adm(to_substantive_lar(database), "adoption", "voluntary")
    j.complete("lodge_application", date(2026, 12, 10), lodged_date=date(2026, 12, 10),
               application_type="permanence_order_with_authority_to_adopt")
    j.complete("court_order", date(2027, 5, 3), court_outcome="granted",
               decision_date=date(2027, 5, 3))
    # The permanence order with authority to adopt is granted: the journey goes on.
    expect(j, "family_finding", "social_worker", date(2027, 7, 26))
    j.complete("family_finding", date(2027, 7, 1), family_identified_date=date(2027, 7, 1))
    expect(j, "matching_panel", "panel_adviser", date(2027, 8, 26))
    j.complete("matching_panel", date(2027, 8, 2), date_held=date(2027, 8, 2),
               match_recommendation="deferred", match_reconvene_date=date(2027, 8, 30))
    expect(j, "matching_panel", "panel_adviser", date(2027, 8, 30))
    j.complete("matching_panel", date(2027, 8, 30), date_held=date(2027, 8, 30),
               match_recommendation="recommends")
    expect(j, "match_adm", "adm", date(2027, 9, 13))
    j.complete("match_adm", date(2027, 9, 6), decision_date=date(2027, 9, 6),
               match_decision="approved")
    expect(j, "adoptive_placement", "social_worker", date(2027, 10, 4))
    j.complete("adoptive_placement", date(2027, 9, 27), placement_date=date(2027, 9, 27))
    expect(j, "adopters_petition", "social_worker", date(2027, 12, 27))
    j.complete("adopters_petition", date(2028, 1, 10), lodged_date=date(2028, 1, 10))
    expect(j, "adoption_order", "legal_services", date(2028, 7, 10))
    j.complete("adoption_order", date(2028, 5, 2), decision_date=date(2028, 5, 2),
               adoption_outcome="granted")
    ms = j.milestones()
    for code, day in (("ORDER_GRANTED", date(2027, 5, 3)), ("FAMILY_FOUND", date(2027, 7, 1)),
                      ("MATCH_PANEL", date(2027, 8, 30)), ("MATCH_ADM", date(2027, 9, 6)),
                      ("ADOPTIVE_PLACEMENT", date(2027, 9, 27)),
                      ("ADOPTION_PETITION", date(2028, 1, 10)), ("ADOPTION_ORDER", date(2028, 5, 2))):
        assert [a for _, a in ms[code] if a] == [day], code
    (instance,) = j.instances()
    assert (instance.status, instance.end_event) == ("completed", "adopted")


def test_match_not_approved_goes_back_to_family_finding(database):
    j = to_adm(to_substantive_lar(database), "adoption", "voluntary")
    j.complete("lodge_application", date(2026, 12, 10), lodged_date=date(2026, 12, 10),
               application_type="permanence_order_with_authority_to_adopt")
    j.complete("court_order", date(2027, 5, 3), court_outcome="granted", decision_date=date(2027, 5, 3))
    j.complete("family_finding", date(2027, 7, 1), family_identified_date=date(2027, 7, 1))
    j.complete("matching_panel", date(2027, 8, 2), date_held=date(2027, 8, 2),
               match_recommendation="recommends")
    j.complete("match_adm", date(2027, 8, 9), decision_date=date(2027, 8, 9),
               match_decision="not_approved")
    expect(j, "family_finding", "social_worker")


def test_kinship_carer_assessment_before_the_carers_application(database):
    j = to_substantive_lar(database)
    j.complete("substantive_lar", date(2026, 8, 3), route="kinship", date_held=date(2026, 8, 3))
    j.expect("kinship_assessment", "social_worker", date(2026, 9, 14))
    j.complete("kinship_assessment", date(2026, 9, 10), completed_date=date(2026, 9, 10),
               kinship_assessment_outcome="not_suitable", next_review_date=date(2026, 10, 12))
    j.expect("substantive_lar", "independent_chair", date(2026, 10, 12))
    j.complete("substantive_lar", date(2026, 10, 12), route="kinship", date_held=date(2026, 10, 12))
    j.complete("kinship_assessment", date(2026, 11, 2), completed_date=date(2026, 11, 2),
               kinship_assessment_outcome="suitable")
    # The carer's application, due six weeks after the assessment.
    item = j.expect("kinship_application", "social_worker", date(2026, 12, 14))
    assert item.title == "Record the kinship carer's application for a kinship care order"
    j.complete("kinship_application", date(2026, 12, 1), lodged_date=date(2026, 12, 1))
    j.complete("kinship_order", date(2027, 3, 1), kinship_order_outcome="granted",
               decision_date=date(2027, 3, 1))
    j.expect_nothing_open()
    assert j.instances()[0].end_event == "kinship_order_granted"


def _timers(j):
    with j.db.transaction() as session:
        return [(t.name, clock.aware(t.fire_at).date()) for t in session.scalars(
            select(Timer).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(ProcessInstance.subject_id == j.child_id))]


def test_six_monthly_reviews_continue_until_permanence(database):
    j = to_substantive_lar(database)
    # After the legal advice the review branch waits: 4 weeks before 6 months after the
    # substantive review's planned date (3 August 2026).
    assert [d for _, d in _timers(j)] == [date(2027, 1, 6)]
    j.complete("substantive_lar", date(2026, 8, 3), route="permanence_order",
               date_held=date(2026, 8, 3))
    j.complete("capr", date(2026, 9, 20), submitted_date=date(2026, 9, 20))
    j.complete("panel", date(2026, 10, 20), date_held=date(2026, 10, 20),
               panel_recommendation="agrees")
    j.complete("adm_decision", date(2026, 11, 1), adm_decision="ratified",
               decision_date=date(2026, 11, 1))
    j.complete("lodge_application", date(2026, 12, 10), lodged_date=date(2026, 12, 10))
    j.sweep(date(2027, 1, 6))
    names = sorted(i.task_name for i in j.open_items())
    assert names == ["court_order", "six_monthly_review"]
    review = j.open_item("six_monthly_review")
    assert (review.role, review.due_date) == ("independent_chair", date(2027, 2, 3))
    j.complete("six_monthly_review", date(2027, 2, 1), date_held=date(2027, 2, 1))
    # The next one: 6 months after this review, its alert 4 weeks before.
    assert [d for _, d in _timers(j)] == [date(2027, 7, 4)]
    j.sweep(date(2027, 7, 4))
    assert j.open_item("six_monthly_review").due_date == date(2027, 8, 1)
    j.complete("six_monthly_review", date(2027, 7, 28), date_held=date(2027, 7, 28))
    assert [a for _, a in j.milestones()["LAC_REVIEW"] if a] == [date(2027, 2, 1), date(2027, 7, 28)]
    # Permanence achieved: the journey ends and the review branch with it.
    j.complete("court_order", date(2027, 8, 2), court_outcome="granted",
               decision_date=date(2027, 8, 2))
    j.expect_nothing_open()
    assert _timers(j) == []
    (instance,) = j.instances()
    assert (instance.status, instance.end_event) == ("completed", "order_granted")
