"""An administrator sets up a team and a person and deactivates a leaver in a real browser,
axe-core on every page (web/pages/people.py)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from workflows import accounts

from .steps import sign_in

pytestmark = pytest.mark.browser


def test_administrator_manages_teams_and_people(live_world, page, axe, artifacts):
    base = live_world.base_url
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, axe, base, "admin")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Teams and people").click()
    expect(page).to_have_title("People – PACE Flow")
    axe.check(page)

    page.get_by_role("navigation", name="Teams and people").get_by_role("link", name="Teams").click()
    expect(page).to_have_title("Teams – PACE Flow")
    axe.check(page)
    page.get_by_role("button", name="Add a team").click()
    page.get_by_label("Code").fill("East Side")
    page.get_by_label("Name", exact=True).fill("Children and Families East")
    page.get_by_role("button", name="Add the team").click()
    expect(page).to_have_title("Error: Add a team – PACE Flow")
    expect(page.locator(".govuk-error-summary")).to_contain_text("lower-case letters")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Children and Families East")
    axe.check(page)
    page.get_by_label("Code").fill("east")
    page.get_by_role("button", name="Add the team").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Team Children and Families East (east) is added")

    page.goto(f"{base}/people/new")
    expect(page).to_have_title("Add a person – PACE Flow")
    axe.check(page)
    page.get_by_label("Username").fill("jbloggs")
    page.get_by_label("Full name").fill("Jo Bloggs")
    page.get_by_label("Social worker", exact=True).check()
    page.get_by_label("Team", exact=True).select_option("east")
    page.get_by_label("With a password you give them").check()
    page.get_by_label("First password").fill("short")
    page.get_by_role("button", name="Add the person").click()
    expect(page).to_have_title("Error: Add a person – PACE Flow")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("at least 10 characters")
    expect(page.get_by_label("Full name")).to_have_value("Jo Bloggs")
    expect(page.get_by_label("Social worker", exact=True)).to_be_checked()
    axe.check(page)
    summary.get_by_role("link").first.click()  # the summary's link moves to the field
    expect(page.get_by_label("First password")).to_be_focused()
    page.get_by_label("First password").fill("a-long-password")
    page.get_by_role("button", name="Add the person").click()
    expect(page).to_have_title("Jo Bloggs – PACE Flow")
    axe.check(page)

    page.goto(f"{base}/people/sw.north")
    page.get_by_role("button", name="Deactivate").click()
    expect(page).to_have_title("Deactivate Sam Wilson – PACE Flow")
    axe.check(page)
    page.get_by_role("button", name="Deactivate Sam Wilson").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Sam Wilson is deactivated")

    page.goto(f"{base}/roles")
    expect(page).to_have_title("Who holds each role – PACE Flow")
    axe.check(page)
    page.screenshot(path=str(artifacts / "people-roles.png"), full_page=True)
    assert problems == []
    with live_world.database.transaction() as session:
        assert accounts.find_user(session, "jbloggs").team == "east"
        assert not accounts.find_user(session, "sw.north").active
