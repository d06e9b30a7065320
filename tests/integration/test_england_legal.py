"""English profile: legal status at entry (section 20 or section 31; police protection, EPO and
remand in test_england_regulations) and the public law
outline's 26-week timetable for care proceedings, through the real runtime on both databases.
"""
from datetime import date

import pytest

from workflows.profiles import ENG_CARE_PROCEEDINGS, ENG_LEGAL_STATUS

from .england_journey import EnglandJourney

LA = date(2026, 1, 5)


def test_section20_without_legal_planning(eng_db):
    j = EnglandJourney(eng_db).looked_after(LA)
    j.expect("s20_agreement", "social_worker", date(2026, 1, 7))
    j.complete("s20_agreement", date(2026, 1, 6), legal_planning_needed="no")
    # Section 20 goes on: the path waits for the review of a long section 20
    # (test_england_regulations), with no task open meanwhile.
    assert j.instances()[ENG_LEGAL_STATUS].status == "running"
    assert "s20_legal_review" not in j.open_names()
    assert j.actuals("S20_AGREEMENT") == [date(2026, 1, 6)]
    assert ENG_CARE_PROCEEDINGS not in j.instances()


@pytest.mark.parametrize("decision", ["remain_s20", "pre_proceedings_diverted"])
def test_section20_legal_planning_without_proceedings(eng_db, decision):
    j = EnglandJourney(eng_db).looked_after(LA)
    j.complete("s20_agreement", date(2026, 1, 6), legal_planning_needed="yes")
    j.expect("legal_planning_meeting", "legal", date(2026, 1, 20))  # 10 working days
    if decision == "remain_s20":
        j.complete("legal_planning_meeting", date(2026, 1, 19), decision="remain_s20")
    else:
        j.complete("legal_planning_meeting", date(2026, 1, 19), decision="pre_proceedings")
        j.expect("pre_proceedings", "legal", date(2026, 5, 11))  # pre-proceedings within 16 weeks
        j.complete("pre_proceedings", date(2026, 5, 1), outcome="diverted")
        assert [m.data for m in j.milestone_rows("PRE_PROCEEDINGS")] == [{"outcome": "diverted"}]
    assert j.instances()[ENG_LEGAL_STATUS].status == "running"  # section 20 goes on
    assert ENG_CARE_PROCEEDINGS not in j.instances()


@pytest.mark.parametrize("route", ["issue_at_planning", "issue_after_pre_proceedings"])
def test_section20_then_care_proceedings_interim_and_care_order(eng_db, route):
    j = EnglandJourney(eng_db).looked_after(LA)
    j.complete("s20_agreement", date(2026, 1, 6), legal_planning_needed="yes")
    issued = date(2026, 1, 19) if route == "issue_at_planning" else date(2026, 3, 2)
    if route == "issue_at_planning":
        j.complete("legal_planning_meeting", date(2026, 1, 19), decision="issue_proceedings",
                   issue_date=issued)
    else:
        j.complete("legal_planning_meeting", date(2026, 1, 19), decision="pre_proceedings")
        j.complete("pre_proceedings", issued, outcome="issue_proceedings", issue_date=issued)
    assert j.instances()[ENG_LEGAL_STATUS].end_event == "care_proceedings"
    assert j.instances()[ENG_CARE_PROCEEDINGS].status == "running"
    assert j.actuals("PROCEEDINGS_ISSUED") == [issued]
    walk_care_proceedings(j, issued)


def walk_care_proceedings(j, issued):
    from datetime import timedelta as td
    j.expect("case_management_hearing", "legal", issued + td(days=12))  # by day 12
    j.complete("case_management_hearing", issued + td(days=10), order_made="interim_care_order")
    j.expect("final_evidence", "social_worker", issued + td(weeks=16))
    j.complete("final_evidence", issued + td(weeks=15))
    j.expect("issues_resolution_hearing", "legal", issued + td(weeks=20))
    j.complete("issues_resolution_hearing", issued + td(weeks=19), outcome="final_order_made",
               order_made="care_order")
    proceedings = j.instances()[ENG_CARE_PROCEEDINGS]
    assert (proceedings.status, proceedings.end_event) == ("completed", "proceedings_concluded")
    assert [(m.actual_date, m.data["order_made"]) for m in j.milestone_rows("LEGAL_STATUS")] == [
        (issued + td(days=10), "interim_care_order"), (issued + td(weeks=19), "care_order")]
    assert [m.data for m in j.milestone_rows("FINAL_ORDER")] == [{"order_made": "care_order"}]


def test_section31_interim_order_over_easter_then_extended_final_hearing(eng_db):
    entered = date(2026, 4, 2)  # Thursday before Easter
    j = EnglandJourney(eng_db).looked_after(entered, legal_status="s31")
    # 2 working days: Good Friday and Easter Monday skipped (Scotland: 7 April).
    j.expect("record_interim_order", "legal", date(2026, 4, 8))
    issued = date(2026, 3, 30)
    j.complete("record_interim_order", date(2026, 4, 7), issue_date=issued, order_date=entered)
    assert j.instances()[ENG_LEGAL_STATUS].end_event == "care_proceedings"
    j.expect("case_management_hearing", "legal", date(2026, 4, 11))
    j.complete("case_management_hearing", date(2026, 4, 10), order_made="interim_care_order")
    j.complete("final_evidence", date(2026, 7, 17))
    j.complete("issues_resolution_hearing", date(2026, 8, 14), outcome="final_hearing_needed",
               issues="Special guardianship assessment outstanding")
    j.expect("final_hearing", "legal", date(2026, 9, 28))  # 26 weeks from issue
    j.complete("final_hearing", date(2026, 9, 25), outcome="timetable_extended",
               extended_to=date(2026, 11, 20), extension_reason="Assessment of the grandparents")
    j.expect("final_hearing", "legal", date(2026, 11, 20))  # the court's extended date
    assert j.actuals("TIMETABLE_EXTENDED") == [date(2026, 11, 20)]
    j.complete("final_hearing", date(2026, 11, 18), outcome="final_order_made",
               order_made="special_guardianship_order")
    assert j.instances()[ENG_CARE_PROCEEDINGS].end_event == "proceedings_concluded"
    assert [m.data for m in j.milestone_rows("FINAL_ORDER")] == [
        {"order_made": "special_guardianship_order"}]
    # A special guardianship order ends care; it changes no looked-after legal status.
    assert [m.data["order_made"] for m in j.milestone_rows("LEGAL_STATUS")] == ["interim_care_order"]
    assert "first_visit" in j.open_names()  # the social worker records leaving care at the visit
