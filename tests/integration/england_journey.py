"""Drive one English child through the real processes, where several tasks are open at once
(visits, review preparation, legal steps run side by side)."""
from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import select

from engine import clock, timers
from engine.models import AuditEvent, Milestone, ProcessInstance, Subject, WorkItem
from tests.conftest import BACKENDS, make_database
from workflows import accounts, england, england_demo, form_filler

ENTRY = {"legal_status": "s20", "category_of_need": "N1", "placement_type": "U6",
         "placement_provider": "PR1", "home_postcode": "LS1 4AB", "placement_postcode": "LS6 2CD"}


def england_database(request, tmp_path, backend: str, profiles: str = "england"):
    mp = pytest.MonkeyPatch()
    mp.setenv("PACE_PROFILES", profiles)
    request.addfinalizer(mp.undo)
    return make_database(backend, tmp_path, request)


@pytest.fixture(params=BACKENDS)
def eng_db(request, tmp_path):
    """A database with the English profile deployed (SQLite and PostgreSQL)."""
    return england_database(request, tmp_path, request.param)


class EnglandJourney:
    def __init__(self, database, reference: str = "E00001", team: str = "east", **header):
        self.db = database
        self.rng = random.Random(11)
        with database.transaction() as session:
            england_demo.ensure_users(session, actor="test")
            child = england.register_child(session, reference, "Test Child", team, "test",
                                           date_of_birth=header.pop("dob", date(2015, 6, 1)),
                                           **({"sex": "F", "ethnicity": "WBRI", "mother": 0, "upn": "A123456789012"} | header))
            self.child_id = child.id

    def looked_after(self, la_start: date, **entry) -> "EnglandJourney":
        clock.set_now(la_start)
        with self.db.transaction() as session:
            child = session.get(Subject, self.child_id)
            england.become_looked_after(session, self.db.runtime, child,
                                        ENTRY | {"la_start": la_start} | entry, "test")
        return self

    # -- reading --------------------------------------------------------------------
    def open_items(self) -> list[WorkItem]:
        with self.db.transaction() as session:
            return list(session.scalars(select(WorkItem).where(
                WorkItem.subject_id == self.child_id, WorkItem.status.in_(("ready", "claimed")))
                .order_by(WorkItem.id)))

    def open_names(self) -> set[str]:
        return {i.task_name for i in self.open_items()}

    def expect(self, task_name: str, role: str | None = None, due: date | None = None) -> WorkItem:
        items = [i for i in self.open_items() if i.task_name == task_name]
        assert len(items) == 1, f"expected {task_name} open once, open: {sorted(self.open_names())}"
        item = items[0]
        if role is not None:
            assert item.role == role, f"{task_name} is in the {item.role} queue, expected {role}"
        if due is not None:
            assert item.due_date == due, f"{task_name} due {item.due_date}, expected {due}"
        return item

    def expect_open(self, *names: str) -> None:
        assert self.open_names() == set(names), f"open: {sorted(self.open_names())}"

    def instances(self) -> dict[str, ProcessInstance]:
        with self.db.transaction() as session:
            return {i.process_id: i for i in session.scalars(select(ProcessInstance).where(
                ProcessInstance.subject_id == self.child_id).order_by(ProcessInstance.id))}

    def milestones(self) -> dict[str, list[tuple[date | None, date | None]]]:
        found: dict[str, list] = {}
        with self.db.transaction() as session:
            for m in session.scalars(select(Milestone).where(Milestone.subject_id == self.child_id)
                                     .order_by(Milestone.code, Milestone.occurrence)):
                found.setdefault(m.code, []).append((m.planned_date, m.actual_date))
        return found

    def milestone_rows(self, code: str) -> list[Milestone]:
        """Occurrences reached (not the planned next one)."""
        with self.db.transaction() as session:
            return list(session.scalars(select(Milestone).where(
                Milestone.subject_id == self.child_id, Milestone.code == code,
                Milestone.actual_date.is_not(None)).order_by(Milestone.occurrence)))

    def actuals(self, code: str) -> list[date]:
        return [a for _, a in self.milestones().get(code, []) if a]

    def events(self, event_type: str) -> list[AuditEvent]:
        with self.db.transaction() as session:
            return list(session.scalars(select(AuditEvent).where(
                AuditEvent.subject_id == self.child_id, AuditEvent.event_type == event_type)
                .order_by(AuditEvent.id)))

    # -- acting ---------------------------------------------------------------------
    def complete(self, task_name: str, on: date, **answers) -> "EnglandJourney":
        item = self.expect(task_name)
        clock.set_now(on)
        with self.db.transaction() as session:
            instance = session.get(ProcessInstance, item.instance_id)
            schema, _ = self.db.runtime.form_for(instance, task_name)
            weights = {k: {v: 1} for k, v in answers.items() if isinstance(v, str)}
            data = form_filler.fill(schema, on, self.rng, weights)
            data.update({k: (v.isoformat() if isinstance(v, date) else v) for k, v in answers.items()})
            for name, prop in schema.get("properties", {}).items():
                if prop.get("format") == "date" and name in data and name not in answers:
                    data[name] = on.isoformat()  # dates the test did not give: the day itself
            self.db.runtime.complete(session, item.id, data, self._user_for(session, item))
        return self

    def _user_for(self, session, item):
        for user in session.scalars(select(accounts.UserAccount).order_by(accounts.UserAccount.id)):
            if item.role in user.roles and user.team in (item.team, None):
                return user
        raise AssertionError(f"no demo user with role {item.role}")

    def sweep(self, on: date):
        clock.set_now(on)
        return timers.sweep(self.db.factory, self.db.runtime, mail=False)
