"""A social worker's journey in a real browser, with axe-core on every page visited.

Sign in → team queue → claim the legal-advice referral → submit it wrong, see why → fix
it → complete it → the legal adviser finds the next task in the legal services queue.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from .steps import sign_in

pytestmark = pytest.mark.browser


def test_social_worker_completes_the_legal_referral(live_world, page, axe, artifacts):
    base = live_world.base_url
    sign_in(page, axe, base, "sw.north")
    expect(page).to_have_title("My work – PACE Flow")
    axe.check(page)

    # Keyboard: the first Tab reaches the skip link, and it leads to the main content.
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to main content")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Team queue").click()
    expect(page).to_have_title("Team queue – PACE Flow")
    axe.check(page)
    page.screenshot(path=str(artifacts / "team-queue.png"), full_page=True)
    claim = page.get_by_role("button", name="Claim Send referral for legal advice for North Child 1")
    claim.focus()
    page.keyboard.press("Enter")  # claimed with the keyboard

    expect(page).to_have_title("Send referral for legal advice for North Child 1 – PACE Flow")
    expect(page.get_by_role("alert")).to_contain_text("You have claimed")
    axe.check(page)
    page.screenshot(path=str(artifacts / "task-page.png"), full_page=True)

    # An invalid submit: an impossible date and no questions.
    dates = page.get_by_role("group", name="Date referral sent")
    dates.get_by_label("Day").fill("31")
    dates.get_by_label("Month").fill("2")
    dates.get_by_label("Year").fill("2026")
    page.get_by_label("Solicitor referred to (optional)").fill("Ms A. Law")
    page.get_by_role("button", name="Complete task").click()
    expect(page).to_have_title(re.compile(r"^Error: Send referral for legal advice"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Date referral sent must be a real date")
    expect(summary).to_contain_text("Enter questions for legal services")
    expect(page.locator("#f-questions-error")).to_contain_text("Enter questions for legal services")
    expect(page.get_by_label("Solicitor referred to (optional)")).to_have_value("Ms A. Law")
    axe.check(page)
    page.screenshot(path=str(artifacts / "task-page-errors.png"), full_page=True)

    # The error summary link moves focus to the field.
    summary.get_by_role("link", name="Enter questions for legal services").click()
    expect(page.get_by_label("Questions for legal services")).to_be_focused()
    page.keyboard.type("Do the grounds for a permanence order apply?")
    sent = date.today()
    dates.get_by_label("Day").fill(str(sent.day))
    dates.get_by_label("Month").fill(str(sent.month))
    dates.get_by_label("Year").fill(str(sent.year))
    page.get_by_label("Adoption").check()
    page.get_by_role("button", name="Complete task").click()

    expect(page).to_have_title("My work – PACE Flow")
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text("Send referral for legal advice completed for North Child 1")
    expect(banner).to_contain_text("Give legal advice (Legal services)")
    axe.check(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_title("Sign in – PACE Flow")
    sign_in(page, axe, base, "legal")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Team queue").click()
    expect(page).to_have_title("Team queue – PACE Flow")
    row = page.get_by_role("row").filter(has_text="North Child 1")
    expect(row).to_contain_text("Give legal advice")
    axe.check(page)

    row.get_by_role("link", name="North Child 1", exact=True).click()
    expect(page).to_have_title("North Child 1 (N0001) – PACE Flow")
    expect(page.get_by_role("heading", name="Journey so far")).to_be_visible()
    milestone = page.get_by_role("row", name=re.compile(r"^Referral for legal advice"))
    expect(milestone).to_contain_text(f"{sent.day} {sent:%b %Y}")
    axe.check(page)
    assert len(axe.pages) == 9
    print("axe moderate/minor findings:", axe.minor)
