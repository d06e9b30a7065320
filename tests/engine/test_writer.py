"""The save path's writer (engine/writer.py): the objects it writes by Core statements get
the ids of their own rows, however many go in one statement."""
from datetime import date

import pytest
from sqlalchemy import event, select, update

from engine import audit, clock, sweeper
from engine.errors import Conflict
from engine.models import AuditEvent, Milestone, ProcessInstance, WorkItem
from workflows import accounts



def test_events_written_together_get_their_own_rows_ids(mini, start_child):
    db = mini
    instance_id, item_id, sw = _ready_for_completion(db, start_child)
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


def _ready_for_completion(db, start_child):
    instance_id = start_child(db)
    clock.set_now(date(2026, 1, 20))
    sweeper.sweep(db.factory, db.runtime)
    clock.set_now(date(2026, 1, 22))  # the meeting is recorded on the day it was held
    with db.transaction() as session:
        return instance_id, session.scalars(select(WorkItem.id)).one(), accounts.find_user(session, "sw")


def _milestones(db) -> set:
    with db.transaction() as session:
        return {(m.code, m.planned_date, m.actual_date) for m in session.scalars(select(Milestone))}


def test_milestones_go_with_the_state(mini, start_child):
    """On PostgreSQL the milestone upsert rides in the statement that writes the state and
    checks its version (no round trip of its own); on SQLite it is a statement before it."""
    db = mini
    _instance_id, item_id, sw = _ready_for_completion(db, start_child)
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement.lstrip())
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.transaction() as session:
            db.runtime.complete(session, item_id, {"date_held": "2026-01-22"}, sw)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    writes = [s for s in statements if "INSERT INTO milestone" in s]
    assert len(writes) == 1
    if db.engine.dialect.name == "postgresql":
        assert writes[0].startswith("WITH") and "UPDATE process_instance" in writes[0]
    else:
        assert writes[0].startswith("INSERT INTO milestone")
    assert _milestones(db) == {("START", None, date(2026, 1, 5)),
                               ("MEETING", date(2026, 1, 26), date(2026, 1, 22))}


def test_a_stale_version_writes_no_milestone(mini, start_child):
    """The instance changed under the completion (its row's version moved on after this
    transaction read it): Conflict, and the milestone upsert sent with the state is undone."""
    db = mini
    instance_id, item_id, sw = _ready_for_completion(db, start_child)
    before = _milestones(db)
    with pytest.raises(Conflict), db.transaction() as session:
        held = session.get(ProcessInstance, instance_id)  # the copy complete() will use
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)
                        .values(version=ProcessInstance.version + 1)
                        .execution_options(synchronize_session=False))
        read = held.version
        db.runtime.complete(session, item_id, {"date_held": "2026-01-22"}, sw)
    assert _milestones(db) == before
    with db.transaction() as session:
        assert session.get(WorkItem, item_id).status == "ready"
        assert session.get(ProcessInstance, instance_id).version == read  # the bump undone too


def test_rows_made_without_their_constructor_are_watched_by_no_listener():
    """db.new_row skips the attribute events of the constructor: right only while nothing
    listens to them (a validator or a set listener added later would be silently skipped)."""
    from sqlalchemy import inspect

    from engine.db import new_row
    for mapped in (AuditEvent, WorkItem):
        mapper = inspect(mapped)
        assert not mapper.validators
        for column in mapper.column_attrs:  # new_row sets columns only
            attr = mapper.class_manager[column.key]
            assert not attr.dispatch.set and not attr.dispatch.append, column.key
        made = new_row(mapped, task_id="t1")
        assert inspect(made).transient and made.task_id == "t1" and made.id is None
        assert inspect(made).dict.keys() == mapped(task_id="t1").__dict__.keys()
