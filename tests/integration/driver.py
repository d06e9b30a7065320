"""Drive one child through a real process on a real database, step by step."""
from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from engine import clock, timers
from engine.models import Milestone, ProcessInstance, WorkItem
from workflows import accounts, children, demo, form_filler


class Journey:
    def __init__(self, database, reference: str = "C00001", team: str = "north"):
        self.db = database
        self.rng = random.Random(7)
        with database.transaction() as session:
            demo.ensure_users(session, actor="test")
            self.child_id = children.register_child(session, reference, "Test Child", team, "test").id

    # -- starting -------------------------------------------------------------------
    def accommodate(self, la_start: date) -> "Journey":
        clock.set_now(la_start)
        with self.db.transaction() as session:
            child = session.get(children.Subject, self.child_id)
            children.accommodate(session, self.db.runtime, child, la_start, "test")
        return self

    def place_on_cso(self, cso_start: date) -> "Journey":
        clock.set_now(cso_start)
        with self.db.transaction() as session:
            child = session.get(children.Subject, self.child_id)
            children.place_on_cso_at_home(session, self.db.runtime, child, cso_start, "test")
        return self

    # -- reading --------------------------------------------------------------------
    def open_items(self) -> list[WorkItem]:
        with self.db.transaction() as session:
            return list(session.scalars(select(WorkItem).where(
                WorkItem.subject_id == self.child_id, WorkItem.status.in_(("ready", "claimed")))
                .order_by(WorkItem.id)))

    def expect(self, task_name: str, role: str, due: date | None = None) -> WorkItem:
        items = self.open_items()
        assert [i.task_name for i in items] == [task_name], \
            f"expected only {task_name} open, found {[i.task_name for i in items]}"
        item = items[0]
        assert item.role == role, f"{task_name} is in the {item.role} queue, expected {role}"
        if due is not None:
            assert item.due_date == due, f"{task_name} due {item.due_date}, expected {due}"
        return item

    def expect_nothing_open(self) -> None:
        assert self.open_items() == []

    def instances(self) -> list[ProcessInstance]:
        with self.db.transaction() as session:
            return list(session.scalars(select(ProcessInstance).where(
                ProcessInstance.subject_id == self.child_id).order_by(ProcessInstance.id)))

    def milestones(self) -> dict[str, list[tuple[date | None, date | None]]]:
        found: dict[str, list] = {}
        with self.db.transaction() as session:
            for m in session.scalars(select(Milestone).where(Milestone.subject_id == self.child_id)
                                     .order_by(Milestone.code, Milestone.occurrence)):
                found.setdefault(m.code, []).append((m.planned_date, m.actual_date))
        return found

    # -- acting ---------------------------------------------------------------------
    def complete(self, task_name: str, on: date, **answers) -> "Journey":
        item = next(i for i in self.open_items() if i.task_name == task_name)
        clock.set_now(on)
        with self.db.transaction() as session:
            instance = session.get(ProcessInstance, item.instance_id)
            schema, _ = self.db.runtime.form_for(instance, task_name)
            data = form_filler.fill(schema, on, self.rng, {k: {v: 1} for k, v in answers.items()
                                                            if isinstance(v, str)})
            data.update({k: (v.isoformat() if isinstance(v, date) else v) for k, v in answers.items()})
            user = self._user_for(session, item)
            self.db.runtime.complete(session, item.id, data, user)
        return self

    def _user_for(self, session, item):
        for user in session.scalars(select(accounts.UserAccount)):
            if item.role in user.roles and user.team in (item.team, None):
                return user
        raise AssertionError(f"no demo user with role {item.role}")

    def sweep(self, on: date):
        clock.set_now(on)
        return timers.sweep(self.db.factory, self.db.runtime)
