"""Fixtures of the engine's tests: the small timer process deployed with PACE's config."""
from __future__ import annotations

from datetime import date

import pytest

from engine import clock, registry
from workflows import accounts
from workflows.children import records as children
from workflows.engine_config import pace_config

from .diagrams import TIMER_FORM, timer_diagram


@pytest.fixture
def mini(empty_database):
    """The timer process deployed, a team and two social workers."""
    db = empty_database
    with db.transaction() as session:
        registry.deploy(session, registry.ModelBundle("mini", timer_diagram(), {"task.schema.json": TIMER_FORM}),
                        pace_config().validation_context(), "test")
        accounts.ensure_team(session, "north")
        accounts.create_user(session, "sw", "Sam", "long-password-1", ["social_worker"], "north")
        accounts.create_user(session, "sw2", "Sue", "long-password-2", ["social_worker"], "north")
    return db


@pytest.fixture
def start_child():
    """start_child(db, day): a child C1 started on the timer process; its instance id."""
    def _start(db, day=date(2026, 1, 5)):
        clock.set_now(day)
        with db.transaction() as session:
            child = children.register_child(session, "C1", "Ava", "north", "test")
            instance = db.runtime.start(session, "mini", child, {"start": day.isoformat()}, "test")
            return instance.id
    return _start
