"""Drive one English child through the real processes, where several tasks are open at once
(visits, review preparation, legal steps run side by side)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import Milestone, ProcessInstance, Subject, WorkItem
from tests.conftest import make_database
from workflows.children import england
from workflows.demo import england as england_demo

from .driver import Journey

ENTRY = {"legal_status": "s20", "category_of_need": "N1", "placement_type": "U6",
         "placement_provider": "PR1", "home_postcode": "LS1 4AB", "placement_postcode": "LS6 2CD"}
HEADER = {"sex": "F", "ethnicity": "WBRI", "mother": 0, "upn": "A123456789012"}


def england_database(request, tmp_path, backend: str, profiles: str = "england"):
    mp = pytest.MonkeyPatch()
    mp.setenv("PACE_PROFILES", profiles)
    request.addfinalizer(mp.undo)
    return make_database(backend, tmp_path, request)


class EnglandJourney(Journey):
    seed = 11
    mail = False

    def __init__(self, database, reference: str = "E00001", team: str = "east", **header):
        super().__init__(database, reference, team, **header)

    def register(self, session, reference: str, team: str, **header):
        england_demo.ensure_users(session, actor="test")
        name = header.pop("name", "Test Child")
        return england.register_child(session, reference, name, team, "test",
                                      date_of_birth=header.pop("dob", date(2015, 6, 1)),
                                      **(HEADER | header))

    def looked_after(self, la_start: date, **entry) -> "EnglandJourney":
        clock.set_now(la_start)
        with self.db.transaction() as session:
            child = session.get(Subject, self.child_id)
            england.become_looked_after(session, self.db.runtime, child,
                                        ENTRY | {"la_start": la_start} | entry, "test")
        return self

    # -- reading: several tasks are open at once --------------------------------------
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
        return {i.process_id: i for i in super().instances()}

    def milestone_rows(self, code: str) -> list[Milestone]:
        """Occurrences reached (not the planned next one)."""
        with self.db.transaction() as session:
            return list(session.scalars(select(Milestone).where(
                Milestone.subject_id == self.child_id, Milestone.code == code,
                Milestone.actual_date.is_not(None)).order_by(Milestone.occurrence)))

    def actuals(self, code: str) -> list[date]:
        return [a for _, a in self.milestones().get(code, []) if a]

    # -- acting -------------------------------------------------------------------------
    def open_item(self, task_name: str) -> WorkItem:
        return self.expect(task_name)

    def answers(self, schema: dict, on: date, answers: dict) -> dict:
        """Filled as the demo caseload fills forms; dates the test did not give: the day."""
        return england_demo.fill(schema, on, self.rng, answers)
