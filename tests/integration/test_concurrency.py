"""Races on the real PostgreSQL: one winner, a clear conflict for the loser, nothing lost."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from engine import clock, sweeper
from engine.errors import Conflict
from engine.models import AuditEvent, WorkItem
from workflows import accounts
from workflows.children import records as children

from .caseload import seed_children
from .consistency import assert_indexes_match_workflows
from .driver import Journey


def _race(calls):
    """Run the callables at the same moment in threads; return their results or errors."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            results[index] = exc
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.postgres
def test_two_completions_of_the_same_task_exactly_one_wins(pg_database):
    db = pg_database
    for round_number in range(5):
        j = Journey(db, reference=f"R{round_number}")
        j.accommodate(date(2026, 1, 5))
        item = j.expect("planning_meeting", "team_leader")
        clock.set_now(date(2026, 1, 7))
        with db.transaction() as session:
            tl = accounts.find_user(session, "tl.north")

        def complete(day):
            def call():
                clock.set_now(date(2026, 1, 7))
                with db.transaction() as session:
                    payload = {"date_held": day, "chair": "Tom Lees", "actions_agreed": "Agreed."}
                    return db.runtime.complete(session, item.id, payload, tl)
            return call
        results = _race([complete("2026-01-06"), complete("2026-01-07")])
        wins = [r for r in results if not isinstance(r, Exception)]
        losses = [r for r in results if isinstance(r, Exception)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert isinstance(losses[0], Conflict)
        assert "reload" in str(losses[0]).lower()
        with db.transaction() as session:
            done = session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.event_type == "task_completed", AuditEvent.task_id == item.task_id))
            assert done == 1
        j.expect("initial_lar", "independent_chair")
    assert_indexes_match_workflows(db)


@pytest.mark.postgres
def test_two_workers_never_fire_the_same_timer_twice(pg_database):
    db = pg_database
    seed_children(db, "T", 24, children.place_on_cso_at_home, date(2024, 1, 10))

    def sweep():
        clock.set_now(date(2026, 1, 1))
        return sweeper.sweep(db.factory, db.runtime)
    reports = _race([sweep, sweep])
    assert all(not isinstance(r, Exception) for r in reports), reports
    assert sum(r.timers_fired for r in reports) == 24
    with db.transaction() as session:
        per_instance = session.execute(select(AuditEvent.instance_id, func.count()).where(
            AuditEvent.event_type == "timer_fired").group_by(AuditEvent.instance_id)).all()
        assert len(per_instance) == 24 and {n for _, n in per_instance} == {1}
        # each review task is past due by 1 January 2026: its escalations are its notices,
        # each level sent once however many workers swept
        escalations = dict(session.execute(select(AuditEvent.task_id, func.count()).where(
            AuditEvent.event_type == "escalated").group_by(AuditEvent.task_id)).all())
        levels = dict(session.execute(select(WorkItem.task_id, WorkItem.escalation_level)
                                      .where(WorkItem.escalation_level > 0)).all())
        assert len(levels) == 24 and escalations == levels
    assert_indexes_match_workflows(db)
