"""Team leader and service manager overview: workload, overdue work, escalations."""
from __future__ import annotations

import re
from datetime import date, timedelta

from engine import clock, sweeper

from .conftest import post


def _workload(page: str) -> dict[str, tuple[int, int, int]]:
    """Worker -> (open, due this week, overdue) as the table shows them (each figure and name
    a link to the worker's tasks: the visible text only)."""
    section = page.split("Workload per worker")[1].split("</table>")[0]
    found = {}
    for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", section, re.S):
        cells = [re.sub(r"<[^>]+>", "", re.sub(r'<span class="govuk-visually-hidden">.*?</span>',
                                                "", cell)).strip()
                 for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if cells:
            found[cells[0]] = (int(cells[2]), int(cells[3]), int(cells[4]))
    return found


def test_workload_overdue_and_escalations(world, client_for):
    worker = client_for("sw.north")
    post(worker, f"/tasks/{world.tasks['north']}/claim")
    leader = client_for("tl.north")
    page = leader.get("/overview").get_data(as_text=True)
    assert "<title>Overview: Children and Families North – PACE Flow</title>" in page
    load = _workload(page)
    assert load["Sam Wilson"] == (1, 1, 0) and load["Priya Shah"] == (0, 0, 0)
    sam = world.users["sw.north"]  # each name and figure opens the worker's tasks
    assert f'href="/team-work?worker={sam}&amp;team=north">Sam Wilson<' in page
    assert f'href="/team-work?worker={sam}&amp;team=north&amp;status=this_week">1<' in page
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
