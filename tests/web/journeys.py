"""Children put part-way through the real permanence journey, for the web tests.

Earlier tasks are completed through the runtime with sample_answers answers at their due
dates (the clock injected), exactly as a worker would have; nothing is inserted by hand.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from engine import clock
from engine.models import ProcessInstance, UserAccount, WorkItem
from web import create_app
from workflows.app import Database
from workflows.children import records as children
from workflows import sample_answers
from workflows.demo import scotland as demo


@dataclass
class World:
    database: Database
    app: Flask
    children: dict[str, int] = field(default_factory=dict)  # name -> subject id
    tasks: dict[str, int] = field(default_factory=dict)  # name -> open work item id
    users: dict[str, int] = field(default_factory=dict)  # username -> user id


def _user_for(session, item: WorkItem) -> UserAccount:
    for user in session.scalars(select(UserAccount).order_by(UserAccount.id)):
        if item.role in (user.roles or []) and user.team in (item.team, None):
            return user
    raise AssertionError(f"no demo user with role {item.role} for team {item.team}")


def open_items(database: Database, subject_id: int) -> list[WorkItem]:
    with database.transaction() as session:
        return list(session.scalars(select(WorkItem).where(
            WorkItem.subject_id == subject_id, WorkItem.status.in_(("ready", "claimed")))
            .order_by(WorkItem.id)))


def child_at(database: Database, reference: str, team: str, task_name: str,
             la_start: date, name: str | None = None, seed: int = 7) -> tuple[int, int]:
    """Accommodate a child and complete its tasks until ``task_name`` is open.

    Returns (subject id, work item id of ``task_name``); the clock is left unset."""
    rng = random.Random(seed)
    try:
        clock.set_now(la_start)
        with database.transaction() as session:
            child = children.register_child(session, reference, name or f"Child {reference}",
                                            team, "test", date_of_birth=la_start - timedelta(days=2000))
            children.accommodate(session, database.runtime, child, la_start, "test")
            subject_id = child.id
        for _ in range(20):
            items = open_items(database, subject_id)
            assert items, f"{reference}: nothing open before {task_name}"
            wanted = [i for i in items if i.task_name == task_name]
            if wanted:
                return subject_id, wanted[0].id
            item = items[0]
            day = max(item.created_at.date(), item.due_date or item.created_at.date())
            clock.set_now(day)
            with database.transaction() as session:
                instance = session.get(ProcessInstance, item.instance_id)
                schema, _ = database.runtime.form_for(instance, item.task_name)
                data = sample_answers.fill(schema, day, rng, demo.WEIGHTS)
                database.runtime.complete(session, item.id, data, _user_for(session, item))
        raise AssertionError(f"{reference} never reached {task_name}")
    finally:
        clock.set_now(None)


def make_app(database: Database, **config) -> Flask:
    """The real app, using the test's already-migrated Database (either backend)."""
    app = create_app({"DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
                      "TESTING": True, "SECRET_KEY": "test-secret", "DEMO_MODE": False, **config})
    app.extensions["pace_db"].engine.dispose()
    app.extensions["pace_db"] = database
    return app


def build_world(database: Database, app: Flask, today: date | None = None) -> World:
    """North and south children at the legal referral, one north child at the legal opinion."""
    today = today or date.today()
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
        users = {u.username: u.id for u in session.scalars(select(UserAccount))}
    world = World(database, app, users=users)
    la_start = today - timedelta(weeks=27)  # the referral falls due next week
    for key, ref, team, task in (("north", "N0001", "north", "legal_referral"),
                                 ("south", "S0001", "south", "legal_referral"),
                                 ("north_legal", "N0002", "north", "legal_opinion")):
        subject_id, item_id = child_at(database, ref, team, task, la_start,
                                       name=f"{team.title()} Child {ref[-1]}")
        world.children[key] = subject_id
        world.tasks[key] = item_id
    return world


def build_english_world(world: World, today: date | None = None) -> World:
    """English children (team east unless said), through the real runtime:

    - ``eng_overdue``: looked after 9 days ago under section 20; the first statutory visit was
      due 2 days ago and has been escalated once (to the team manager);
    - ``eng_s31``: looked after 3 days ago under section 31 (the interim care order to record);
    - ``eng_west``: a child of team west.
    """
    from tests.integration.england_journey import EnglandJourney
    today = today or date.today()
    try:
        overdue = EnglandJourney(world.database, "E00001", name="Ellie East")
        overdue.looked_after(today - timedelta(days=9))
        s31 = EnglandJourney(world.database, "E00002", name="Sam Section")
        s31.looked_after(today - timedelta(days=3), legal_status="s31")
        west = EnglandJourney(world.database, "E00003", team="west", name="Wes West")
        west.looked_after(today - timedelta(days=3))
        overdue.sweep(today)
    finally:
        clock.set_now(None)
    for key, journey in (("eng_overdue", overdue), ("eng_s31", s31), ("eng_west", west)):
        world.children[key] = journey.child_id
    world.tasks["first_visit"] = overdue.expect("first_visit").id
    world.tasks["first_review"] = overdue.expect("first_review").id
    with world.database.transaction() as session:
        world.users.update({u.username: u.id for u in session.scalars(select(UserAccount))})
    return world
