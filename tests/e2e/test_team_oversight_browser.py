"""In a real browser: a team leader goes from the overview to a worker's tasks on "My team's
work", opens one and gives it to another worker with a reason (refused first without one,
nothing lost); the new holder finds it in their work with a notification saying why, and
the child's history keeps the reason. axe-core checks every page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine import work_items
from engine.models import UserAccount

from .steps import sign_in

pytestmark = pytest.mark.browser

REASON = "Sam is on annual leave until the 20th"
TASK = "Send referral for legal advice"


def test_team_leader_reassigns_a_workers_task_with_a_reason(live_world, page, axe, artifacts):
    world = live_world
    with world.database.transaction() as session:  # Sam Wilson holds the north referral
        work_items.claim(session, world.tasks["north"],
                         session.get(UserAccount, world.users["sw.north"]))
    base = world.base_url
    sign_in(page, axe, base, "tl.north")
    page.goto(f"{base}/overview")
    expect(page).to_have_title("Overview: Children and Families North – PACE Flow")
    axe.check(page)

    page.get_by_role("link", name=re.compile(r"^Sam Wilson\s*: their tasks$")).click()
    expect(page).to_have_title("My team's work: Sam Wilson – PACE Flow")
    expect(page.get_by_role("combobox", name="Worker")).to_have_value(str(world.users["sw.north"]))
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Sam Wilson")
    axe.check(page)
    page.screenshot(path=str(artifacts / "team-work.png"), full_page=True)

    # the whole team's work, filtered by status through the page's own form
    page.get_by_role("combobox", name="Worker").select_option("")
    page.get_by_role("combobox", name="Status").select_option("overdue")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_title("My team's work – PACE Flow")
    expect(page.get_by_text("No open tasks match the filters.")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="Clear filters").click()
    expect(page.locator("tbody tr")).to_have_count(2)  # Sam's referral and the legal opinion

    page.get_by_role("link", name=f"{TASK} for North Child 1").click()
    expect(page).to_have_title(f"{TASK} for North Child 1 – PACE Flow")
    axe.check(page)
    page.get_by_label("Give this task to").select_option(label="Priya Shah")
    page.get_by_role("button", name="Reassign").click()
    # no reason: refused, saying what to do, with Priya still chosen
    expect(page.get_by_role("alert")).to_contain_text("Give a reason for moving the task")
    expect(page.get_by_label("Give this task to")).to_have_value(str(world.users["sw2.north"]))
    axe.check(page)
    page.get_by_label("Why are you moving it?").fill(REASON)
    page.get_by_role("button", name="Reassign").click()
    expect(page.get_by_text(f"“{TASK}” is now with Priya Shah.")).to_be_visible()
    axe.check(page)

    page.get_by_role("link", name="North Child 1 (N0001)").click()
    expect(page).to_have_title("North Child 1 (N0001) – PACE Flow")
    expect(page.locator("body")).to_contain_text(f"{TASK} to Priya Shah. Reason: {REASON}")
    axe.check(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, axe, base, "sw2.north")
    page.goto(f"{base}/my-work")
    expect(page).to_have_title("My work – PACE Flow")
    expect(page.get_by_role("link", name=f"{TASK} for North Child 1")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="Notifications 1 unread").click()
    expect(page).to_have_title("Notifications – PACE Flow")
    expect(page.locator("body")).to_contain_text(f"Tom Lees gave you “{TASK}” for child N0001")
    expect(page.locator("body")).to_contain_text(f"Reason: {REASON}")
    axe.check(page)
    page.screenshot(path=str(artifacts / "reassigned-notification.png"), full_page=True)
