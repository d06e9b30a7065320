"""Drive one child through a real process on a real database, step by step."""
from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from engine import clock, sweeper
from engine.models import AuditEvent, Milestone, ProcessInstance, WorkItem
from workflows import accounts
from workflows.children import records as children
from workflows import sample_answers
from workflows.demo import scotland as demo


class Journey:
    """A Scottish child; subclasses register a child of another profile (``register``) and
    fill forms their own way (``answers``)."""
    seed = 7
    mail = True  # sweeps also send mail (a no-op unless a test configures SMTP)

    def __init__(self, database, reference: str = "C00001", team: str = "north", **details):
        self.db = database
        self.rng = random.Random(self.seed)
        with database.transaction() as session:
            self.child_id = self.register(session, reference, team, **details).id

    def register(self, session, reference: str, team: str, **details):
        demo.ensure_users(session, actor="test")
        return children.register_child(session, reference, "Test Child", team, "test", **details)

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

    def events(self, event_type: str) -> list[AuditEvent]:
        with self.db.transaction() as session:
            return list(session.scalars(select(AuditEvent).where(
                AuditEvent.subject_id == self.child_id, AuditEvent.event_type == event_type)
                .order_by(AuditEvent.id)))

    # -- acting ---------------------------------------------------------------------
    def open_item(self, task_name: str) -> WorkItem:
        return next(i for i in self.open_items() if i.task_name == task_name)

    def answers(self, schema: dict, on: date, answers: dict) -> dict:
        """The form filled around the test's answers (a string answer is a weighted choice)."""
        data = sample_answers.fill(schema, on, self.rng, {k: {v: 1} for k, v in answers.items()
                                                        if isinstance(v, str)})
        data.update({k: (v.isoformat() if isinstance(v, date) else v) for k, v in answers.items()})
        return data

    def complete(self, task_name: str, on: date, **answers) -> "Journey":
        item = self.open_item(task_name)
        clock.set_now(on)
        with self.db.transaction() as session:
            instance = session.get(ProcessInstance, item.instance_id)
            schema, _ = self.db.runtime.form_for(instance, task_name)
            data = self.answers(schema, on, answers)
            self.db.runtime.complete(session, item.id, data, self._user_for(session, item))
        return self

    def _user_for(self, session, item):
        for user in session.scalars(select(accounts.UserAccount).order_by(accounts.UserAccount.id)):
            if item.role in user.roles and user.team in (item.team, None):
                return user
        raise AssertionError(f"no demo user with role {item.role}")

    def sweep(self, on: date):
        clock.set_now(on)
        return sweeper.sweep(self.db.factory, self.db.runtime, mail=self.mail)
