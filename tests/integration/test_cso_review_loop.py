"""The CSO-at-home review loop (Aim 1): alert timer, review, hearing outcomes, hand-off."""
from datetime import date

from .driver import Journey

CSO = date(2025, 1, 10)  # review due at 18 months: 2026-07-10; alert 6 weeks before


def to_hearing(database) -> Journey:
    j = Journey(database).place_on_cso(CSO)
    j.expect_nothing_open()
    assert j.sweep(date(2026, 5, 28)).timers_fired == 0
    assert j.sweep(date(2026, 5, 29)).timers_fired == 1
    j.expect("schedule_aim1_review", "team_leader", date(2026, 6, 12))
    j.complete("schedule_aim1_review", date(2026, 6, 1), review_date=date(2026, 7, 8))
    j.expect("hold_aim1_review", "independent_chair", date(2026, 7, 8))
    j.complete("hold_aim1_review", date(2026, 7, 8), date_held=date(2026, 7, 8), recommendation="terminate")
    # A recommendation to end the order needs a hearing: the Reporter is told first.
    j.expect("notify_reporter", "social_worker", date(2026, 7, 15))  # AIM1_REVIEW + 5 working days
    j.complete("notify_reporter", date(2026, 7, 10), reporter_notified_date=date(2026, 7, 10))
    j.expect("record_hearing_decision", "social_worker", date(2026, 8, 19))
    return j


def test_terminated_cso_ends_the_loop(database):
    j = to_hearing(database)
    j.complete("record_hearing_decision", date(2026, 8, 10), hearing_decision="terminated",
               date_held=date(2026, 8, 10))
    j.expect_nothing_open()
    (instance,) = j.instances()
    assert (instance.status, instance.end_event) == ("completed", "cso_terminated")
    ms = j.milestones()
    assert ms["AIM1_REVIEW"] == [(date(2026, 7, 8), date(2026, 7, 8))]
    assert ms["CSO_HEARING"] == [(date(2026, 8, 19), date(2026, 8, 10))]


def test_continued_cso_is_reviewed_again_six_months_later(database):
    j = to_hearing(database)
    j.complete("record_hearing_decision", date(2026, 8, 10), hearing_decision="continued")
    j.expect_nothing_open()
    # next review due AIM1_REVIEW + 6m = 2027-01-08; alert 6 weeks before = 2026-11-27
    assert j.sweep(date(2026, 11, 26)).timers_fired == 0
    assert j.sweep(date(2026, 11, 27)).timers_fired == 1
    j.expect("schedule_aim1_review", "team_leader", date(2026, 12, 11))
    j.complete("schedule_aim1_review", date(2026, 12, 1), review_date=date(2027, 1, 6))
    j.expect("hold_aim1_review", "independent_chair", date(2027, 1, 6))


def test_away_from_home_starts_a_permanence_journey_for_the_same_child(database):
    j = to_hearing(database)
    # Recorded once the child is accommodated, two days after the hearing.
    j.complete("record_hearing_decision", date(2026, 8, 12), hearing_decision="away_from_home",
               date_held=date(2026, 8, 10), accommodated_date=date(2026, 8, 12))
    cso, journey = j.instances()
    assert (cso.status, cso.end_event) == ("completed", "permanence_away")
    assert (journey.process_id, journey.status, journey.parent_instance_id) == \
        ("permanence_journey", "running", cso.id)
    j.expect("planning_meeting", "team_leader", date(2026, 8, 15))
    assert j.milestones()["LA_START"] == [(None, date(2026, 8, 12))]


def test_timer_missed_while_no_worker_ran_fires_once_on_restart(database):
    j = Journey(database).place_on_cso(CSO)
    report = j.sweep(date(2026, 9, 1))  # three months after the alert date
    assert report.timers_fired == 1
    assert j.sweep(date(2026, 9, 2)).timers_fired == 0
    item = j.expect("schedule_aim1_review", "team_leader", date(2026, 6, 12))
    assert item.due_date < date(2026, 9, 1)  # immediately visible as overdue


def test_the_reporter_is_notified_before_a_hearing_decision_falls_due(database):
    j = to_hearing(database)
    assert j.milestones()["REPORTER_NOTIFIED"] == [(date(2026, 7, 15), date(2026, 7, 10))]
    (answers,) = [e.data["answers"] for e in j.events("task_completed")
                  if e.data.get("task") == "notify_reporter"]
    assert answers["action_minute_sent"] == "yes"  # the action minute went to the Reporter


def test_a_recommendation_to_continue_needs_no_hearing(database):
    j = Journey(database).place_on_cso(CSO)
    j.sweep(date(2026, 5, 29))
    j.complete("schedule_aim1_review", date(2026, 6, 1), review_date=date(2026, 7, 8))
    j.complete("hold_aim1_review", date(2026, 7, 8), date_held=date(2026, 7, 8),
               recommendation="continue")
    j.expect_nothing_open()  # no Reporter notice, no hearing decision to fall overdue
    assert "CSO_HEARING" not in j.milestones()
    # straight back to the loop: the next review is due AIM1_REVIEW + 6m = 2027-01-08
    assert j.sweep(date(2026, 11, 26)).timers_fired == 0
    assert j.sweep(date(2026, 11, 27)).timers_fired == 1
    j.expect("schedule_aim1_review", "team_leader", date(2026, 12, 11))


def test_a_deferred_hearing_decision_waits_for_the_later_hearing(database):
    j = to_hearing(database)
    j.complete("record_hearing_decision", date(2026, 8, 10), hearing_decision="deferred",
               date_held=date(2026, 8, 10), next_hearing_date=date(2026, 9, 21))
    j.expect("record_hearing_decision", "social_worker", date(2026, 9, 21))  # s138: deferred
    j.complete("record_hearing_decision", date(2026, 9, 21), hearing_decision="deferred",
               date_held=date(2026, 9, 21), next_hearing_date=date(2026, 10, 12))
    j.expect("record_hearing_decision", "social_worker", date(2026, 10, 12))
    j.complete("record_hearing_decision", date(2026, 10, 12), hearing_decision="terminated",
               date_held=date(2026, 10, 12))
    j.expect_nothing_open()
    (instance,) = j.instances()
    assert (instance.status, instance.end_event) == ("completed", "cso_terminated")
    assert j.milestones()["CSO_HEARING"] == [
        (date(2026, 8, 19), date(2026, 8, 10)), (date(2026, 9, 21), date(2026, 9, 21)),
        (date(2026, 10, 12), date(2026, 10, 12))]

