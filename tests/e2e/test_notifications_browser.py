"""In a real browser: a worker sees the notification count, opens the list, follows the link
to the task, and the count goes; axe-core checks each page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine import work_items
from engine.models import UserAccount

from .steps import sign_in

pytestmark = pytest.mark.browser


def test_worker_follows_a_notification_to_the_task(live_world, page, axe, artifacts):
    world = live_world
    with world.database.transaction() as session:
        work_items.reassign(session, world.tasks["north"],
                            session.get(UserAccount, world.users["sw2.north"]),
                            session.get(UserAccount, world.users["tl.north"]))
    base = world.base_url
    sign_in(page, axe, base, "sw2.north")
    expect(page).to_have_title("My work – PACE Flow")
    header_link = page.get_by_role("link", name="Notifications 1 unread")
    expect(header_link).to_be_visible()
    expect(page.locator("#notifications-count")).to_have_text("1")

    header_link.click()
    expect(page).to_have_title("Notifications – PACE Flow")
    expect(page.get_by_text("You have 1 unread notification.")).to_be_visible()
    axe.check(page)
    page.screenshot(path=str(artifacts / "notifications.png"), full_page=True)

    page.get_by_role("link", name="Assigned to you: Send referral for legal advice for child N0001").click()
    expect(page).to_have_title("Send referral for legal advice for North Child 1 – PACE Flow")
    expect(page).to_have_url(f"{base}/tasks/{world.tasks['north']}")
    expect(page.locator("#notifications-count")).to_have_count(0)  # opening the task read it
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()

    page.get_by_role("link", name="Notifications", exact=True).click()
    page.get_by_role("link", name="Choose which e-mails you get").click()
    expect(page).to_have_title("E-mail choices – PACE Flow")
    axe.check(page)
    page.screenshot(path=str(artifacts / "notification-preferences.png"), full_page=True)
    page.get_by_role("group", name="An overdue task is escalated to you").get_by_label(
        "In the daily e-mail").check()
    page.get_by_role("button", name="Save choices").click()
    expect(page.get_by_role("alert")).to_contain_text("Your e-mail choices are saved.")
    expect(page.get_by_role("group", name="An overdue task is escalated to you").get_by_label(
        "In the daily e-mail")).to_be_checked()
