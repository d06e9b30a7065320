"""A social worker adds a newly accommodated child in Scotland in a real browser, axe-core on
every page: a start date in the future is refused with the entries kept, then the child is
added and the planning meeting waits in the team leader's queue."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from engine import clock

from .steps import sign_in

pytestmark = pytest.mark.browser


def _date(page, legend: str, day) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def test_social_worker_adds_an_accommodated_child(live_world, page, axe, artifacts):
    base = live_world.base_url
    sign_in(page, axe, base, "sw.north")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Children").click()
    page.get_by_role("button", name="Add a child").click()
    expect(page).to_have_title("Accommodate a child – PACE Flow")
    axe.check(page)

    page.get_by_label("Council reference").fill("N0300")
    page.get_by_label("Name", exact=True).fill("Rowan Reid")
    page.get_by_label("Looked after and accommodated (permanence journey)").check()
    today = clock.today()
    _date(page, "Start date", today + timedelta(days=2))
    page.get_by_role("button", name="Add the child").click()
    expect(page).to_have_title("Error: Accommodate a child – PACE Flow")
    expect(page.locator(".govuk-error-summary")).to_contain_text("future")
    expect(page.get_by_label("Council reference")).to_have_value("N0300")
    axe.check(page)

    _date(page, "Start date", today - timedelta(days=1))
    page.get_by_role("button", name="Add the child").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Rowan Reid (N0300) is added")
    expect(page).to_have_title("Rowan Reid (N0300) – PACE Flow")
    axe.check(page)
    page.screenshot(path=str(artifacts / "add-child.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, axe, base, "tl.north")
    page.goto(f"{base}/team-queue")
    expect(page.get_by_role("row", name="Rowan Reid")).to_contain_text("planning meeting")
