"""The child's page: details, current stage, open tasks, milestones, journey so far."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from engine.models import AuditEvent

from .conftest import cached_client


def test_child_page_shows_the_journey(shared_world):
    client = cached_client(shared_world, "sw.north")
    response = client.get(f"/children/{shared_world.children['north']}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>North Child 1 (N0001) – PACE Flow</title>" in page
    la_start = date.today() - timedelta(weeks=27)
    born = la_start - timedelta(days=2000)
    # Details
    assert "Children and Families North" in page and "Not allocated" in page
    assert f"{born.day} {born:%b %Y}" in page
    # Current stage: the latest milestone reached and what is open now
    assert "Permanence journey" in page
    assert "Interim review," in page and "Send referral for legal advice" in page
    # Upcoming and overdue tasks
    assert re.search(r'govuk-tag--(yellow|orange) app-due">Due (today|tomorrow|in \d days)<', page)
    assert "Not claimed" in page and "Upcoming" not in page.replace("Upcoming and overdue", "")
    # Milestones: planned against actual
    planning_due = la_start + timedelta(days=3)
    assert "<td class=\"govuk-table__cell\">Planning meeting</td>" in page
    assert f"{planning_due.day} {planning_due:%b %Y}" in page and "By its planned date" in page
    assert "Referral for legal advice" in page and "Planned" in page
    # Journey so far
    for text in ("Child registered", "Process started", "Task completed", "Hold planning meeting",
                 "Hold interim review"):
        assert text in page, text


def test_children_list_is_scoped_and_searchable(shared_world):
    north = cached_client(shared_world, "sw.north").get("/children").get_data(as_text=True)
    assert "North Child 1" in north and "North Child 2" in north and "South Child" not in north
    chair = cached_client(shared_world, "chair")
    everyone = chair.get("/children").get_data(as_text=True)
    assert "North Child 1" in everyone and "South Child 1" in everyone
    found = chair.get("/children?q=s0001").get_data(as_text=True)
    assert "South Child 1" in found and "North Child 1" not in found


def test_an_auditors_reading_is_recorded(shared_world):
    auditor = cached_client(shared_world, "auditor")
    child = shared_world.children["south"]
    assert auditor.get(f"/children/{child}").status_code == 200
    with shared_world.database.transaction() as session:
        viewed = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "record_viewed", AuditEvent.subject_id == child)).all()
    assert [e.actor for e in viewed] == ["auditor"]
