"""Queues read the work_item index only: no workflow is deserialized to list them."""
from datetime import date

import pytest
from sqlalchemy import select

from engine import clock, queues, serialization
from engine.models import UserAccount
from workflows.children import records as children
from workflows.demo import scotland as demo


@pytest.fixture
def thousand_children(database):
    clock.set_now(date(2026, 1, 5))
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
        for number in range(1000):
            child = children.register_child(session, f"Q{number:05d}", f"Child {number}",
                                            "north" if number % 2 else "south", "test")
            children.accommodate(session, database.runtime, child,
                                 date(2026, 1, 5) if number % 3 else date(2025, 12, 1), "test")
    return database


def test_listing_a_queue_of_1000_work_items_deserializes_nothing(thousand_children, monkeypatch):
    db = thousand_children
    loads = []
    real_loads = serialization.loads
    monkeypatch.setattr(serialization, "loads", lambda *a, **k: loads.append(1) or real_loads(*a, **k))
    with db.transaction() as session:
        everyone = queues.list_work(session, queues.QueueFilter(roles=("team_leader",)),
                                    date(2026, 1, 6), per_page=1000)
        assert everyone.total == 1000 and len(everyone.items) == 1000
        assert [i.subject.reference for i in everyone.items[:1]]  # child shown without a load
        tl = session.scalar(select(UserAccount).where(UserAccount.username == "tl.north"))
        north = queues.list_work(session, queues.QueueFilter(roles=tuple(tl.roles), teams=(tl.team,),
                                                             unassigned=True, status="overdue"),
                                 date(2026, 1, 6), per_page=25)
        assert north.total == 167  # odd numbers, accommodated on 1 December 2025: due 4 December
        assert all(i.team == "north" and i.due_date < date(2026, 1, 6) for i in north.items)
    assert loads == []
    # the spy is live: loading one workflow is counted
    with db.transaction() as session:
        db.runtime.load_workflow(session.get(children.ProcessInstance, 1))
    assert loads == [1]
