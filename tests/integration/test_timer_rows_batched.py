"""A sweep's batch writes the timer rows of all its children together (engine.timers
.DeferredRows): the fired timers' rows go in one statement, whatever the batch's size,
and what is left matches every workflow's waiting timers."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm.exc import StaleDataError

from engine import clock, sweeper, timers
from engine.models import ProcessInstance, Timer
from workflows.children import records as children

from .caseload import seed_children
from .consistency import assert_indexes_match_workflows


def test_a_batch_deletes_its_fired_timers_rows_in_one_statement(database):
    seed_children(database, "D", 5, children.place_on_cso_at_home, date(2024, 1, 10))
    statements = []

    def seen(_conn, _cursor, statement, _params, _context, _many):
        statements.append(statement)

    clock.set_now(datetime(2026, 1, 1, 9))
    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        report = sweeper.SweepReport()
        sweeper.fire_due_timers(database.factory, database.runtime, report, batch=5)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)

    assert (report.timers_fired, report.errors) == (5, [])
    deletes = [s for s in statements if s.lstrip().upper().startswith("DELETE FROM TIMER")]
    assert len(deletes) == 1
    with database.transaction() as session:
        assert session.scalars(select(Timer)).all() == []
    assert_indexes_match_workflows(database)


def test_rows_read_while_writes_are_kept_are_the_ones_written_so_far(database):
    """``sync`` without the rows the workflow was loaded with reads them: the changes kept
    for the batch are written first, and later ones are still kept."""
    seed_children(database, "R", 2, children.place_on_cso_at_home, date(2024, 1, 10))
    clock.set_now(datetime(2026, 1, 1, 9))
    runtime = database.runtime
    with database.transaction() as session:
        first, second = (runtime.instance(session, i) for i in
                         session.scalars(select(Timer.instance_id).order_by(Timer.instance_id)))
        deferred = timers.DeferredRows()
        runtime.fire_timers(session, first, flush=False, timer_rows=deferred)
        assert session.scalar(select(Timer.instance_id).where(Timer.instance_id == first.id)) \
            == first.id  # kept, not written yet
        wf = runtime.load_workflow(second)
        runtime.step(wf)
        timers.sync(session, second, wf, deferred=deferred)  # reads the rows: the first child's are written
        assert session.scalars(select(Timer.instance_id)).all() == []
        assert deferred.changes == {}  # still keeping, from nothing


def test_a_batchs_states_are_written_at_the_version_read(database):
    """The batch's states go in one statement, each only over the version it was loaded
    at: a row changed meanwhile fails the batch (which is then fired a child at a time,
    see test_timer_batches), as the unit of work's version check would."""
    seed_children(database, "V", 2, children.place_on_cso_at_home, date(2024, 1, 10))
    clock.set_now(datetime(2026, 1, 1, 9))
    runtime = database.runtime
    session = database.factory()
    try:
        first, second = (runtime.instance(session, i) for i in
                         session.scalars(select(Timer.instance_id).order_by(Timer.instance_id)))
        versions = (first.version, second.version)
        for instance in (first, second):
            runtime.fire_timers(session, instance, flush=False)
        sweeper._write_states(session, [first, second])
        assert (first.version, second.version) == (versions[0] + 1, versions[1] + 1)
        assert not any(session.is_modified(o) for o in (first, second))  # nothing left to flush
        stored = dict(session.execute(select(ProcessInstance.id, ProcessInstance.version)
                                      .where(ProcessInstance.id.in_([first.id, second.id]))).all())
        assert stored == {first.id: first.version, second.id: second.version}
        session.rollback()

        first, second = (runtime.instance(session, i) for i in (first.id, second.id))
        for instance in (first, second):
            runtime.fire_timers(session, instance, flush=False)
        table = ProcessInstance.__table__  # another write, behind the session's objects
        session.connection().execute(update(table).where(table.c.id == second.id)
                                     .values(version=table.c.version + 1))
        with pytest.raises(StaleDataError):
            sweeper._write_states(session, [first, second])
    finally:
        session.rollback()
        session.close()
