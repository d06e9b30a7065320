"""Notices are derived where the wiring says: a session factory derives those of the runtime
it was wired to (no policy for the whole process), an unwired factory derives none from
the ORM's flushes, and a session switched off derives none at all."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from engine import audit, notice_derivation
from engine.db import make_session_factory, unit_of_work
from engine.models import Notification, Subject
from engine.notifications import DEFAULT_TEXTS, NotificationPolicy
from engine.runtime import Runtime
from workflows import accounts
from workflows.children import records as children
from workflows.app import Database
from workflows.engine_config import pace_config


@pytest.fixture
def db(empty_database):
    with empty_database.transaction() as session:
        accounts.ensure_team(session, "north")
        accounts.create_user(session, "tl", "Tam", "long-password-1", ["team_leader"], "north")
        children.register_child(session, "C1", "Ava", "north", "test")
    return empty_database


def escalate(session) -> None:
    """An escalation to the team leaders of team north, flushed the ORM's way."""
    child = session.scalar(select(Subject.id))
    audit.record(session, "escalated", "timer", subject_id=child,
                 data={"task": "Review", "to_role": "team_leader", "team": "north", "level": 2})
    session.flush()


def titles(db) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(Notification.title).order_by(Notification.id)))


def test_each_factory_derives_under_the_policy_of_the_runtime_it_was_wired_to(db):
    wording = NotificationPolicy(texts={**DEFAULT_TEXTS, "escalation": ("Other wording: {task}", "")})
    other = Database.wire(db.engine, Runtime(replace(pace_config(), notifications=wording)))
    with other.transaction() as session:
        escalate(session)
    with db.transaction() as session:
        escalate(session)
    first, second = titles(db)
    assert first == "Other wording: Review"
    assert second != first and "Review" in second  # PACE's own wording, on its own factory


def test_a_factory_no_runtime_was_wired_to_derives_nothing_from_flushes(db):
    with unit_of_work(make_session_factory(db.engine)) as session:
        escalate(session)
    assert titles(db) == []


def test_a_switched_off_session_derives_nothing_for_its_whole_life(db):
    session = notice_derivation.switch_off(db.factory())
    try:
        escalate(session)
        session.commit()
        escalate(session)  # a second transaction of the same session
        session.commit()
    finally:
        session.close()
    assert titles(db) == []
    with db.transaction() as session:  # the factory's other sessions still derive
        escalate(session)
        assert session.scalar(select(func.count()).select_from(Notification)) == 1
