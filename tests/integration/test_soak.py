"""Eight processes claim, release, reassign and complete tasks on shared children (PostgreSQL)."""
from __future__ import annotations

import multiprocessing
import random
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from engine import clock, work_items
from engine.errors import Conflict, InvalidData
from engine.models import AuditEvent, ProcessInstance, UserAccount, WorkItem
from workflows.app import Database
from workflows.children import records as children
from workflows import sample_answers
from workflows.demo import scotland as demo

from .caseload import seed_children, url_with_search_path
from .consistency import assert_indexes_match_workflows

PROCESSES = 8
SECONDS = 12


def _hammer(url: str, seed: int, seconds: float, queue) -> None:
    """One worker process: random actions on random open tasks until time is up."""
    try:
        _actions(url, seed, seconds, queue)
    except BaseException as exc:  # report, so the test fails with the cause instead of waiting
        queue.put({"error": repr(exc)})


def _actions(url: str, seed: int, seconds: float, queue) -> None:
    db = Database.connect(url)
    rng = random.Random(seed)
    counts = {"completed": 0, "conflicts": 0, "claims": 0, "releases": 0, "reassigns": 0}
    deadline = time.monotonic() + seconds
    clock.set_now(date(2026, 6, 1))
    while time.monotonic() < deadline:
        try:
            with db.transaction() as session:
                items = session.scalars(select(WorkItem).where(WorkItem.status.in_(("ready", "claimed")))
                                        .order_by(WorkItem.id).limit(12)).all()
                if not items:
                    break
                item = rng.choice(items)
                users = [u for u in session.scalars(select(UserAccount))
                         if item.role in u.roles and u.team in (item.team, None)]
                user = rng.choice(users)
                action = rng.random()
                if action < 0.25:
                    work_items.claim(session, item.id, user)
                    counts["claims"] += 1
                elif action < 0.35:
                    work_items.release(session, item.id, user, as_manager=True)
                    counts["releases"] += 1
                elif action < 0.45:
                    work_items.reassign(session, item.id, user, user)
                    counts["reassigns"] += 1
                else:
                    if item.assignee_id is not None:
                        user = session.get(UserAccount, item.assignee_id)
                    instance = session.get(ProcessInstance, item.instance_id)
                    schema, _ = db.runtime.form_for(instance, item.task_name)
                    data = sample_answers.fill(schema, date(2026, 6, 1), rng, demo.WEIGHTS)
                    if not db.runtime.complete(session, item.id, data, user).repeated:
                        counts["completed"] += 1
        except (Conflict, InvalidData):
            counts["conflicts"] += 1
    db.engine.dispose()
    queue.put(counts)


@pytest.mark.postgres
def test_eight_processes_lose_and_double_nothing(pg_database):
    db = pg_database
    seed_children(db, "S", 10, children.accommodate, date(2026, 1, 5))
    url = url_with_search_path(db)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(url, seed, SECONDS, queue)) for seed in range(PROCESSES)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=SECONDS + 60) for _ in procs]
    assert not [r for r in results if "error" in r], results
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    completed = sum(r["completed"] for r in results)
    assert completed > 20, results
    assert sum(r["conflicts"] for r in results) > 0, "the processes should have collided"
    with db.transaction() as session:
        done_items = session.scalar(select(func.count()).select_from(WorkItem)
                                    .where(WorkItem.status == "completed"))
        events = session.execute(select(AuditEvent.task_id, func.count()).where(
            AuditEvent.event_type == "task_completed").group_by(AuditEvent.task_id)).all()
        assert done_items == completed == len(events)
        assert {n for _, n in events} == {1}
    assert_indexes_match_workflows(db)
