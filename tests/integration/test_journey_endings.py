"""Journeys that end early (tracker issue 29): each reason closes the child's journey with
its reason, leaves no open task or timer, nothing reminds or escalates afterwards, and the
refusals say why (SQLite and PostgreSQL, through the real runtime and the service the page,
the API and the CLI call)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import AuditEvent, Milestone, ProcessInstance, Subject, Timer, WorkItem
from workflows import accounts
from workflows.services import journey_endings

from .driver import Journey


def end(journey: Journey, username: str, reason: str, on: date, note: str = ""):
    with journey.db.transaction() as session:
        actor = accounts.find_user(session, username)
        return journey_endings.end_journey_early(session, journey.db.runtime, actor,
                                                 journey.child_id, reason, on, note)


def ended(journey: Journey):
    with journey.db.transaction() as session:
        return journey_endings.ended_journeys(session, session.get(Subject, journey.child_id))


def timers(journey: Journey) -> list[Timer]:
    with journey.db.transaction() as session:
        return list(session.scalars(select(Timer).join(
            ProcessInstance, ProcessInstance.id == Timer.instance_id).where(
            ProcessInstance.subject_id == journey.child_id)))


def events_after(journey: Journey, *types: str) -> list[AuditEvent]:
    with journey.db.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == journey.child_id, AuditEvent.event_type.in_(types))))


@pytest.mark.parametrize("reason", ["removed_by_parent", "turned_18", "moved_council"])
def test_each_early_ending_closes_the_journey_with_its_reason(database, at, reason):
    journey = Journey(database).accommodate(date(2026, 1, 5))
    journey.complete("planning_meeting", date(2026, 1, 7))
    assert journey.open_items()
    at(date(2026, 2, 20))
    done = end(journey, "tl.north", reason, date(2026, 2, 16), "Seen at home on 16 February.")
    assert done.cancelled_tasks == 1 and len(done.instances) == 1
    journey.expect_nothing_open()
    assert timers(journey) == []
    [instance] = journey.instances()
    assert instance.status == "ended_early" and instance.completed_at.date() == date(2026, 2, 16)
    [row] = ended(journey)
    assert (row.reason, row.ended_on, row.note) == (reason, date(2026, 2, 16),
                                                    "Seen at home on 16 February.")
    assert row.label and "_" not in row.label
    assert journey.milestones()["JOURNEY_ENDED"] == [(None, date(2026, 2, 16))]
    # nothing still planned for an ended journey
    assert all(actual for rows in journey.milestones().values() for _planned, actual in rows)
    [event] = journey.events("instance_ended_early")
    assert event.actor == "tl.north" and event.data["ending"] == reason
    assert [e.data["task"] for e in journey.events("task_cancelled")] == ["initial_lar"]
    # months later: the cancelled task neither reminds nor escalates
    journey.sweep(date(2026, 6, 1))
    journey.sweep(date(2026, 9, 1))
    assert events_after(journey, "reminder_sent", "escalated", "timer_fired") == []
    with database.transaction() as session:
        [item] = session.scalars(select(WorkItem).where(WorkItem.subject_id == journey.child_id,
                                                        WorkItem.task_name == "initial_lar"))
        assert item.status == "cancelled"


def test_a_cso_review_loop_ends_with_its_timer(database, at):
    """The CSO loop waits on a timer (the review's lead time): the ending drops it."""
    journey = Journey(database).place_on_cso(date(2025, 3, 3))
    assert timers(journey) or journey.open_items()
    at(date(2025, 6, 2))
    end(journey, "tl.north", "moved_council", date(2025, 6, 2))
    assert timers(journey) == [] and journey.open_items() == []
    journey.sweep(date(2027, 6, 1))
    assert events_after(journey, "timer_fired", "reminder_sent", "escalated") == []


def test_the_18th_birthday_ends_the_journey_on_that_day(database, at):
    journey = Journey(database, date_of_birth=date(2008, 3, 10)).accommodate(date(2026, 1, 5))
    with database.transaction() as session:
        assert journey_endings.end_at_eighteen(session, database.runtime, date(2026, 3, 9)) == []
    assert journey.open_items()
    at(date(2026, 3, 12))  # the worker was down on the day: the ending is still dated then
    with database.transaction() as session:
        [done] = journey_endings.end_at_eighteen(session, database.runtime)
        assert done.reason.code == "turned_18" and done.ended_on == date(2026, 3, 10)
    journey.expect_nothing_open()
    [row] = ended(journey)
    assert (row.reason, row.ended_on) == ("turned_18", date(2026, 3, 10))
    assert journey.events("instance_ended_early")[0].actor == "timer"
    with database.transaction() as session:  # the next day's check finds nothing to do
        assert journey_endings.end_at_eighteen(session, database.runtime) == []


def test_born_on_29_february_turns_18_on_1_march():
    assert journey_endings.eighteenth_birthday(date(2008, 2, 29)) == date(2026, 3, 1)
    assert journey_endings.eighteenth_birthday(date(2008, 2, 28)) == date(2026, 2, 28)


def test_refusals_say_why_and_change_nothing(database, at):
    journey = Journey(database).accommodate(date(2026, 1, 5))
    at(date(2026, 2, 20))
    with pytest.raises(InvalidData) as future:
        end(journey, "tl.north", "removed_by_parent", date(2026, 2, 21))
    assert [e.field for e in future.value.errors] == ["ended_on"]
    with pytest.raises(InvalidData) as before:
        end(journey, "tl.north", "removed_by_parent", date(2026, 1, 4))
    assert "5 January 2026" in before.value.errors[0].message
    with pytest.raises(InvalidData) as no_note:
        end(journey, "tl.north", "other", date(2026, 2, 20), "  ")
    assert [e.field for e in no_note.value.errors] == ["note"]
    with pytest.raises(InvalidData):
        end(journey, "tl.north", "no_such_reason", date(2026, 2, 20))
    with pytest.raises(Forbidden):
        end(journey, "sw.north", "removed_by_parent", date(2026, 2, 20))
    with pytest.raises(NotFound):
        end(journey, "tl.south", "removed_by_parent", date(2026, 2, 20))
    assert journey.instances()[0].status == "running" and journey.open_items()
    end(journey, "tl.north", "other", date(2026, 2, 20), "Placed with family abroad.")
    with pytest.raises(Conflict) as again:
        end(journey, "tl.north", "moved_council", date(2026, 2, 20))
    assert "already ended" in str(again.value)
    assert len(journey.events("instance_ended_early")) == 1
    with database.transaction() as session:
        [row] = session.scalars(select(Milestone).where(Milestone.subject_id == journey.child_id,
                                                        Milestone.code == "JOURNEY_ENDED"))
        assert row.data == {"ending": "other", "note": "Placed with family abroad."}


def test_aim_2_censors_an_early_ending_and_shows_its_reason(database, at):
    """Ended before its 30-week deadline: the child leaves Aim 2 (not overdue), listed with
    the reason; ended after a deadline already missed: the miss stands (overdue)."""
    from workflows.measures import early_endings, reports

    before = Journey(database, "C00001").accommodate(date(2025, 1, 6))  # deadline 4 Aug 2025
    after = Journey(database, "C00002").accommodate(date(2025, 1, 6))
    waiting = Journey(database, "C00003").accommodate(date(2025, 1, 6))
    at(date(2025, 3, 3))
    end(before, "tl.north", "removed_by_parent", date(2025, 3, 3))
    at(date(2025, 10, 1))
    end(after, "tl.north", "moved_council", date(2025, 9, 30))
    on = date(2025, 12, 1)
    with database.transaction() as session:
        result = reports.aim_results(session, "default", None, on, (2,), listed=True)[2]
        status = {e.instance_id: e.status for e in result.total.entries}
        table = early_endings.for_aim(session, result, None)
        rows = early_endings.csv_rows(table, publication=True)
    ids = {j: j.instances()[0].id for j in (before, after, waiting)}
    assert status[ids[before]] == "ended" and status[ids[waiting]] == "overdue"
    assert status[ids[after]] == "overdue"
    assert result.total.overdue == 2 and result.total.ended == 1
    shown = {e.child.reference: (e.reason, e.counted) for e in table.children}
    assert shown == {"C00001": ("removed_by_parent", "Ended before the deadline"),
                     "C00002": ("moved_council", "Overdue, not yet done")}
    assert sorted((code, n) for code, _label, n in table.reasons()) == [
        ("moved_council", 1), ("removed_by_parent", 1)]
    assert table.left_the_aim == 1
    # published: counts of 1 to 4 are withheld
    assert all(row[2] == "[c]" for row in rows[3:] if len(row) == 3)
    with database.transaction() as session:  # as at a day before the first ending: none yet
        result = reports.aim_results(session, "default", None, date(2025, 3, 2), (2,))[2]
        assert early_endings.for_aim(session, result, None).children == []


def test_an_english_early_ending_reaches_the_ssda903_return(eng_db, at):
    """England keeps the ending in the CEASED milestone with the SSDA903 reason, as a
    review's own "Ceased to be looked after" end does, so the return reads it."""
    from workflows.returns import ssda903
    from workflows.returns.ssda903_format import fmt

    from .england_journey import EnglandJourney

    journey = EnglandJourney(eng_db).looked_after(date(2026, 1, 5))
    at(date(2026, 3, 2))
    done = end(journey, "eng.tm.east", "moved_council", date(2026, 3, 2))
    assert len(done.instances) == len(journey.instances()) >= 2
    journey.expect_nothing_open()
    assert all(i.status == "ended_early" for i in journey.instances().values())
    with eng_db.transaction() as session:
        export = ssda903.collect(session, date(2025, 4, 1), date(2026, 3, 31))
    last = [e for e in export.episodes if e["CHILD"] == "E00001"][-1]
    assert (last["DEC"], last["REC"]) == (fmt(date(2026, 3, 2)), "E3")


def test_the_cli_ends_a_journey_early(cli_runner, database, at):
    journey = Journey(database, "CLI-END").accommodate(date(2026, 1, 5))
    at(date(2026, 2, 2))
    run = lambda *args: cli_runner.invoke(args=["children", "end-early", *args])  # noqa: E731
    refused = run("CLI-END", "--reason", "other", "--ended-on", "2026-02-02", "--by", "tl.north")
    assert refused.exit_code == 1 and "--note" in refused.output
    social_worker = run("CLI-END", "--reason", "died", "--ended-on", "2026-02-02",
                        "--by", "sw.north")
    assert social_worker.exit_code == 2 and "may not" in social_worker.output
    done = run("CLI-END", "--reason", "removed_by_parent", "--ended-on", "2026-02-02",
               "--by", "tl.north")
    assert done.exit_code == 0, done.output
    assert "Ended CLI-END's journey on 2 February 2026" in done.output
    journey.expect_nothing_open()
    again = run("CLI-END", "--reason", "died", "--ended-on", "2026-02-02", "--by", "tl.north")
    assert again.exit_code == 1 and "already ended" in again.output


def test_the_allocated_worker_is_told(database, at):
    from engine.models import Notification

    with database.transaction() as session:
        from workflows.demo import scotland as demo
        demo.ensure_users(session, actor="test")
        worker = accounts.find_user(session, "sw.north").id
    journey = Journey(database, "C00009", allocated_worker_id=worker).accommodate(date(2026, 1, 5))
    at(date(2026, 1, 20))
    end(journey, "tl.north", "moved_council", date(2026, 1, 19))
    with database.transaction() as session:
        [notice] = session.scalars(select(Notification).where(Notification.user_id == worker,
                                                              Notification.kind == "ended_early"))
        assert notice.title == "Journey ended early for child C00009"
        assert "Reason: The child moved to another local authority" in notice.body
