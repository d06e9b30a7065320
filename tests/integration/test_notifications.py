"""In-app notifications: derived from audit events, in the same transaction, to the right people."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

from engine import audit, clock, migration, notifications, work_items
from engine.models import Notification, ProcessInstance, Subject, UserAccount
from workflows import accounts
from workflows.demo import scotland as demo

from .driver import Journey
from .diagram_variants import deploy_variant


def notes(db, username: str | None = None) -> list[tuple[str, str, str]]:
    """(recipient, kind, title) in creation order."""
    with db.transaction() as session:
        query = select(UserAccount.username, Notification.kind, Notification.title) \
            .join(UserAccount, UserAccount.id == Notification.user_id).order_by(Notification.id)
        if username:
            query = query.where(UserAccount.username == username)
        return [tuple(row) for row in session.execute(query)]


def user(db, username: str) -> UserAccount:
    with db.transaction() as session:
        return accounts.find_user(session, username)


def test_aim1_review_alert_reaches_the_childs_team_leader_at_the_lead_time(database):
    j = Journey(database).place_on_cso(date(2024, 1, 10))
    j.sweep(date(2025, 5, 28))
    assert notes(database) == []
    j.sweep(date(2025, 5, 29))  # CSO_START + 18 months − 6 weeks
    item = j.expect("schedule_aim1_review", "team_leader", date(2025, 6, 12))
    assert notes(database) == [("tl.north", "alert", "Alert: Schedule Aim 1 review for child C00001, "
                                                     "due 12 Jun 2025")]
    with database.transaction() as session:
        note = session.scalar(select(Notification))
        assert (note.link, note.work_item_id, note.subject_id) == (f"/tasks/{item.id}", item.id,
                                                                   j.child_id)
        assert "leaving time for the meeting to be organised" in note.body


def test_tasks_that_simply_become_ready_do_not_notify(database):
    j = Journey(database).accommodate(date(2026, 1, 5))
    j.complete("planning_meeting", date(2026, 1, 7))
    assert notes(database) == []


def test_reassignment_tells_the_new_and_the_previous_holder_not_the_team_leader(database):
    j = Journey(database).accommodate(date(2026, 1, 5))
    j.complete("planning_meeting", date(2026, 1, 7))
    item = j.expect("initial_lar", "independent_chair")
    with database.transaction() as session:
        accounts.create_user(session, "chair2", "Chris Hale", "a-long-password", ["independent_chair"],
                             None, actor="test")
    clock.set_now(date(2026, 1, 8))
    with database.transaction() as session:
        chair, chair2, tl = (accounts.find_user(session, n) for n in ("chair", "chair2", "tl.north"))
        work_items.claim(session, item.id, chair)
    assert notes(database) == []  # claiming for yourself tells nobody
    with database.transaction() as session:
        work_items.reassign(session, item.id, chair2, tl)
    assert notes(database) == [
        ("chair2", "assigned", "Assigned to you: Hold initial looked-after review for child C00001"),
        ("chair", "unassigned", "No longer yours: Hold initial looked-after review for child C00001")]
    with database.transaction() as session:
        body = session.scalar(select(Notification.body).where(Notification.kind == "assigned"))
    assert body.startswith("Tom Lees gave you")
    with database.transaction() as session:
        work_items.release(session, item.id, tl, as_manager=True)
    assert notes(database, "chair2")[-1][1] == "unassigned"


def test_a_rolled_back_change_leaves_no_notification(database):
    j = Journey(database).accommodate(date(2026, 1, 5))
    j.complete("planning_meeting", date(2026, 1, 7))
    item = j.expect("initial_lar", "independent_chair")
    with database.transaction() as session:
        accounts.create_user(session, "chair2", "Chris Hale", "a-long-password", ["independent_chair"],
                             None, actor="test")
    with pytest.raises(RuntimeError), database.transaction() as session:
        chair2, tl = accounts.find_user(session, "chair2"), accounts.find_user(session, "tl.north")
        work_items.reassign(session, item.id, chair2, tl)
        session.flush()
        assert session.scalar(select(func.count()).select_from(Notification)) == 1
        raise RuntimeError("the request failed after the reassignment")
    assert notes(database) == []


def test_escalation_goes_to_the_childs_team_then_service_wide(database):
    j = Journey(database, team="south").accommodate(date(2026, 1, 5))
    j.complete("planning_meeting", date(2026, 1, 7))
    j.sweep(date(2026, 1, 21))
    assert notes(database) == [("chair", "reminder", "Reminder: Hold initial looked-after review for "
                                                     "child C00001 is due 26 Jan 2026")]
    j.sweep(date(2026, 1, 28))
    j.sweep(date(2026, 1, 28))
    assert [n[:2] for n in notes(database)][1:] == [("tl.south", "escalation"), ("chair", "overdue")]
    j.sweep(date(2026, 2, 2))
    assert [n[:2] for n in notes(database)][3:] == [("manager", "escalation")]
    assert notes(database, "chair")[1][2] == ("Overdue: Hold initial looked-after review for child "
                                              "C00001 was due 26 Jan 2026")
    with database.transaction() as session:
        manager = accounts.find_user(session, "manager")
        assert notifications.unread_count(session, manager.id) == 1
        [note] = notifications.for_user(session, manager.id)
        assert "7 days overdue" in note.title
        assert notifications.mark_read(session, manager.id, [note.id]) == 1
        assert notifications.unread_count(session, manager.id) == 0
        assert notifications.mark_read(session, manager.id) == 0


def test_migration_tells_the_people_working_with_the_child(database):
    j = Journey(database).accommodate(date(2026, 1, 5))
    with database.transaction() as session:
        session.get(Subject, j.child_id).allocated_worker_id = accounts.find_user(session, "sw.north").id
    j.complete("planning_meeting", date(2026, 1, 7))
    item = j.expect("initial_lar", "independent_chair")
    with database.transaction() as session:
        work_items.claim(session, item.id, accounts.find_user(session, "chair"))
    new = deploy_variant(database, **{'value="LA_START+3w"': 'value="LA_START+2w"'})
    clock.set_now(date(2026, 1, 10))
    with database.transaction() as session:
        instance = session.get(ProcessInstance, item.instance_id)
        migration.migrate(session, database.runtime, instance, new, "owner")
    assert sorted(n[:2] for n in notes(database)) == [("chair", "migrated"), ("sw.north", "migrated")]
    assert "moved from version 1 to version 2" in _body(database, "chair")


def _body(db, username):
    with db.transaction() as session:
        return session.scalar(select(Notification.body).join(
            UserAccount, UserAccount.id == Notification.user_id).where(UserAccount.username == username))


def test_preferences_default_per_kind_and_can_be_changed(database):
    policy = database.runtime.config.notifications
    Journey(database)
    with database.transaction() as session:
        tl = accounts.find_user(session, "tl.north")
        assert notifications.preferences(session, policy, tl.id)["escalation"] == "immediate"
        assert notifications.preferences(session, policy, tl.id)["overdue"] == "digest"
        notifications.set_preference(session, policy, tl.id, "escalation", "digest")
        with pytest.raises(ValueError):
            notifications.set_preference(session, policy, tl.id, "digest", "immediate")
    with database.transaction() as session:
        assert notifications.preferences(session, policy, tl.id)["escalation"] == "digest"


def test_the_engine_defaults_name_no_domain_words():
    policy = notifications.NotificationPolicy()
    words = " ".join(" ".join(pair) for pair in policy.texts.values()).lower()
    words += " ".join(k.label for k in policy.kinds.values()).lower()
    for domain_word in ("child", "team leader", "service manager", "pace", "review", "social"):
        assert domain_word not in words
    templates = " ".join(p.read_text() for p in notifications.ENGINE_TEMPLATES.iterdir()).lower()
    assert "child" not in templates and "pace" not in templates


def test_the_demo_shows_notifications_from_its_own_late_tasks(sqlite_database):
    result = demo.build(sqlite_database, children=12, today=date(2026, 3, 2))
    with sqlite_database.transaction() as session:
        kinds = dict(session.execute(select(Notification.kind, func.count())
                                     .group_by(Notification.kind)).all())
    assert result.overdue_tasks > 0
    # one sweep on the demo's day: late tasks are escalated; no "is due" reminder is sent
    # for a task already past due (tests/integration/test_reminders_past_due.py)
    assert kinds.get("escalation", 0) > 0
    assert "alert" in kinds  # the Aim 1 review alerts of children on a CSO at home


def test_a_transaction_deriving_many_notices_sees_its_own_changes_to_users(database):
    """Role holders are read once per transaction (a timer batch notifies the same people
    for many children), yet a user added, deactivated or moved in that transaction
    counts from then on."""
    j = Journey(database)

    def escalate(session):
        audit.record(session, "escalated", "timer", subject_id=j.child_id,
                     data={"task": "Review", "to_role": "team_leader", "team": "north", "level": 2})
        session.flush()

    def recipients(session):
        return [u for u, in session.execute(select(UserAccount.username).join(
            Notification, Notification.user_id == UserAccount.id).order_by(Notification.id))]

    with database.transaction() as session:
        escalate(session)
        assert recipients(session) == ["tl.north"]
        accounts.create_user(session, "tl2", "Tam Lee", "a-long-password", ["team_leader"], "north",
                             actor="test")
        escalate(session)
        assert recipients(session)[1:] == ["tl.north", "tl2"]
        accounts.find_user(session, "tl.north").active = False  # flushed by the next flush
        escalate(session)
        assert recipients(session)[3:] == ["tl2"]
        session.execute(update(UserAccount).where(UserAccount.username == "tl2")
                        .values(team="south"))
        escalate(session)
        assert recipients(session)[4:] == []
