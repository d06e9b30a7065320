"""At a phone's width (390 × 844 CSS pixels) the queue, the child page and a task form fit
the screen (no sideways scrolling) and a task can be claimed and completed there, with
axe-core on every page. Tables stack their rows at this width (web/assets/app.scss,
app-table--stack)."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from .steps import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, bypass_csp=True, is_mobile=True,
                                  has_touch=True, device_scale_factor=3)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def assert_fits(page, axe) -> None:
    """Nothing wider than the screen: the page does not scroll sideways."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, "
                           "document.documentElement.clientWidth]")
    assert widths[1] == PHONE["width"], widths  # the page is laid out for the phone
    assert widths[0] <= widths[1], f"{page.title()} is {widths[0]} px wide on a {widths[1]} px screen"
    axe.check(page)


def test_a_worker_completes_a_task_on_a_phone(live_world, phone, axe, artifacts):
    page, base = phone, live_world.base_url
    sign_in(page, axe, base, "sw.north")
    expect(page).to_have_title("My work – PACE Flow")
    assert_fits(page, axe)

    page.get_by_role("button", name="Menu").click()  # the menu folds away on a phone
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Team queue").click()
    expect(page).to_have_title("Team queue – PACE Flow")
    assert_fits(page, axe)
    page.screenshot(path=str(artifacts / "phone-team-queue.png"), full_page=True)
    row = page.get_by_role("row", name=re.compile("North Child 1"))
    expect(row).to_contain_text("Due in 7 days")

    page.get_by_role("link", name="North Child 1").first.click()
    expect(page).to_have_title("North Child 1 (N0001) – PACE Flow")
    assert_fits(page, axe)
    page.screenshot(path=str(artifacts / "phone-child.png"), full_page=True)
    page.go_back()

    claim = page.get_by_role("button", name="Claim Send referral for legal advice for North Child 1")
    box = claim.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # all of it on screen
    claim.click()
    expect(page).to_have_title("Send referral for legal advice for North Child 1 – PACE Flow")
    assert_fits(page, axe)

    sent = date.today()
    dates = page.get_by_role("group", name="Date referral sent")
    dates.get_by_label("Day").fill(str(sent.day))
    dates.get_by_label("Month").fill(str(sent.month))
    dates.get_by_label("Year").fill(str(sent.year))
    page.get_by_label("Questions for legal services").fill("Do the grounds for a permanence order apply?")
    page.get_by_label("Adoption").check()
    assert_fits(page, axe)
    page.screenshot(path=str(artifacts / "phone-task.png"), full_page=True)
    page.get_by_role("button", name="Complete task").click()

    expect(page).to_have_title("My work – PACE Flow")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Send referral for legal advice completed for North Child 1")
    assert_fits(page, axe)
