"""Team leader and service manager overview: workload, overdue work, escalations."""
from __future__ import annotations

import re
from datetime import date, timedelta

from engine import clock, sweeper

from .conftest import post


def _workload(page: str) -> dict[str, tuple[int, int, int]]:
    section = page.split("Workload per worker")[1].split("</table>")[0]
    rows = re.findall(r'<td class="govuk-table__cell">([^<]+)</td>\s*<td[^>]*>[^<]*</td>\s*'
                      r'<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(?:<strong[^>]*>)?(\d+)',
                      section)
    return {name: (int(o), int(w), int(d)) for name, o, w, d in rows}


def test_workload_overdue_and_escalations(world, client_for):
    worker = client_for("sw.north")
    post(worker, f"/tasks/{world.tasks['north']}/claim")
    leader = client_for("tl.north")
    page = leader.get("/overview").get_data(as_text=True)
    assert "<title>Overview: Children and Families North – PACE Flow</title>" in page
    load = _workload(page)
    assert load["Sam Wilson"] == (1, 1, 0) and load["Priya Shah"] == (0, 0, 0)
    assert "Tom Lees" in load and "Sara Walker" not in load  # south workers are not shown
    assert "No overdue tasks" in page and "No escalated tasks" in page

    later = date.today() + timedelta(days=30)  # past the referral's due date and its escalations
    clock.set_now(later)
    try:
        sweeper.sweep(world.database.factory, world.database.runtime)
        page = leader.get("/overview").get_data(as_text=True)
        manager = client_for("manager").get("/overview").get_data(as_text=True)
        south_only = client_for("manager").get("/overview?team=south").get_data(as_text=True)
    finally:
        clock.set_now(None)
    overdue = page.split("<h2 class=\"govuk-heading-m\">Overdue tasks</h2>")[1].split("</table>")[0]
    assert "North Child 1" in overdue and "Send referral for legal advice" in overdue
    assert "South Child 1" not in page
    escalations = page.split("Escalations</h2>")[1]
    assert "North Child 1" in escalations and "Service manager (level 2)" in escalations
    assert _workload(page)["Sam Wilson"] == (1, 0, 1)
    assert "South Child 1" in manager and "North Child 1" in manager
    assert "South Child 1" in south_only and "North Child 1" not in south_only
