"""Runtime.end_early on another deployment's diagrams (the library's inter-library loan): an
instance ended from outside its diagram withdraws its open tasks, drops its timers and
escalates nothing afterwards, with no PACE code involved (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine import clock, sweeper
from engine.errors import Conflict
from engine.models import Milestone, ProcessInstance, Timer, WorkItem

from .test_generic_engine import FRI, events_of, lib, request_loan  # noqa: F401 - the fixture


def test_a_loan_withdrawn_by_the_member_ends_early_and_escalates_nothing(lib):  # noqa: F811
    instance_id = request_loan(lib, "M-0007", "A book", date(2026, 4, 30))
    with lib.transaction() as session:
        instance = lib.runtime.instance(session, instance_id)
        lib.runtime.end_early(session, instance, "lib", ended_on=FRI, milestone="WITHDRAWN",
                              milestone_data={"why": "member moved away"},
                              audit_data={"reason": "The member moved away"})
    with lib.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == "ended_early" and instance.completed_at.date() == FRI
        open_items = session.scalars(select(WorkItem).where(
            WorkItem.instance_id == instance_id, WorkItem.status.in_(("ready", "claimed")))).all()
        assert open_items == []
        assert session.scalars(select(Timer).where(Timer.instance_id == instance_id)).all() == []
        [ended] = session.scalars(select(Milestone).where(Milestone.instance_id == instance_id,
                                                          Milestone.code == "WITHDRAWN")).all()
        assert ended.actual_date == FRI and ended.data == {"why": "member moved away"}
    assert {"task_cancelled", "instance_ended_early"} <= set(events_of(lib, instance_id))
    clock.set_now(date(2026, 9, 1))
    sweeper.sweep(lib.factory, lib.runtime, mail=False)
    assert not {"reminder_sent", "escalated", "timer_fired"} & set(events_of(lib, instance_id))
    with lib.transaction() as session, pytest.raises(Conflict):
        lib.runtime.end_early(session, session.get(ProcessInstance, instance_id), "lib",
                              ended_on=FRI)
