"""The save path's writer (engine/writer.py): the objects it writes by Core statements get
the ids of their own rows, however many go in one statement."""
from datetime import date

from sqlalchemy import event, select

from engine import audit, clock, timers
from engine.models import AuditEvent, WorkItem
from workflows import accounts

from .test_runtime_basics import _start, mini  # noqa: F401 (the fixture)


def test_events_written_together_get_their_own_rows_ids(mini):  # noqa: F811
    db = mini
    instance_id = _start(db)
    clock.set_now(date(2026, 1, 20))
    timers.sweep(db.factory, db.runtime)
    with db.transaction() as session:
        item_id = session.scalars(select(WorkItem.id)).one()
        sw = accounts.find_user(session, "sw")
    inserts = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            inserts.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.transaction() as session:
            written = []  # held here: the session holds its objects weakly
            event.listen(session, "transient_to_pending", lambda _s, obj: written.append(obj)
                         if isinstance(obj, AuditEvent) else None)
            db.runtime.complete(session, item_id, {"date_held": "2026-01-22"}, sw)
            rows = {row.id: (row.hash, row.event_type) for row in session.execute(
                select(AuditEvent.id, AuditEvent.hash, AuditEvent.event_type)
                .where(AuditEvent.instance_id == instance_id))}
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    kinds = sorted(obj.event_type for obj in written)
    assert kinds == ["instance_completed", "task_completed"]
    assert len(inserts) == 1  # both events in one statement, on SQLite as on PostgreSQL
    for obj in written:
        assert rows[obj.id] == (obj.hash, obj.event_type)
    by_seq = sorted(written, key=lambda obj: obj.chain_seq)
    assert [obj.id for obj in by_seq] == sorted(obj.id for obj in written)
    with db.transaction() as session:
        assert audit.verify(session) is None
