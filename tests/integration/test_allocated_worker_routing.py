"""Tasks the diagrams give the allocated worker (``assign="allocated_worker"``): they land in
that worker's "My work" when they are made, and follow the child to a new allocated worker
(SQLite and PostgreSQL, through the real runtime and the services the pages call)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine import clock, queues
from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import Notification, OutboxMessage, UserAccount, WorkItem
from engine.registry import ModelBundle
from workflows import accounts, policy
from workflows.children import records as children
from workflows.demo import scotland as demo
from workflows.engine_config import BPMN_DIR
from workflows.process_models import model_validation
from workflows.services import allocation

from .driver import Journey


class AllocatedJourney(Journey):
    """A Scottish child with an allocated worker named by username."""

    def __init__(self, database, worker: str, reference: str = "C00001"):
        self.worker = worker
        super().__init__(database, reference)

    def register(self, session, reference: str, team: str, **details):
        demo.ensure_users(session, actor="test")
        worker = accounts.find_user(session, self.worker)
        return children.register_child(session, reference, "Test Child", team, "test",
                                       allocated_worker_id=worker.id)

    def _user_for(self, session, item):
        if item.assignee_id is not None:  # the one it was given to completes it
            return session.get(UserAccount, item.assignee_id)
        return super()._user_for(session, item)


def to_legal_referral(journey: Journey) -> WorkItem:
    """Accommodated, planning meeting and the two reviews held: the social worker's legal
    referral is made."""
    journey.accommodate(date(2026, 1, 5))
    journey.complete("planning_meeting", date(2026, 1, 7))
    journey.complete("initial_lar", date(2026, 1, 20))
    journey.complete("interim_lar", date(2026, 4, 1))
    return journey.open_item("legal_referral")


def ids(db, *usernames: str) -> list[int]:
    with db.transaction() as session:
        return [accounts.find_user(session, name).id for name in usernames]


def my_work(db, user_id: int) -> list[str]:
    with db.transaction() as session:
        page = queues.list_work(session, queues.QueueFilter(assignee_id=user_id),
                                clock.today())
        return [item.task_name for item in page.items]


def test_the_allocated_workers_task_lands_in_their_work_and_follows_a_new_worker(database):
    journey = AllocatedJourney(database, "sw.north")
    sam, priya = ids(database, "sw.north", "sw2.north")
    item = to_legal_referral(journey)
    # made straight into the allocated worker's "My work", the rest of the journey's
    # tasks (the chair's reviews) in their queues as before
    assert (item.status, item.assignee_id) == ("claimed", sam)
    assert my_work(database, sam) == ["legal_referral"]
    ready = [e for e in journey.events("task_ready") if e.data["task"] == "legal_referral"]
    assert ready[-1].data["assignee"] == "sw.north"
    assert all("assignee" not in e.data for e in journey.events("task_ready")
               if e.data["task"] != "legal_referral")
    with database.transaction() as session:  # still the team's: the leader sees and moves it
        leader = accounts.find_user(session, "tl.north")
        assert policy.can_view_task(leader, item) and policy.manages(leader, item)

    clock.set_now(date(2026, 4, 2))
    with database.transaction() as session:
        leader = accounts.find_user(session, "tl.north")
        done = allocation.change_allocated_worker(session, database.runtime, leader,
                                                  journey.child_id, "sw2.north",
                                                  "Sam moves to the fostering team")
        assert done.changed and [i.id for i in done.moved] == [item.id] and not done.returned
    assert my_work(database, sam) == [] and my_work(database, priya) == ["legal_referral"]
    changed = journey.events("allocated_worker_changed")
    assert [(e.actor, e.data) for e in changed] == [("tl.north", {
        "from": "sw.north", "to": "sw2.north", "reason": "Sam moves to the fostering team"})]
    moved = journey.events("task_reassigned")
    assert [(e.actor, e.data["to"], e.data["reason"]) for e in moved] == [
        ("tl.north", "sw2.north", allocation.MOVED_REASON)]
    with database.transaction() as session:
        told = session.execute(select(UserAccount.username, Notification.kind, Notification.body)
                               .join(UserAccount, UserAccount.id == Notification.user_id)
                               .order_by(Notification.id)).all()
    assert [(who, kind) for who, kind, _ in told] == [("sw2.north", "assigned"),
                                                      ("sw.north", "unassigned")]
    assert told[0][2].endswith(f"Reason: {allocation.MOVED_REASON}")

    # the same worker again changes nothing; the new worker completes the task
    with database.transaction() as session:
        leader = accounts.find_user(session, "tl.north")
        again = allocation.change_allocated_worker(session, database.runtime, leader,
                                                   journey.child_id, "sw2.north")
        assert not again.changed and not again.moved
    assert len(journey.events("allocated_worker_changed")) == 1
    journey.complete("legal_referral", date(2026, 4, 4))
    assert journey.open_item("legal_opinion").assignee_id is None  # legal's queue, as ever


def test_without_a_worker_who_can_hold_it_the_task_stays_in_the_team_queue(database):
    journey = AllocatedJourney(database, "tl.north")  # allocated, but not a social worker
    item = to_legal_referral(journey)
    assert (item.status, item.assignee_id) == ("ready", None)
    assert "assignee" not in journey.events("task_ready")[-1].data
    # allocating a social worker gives them the waiting task, and tells them
    clock.set_now(date(2026, 4, 2))
    with database.transaction() as session:
        manager = accounts.find_user(session, "manager")
        done = allocation.change_allocated_worker(session, database.runtime, manager,
                                                  journey.child_id, "sw.north")
        assert [i.id for i in done.moved] == [item.id]
    (sam,) = ids(database, "sw.north")
    assert my_work(database, sam) == ["legal_referral"]
    with database.transaction() as session:
        assert session.scalars(select(Notification.kind).join(
            UserAccount, UserAccount.id == Notification.user_id)
            .where(UserAccount.username == "sw.north")).all() == ["assigned"]
        mail = session.scalars(select(OutboxMessage)).all()
        assert all("Reason:" not in m.text_body for m in mail)  # typed text stays in the app


def test_only_the_childs_managers_change_the_allocated_worker_and_bad_input_changes_nothing(
        database):
    journey = AllocatedJourney(database, "sw.north")
    item = to_legal_referral(journey)
    with database.transaction() as session:
        social_worker, other_leader, leader = (accounts.find_user(session, n) for n in
                                               ("sw.north", "tl.south", "tl.north"))
        with pytest.raises(Forbidden):
            allocation.change_allocated_worker(session, database.runtime, social_worker,
                                               journey.child_id, "sw2.north")
        with pytest.raises(NotFound):  # another team's child is not disclosed
            allocation.change_allocated_worker(session, database.runtime, other_leader,
                                               journey.child_id, "sw2.north")
        for worker, reason, field in (("sw.south", None, "worker"),   # another team
                                      ("tl.north", None, "worker"),   # not a social worker
                                      ("nobody", None, "worker"),
                                      ("sw2.north", "two\nlines", "reason"),
                                      ("sw2.north", "x" * 301, "reason")):
            with pytest.raises(InvalidData) as refused:
                allocation.change_allocated_worker(session, database.runtime, leader,
                                                   journey.child_id, worker, reason)
            assert [e.field for e in refused.value.errors] == [field]
    assert journey.events("allocated_worker_changed") == []
    (sam,) = ids(database, "sw.north")
    with database.transaction() as session:
        assert session.get(WorkItem, item.id).assignee_id == sam


@pytest.mark.parametrize("value", ["allocated worker", "team_leader", ""])
def test_the_process_owners_check_refuses_an_unknown_assign_value(value):
    bundle = ModelBundle.from_directory(BPMN_DIR / "permanence_journey")
    shipped = '<spiffworkflow:property name="assign" value="allocated_worker"/>'
    assert shipped in bundle.bpmn_xml
    bundle.bpmn_xml = bundle.bpmn_xml.replace(
        shipped, f'<spiffworkflow:property name="assign" value="{value}"/>', 1)

    class Runtime:
        from workflows.engine_config import pace_config
        config = pace_config()

    report = model_validation.validate(bundle, model_validation.validation_context(
        Runtime, "permanence_journey"))
    assert not report.ok
    found = [(f.element_id, f.message, f.fix) for f in report.findings]
    assert found == [("legal_referral",
                      f"assign {value!r} is not a known assignment: use allocated_worker, or "
                      "remove the property",
                      "Write assign = allocated_worker to give the task straight to the child's "
                      "allocated worker, or remove the property to leave it in its lane's "
                      "queue.")]
