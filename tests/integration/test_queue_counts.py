"""A queue page counts at most to its limit ("1,000+" on the web page) and still lists the
first tasks by due date, read through the partial index of open work (migration 0008)."""
from __future__ import annotations

from datetime import date

from engine import queues
from workflows.children import records as children

from .caseload import seed_children

TODAY = date(2026, 1, 6)


def test_a_long_queue_is_counted_to_its_limit_and_listed_by_due_date(database):
    seed_children(database, "Q", 12, children.accommodate, date(2026, 1, 5))
    service_wide = queues.QueueFilter(unassigned=True, roles=("team_leader",), teams=None)
    with database.transaction() as session:
        exact = queues.list_work(session, service_wide, TODAY, per_page=5)
        capped = queues.list_work(session, service_wide, TODAY, per_page=5, count_limit=10)
        at_limit = queues.list_work(session, service_wide, TODAY, per_page=5, count_limit=12)
        by_child = queues.list_work(session, service_wide, TODAY, sort="child", per_page=5,
                                    count_limit=10)
    assert (exact.total, exact.more, exact.total_label, exact.pages) == (12, False, "12", 3)
    assert (capped.total, capped.more, capped.total_label) == (10, True, "10+")
    assert (at_limit.total, at_limit.more) == (12, False)
    assert [i.id for i in capped.items] == [i.id for i in exact.items]
    assert [(i.due_date, i.id) for i in exact.items] == sorted((i.due_date, i.id) for i in exact.items)
    assert [i.subject.reference for i in by_child.items] == [f"Q{n:04d}" for n in range(5)]
