"""The action minute in a real browser (issue 28, axe-core on every page): the independent
chair completes a CSO-at-home review; the child page lists the action minute made from it;
downloaded, the .docx (opened with python-docx) names the child, the review date in words
and the recommendation to the Children's Hearing; the print-friendly page shows the same.
"""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from docx import Document
from playwright.sync_api import expect

from engine import clock
from tests.integration.driver import Journey
from workflows.children.recorded_answers import long_date

from .steps import sign_in

pytestmark = pytest.mark.browser


class CsoChild(Journey):
    def register(self, session, reference: str, team: str, **details):
        child = super().register(session, reference, team, **details)
        child.display_name = "Kim Home"
        return child


def _at_the_review(world) -> None:
    """Kim Home: on a CSO at home for 17 months, the review scheduled by the team leader,
    so the chair's review is open."""
    today = date.today()
    day = today - relativedelta(months=17)
    kim = CsoChild(world.database, "C0001").place_on_cso(day)
    try:
        for _ in range(40):
            items = kim.open_items()
            if any(i.task_name == "hold_aim1_review" for i in items):
                return
            if items:
                kim.complete(items[0].task_name, max(day, items[0].created_at.date()))
            else:
                day = min(day + timedelta(days=14), today)
                kim.sweep(day)
        raise AssertionError("Kim's review never opened")
    finally:
        clock.set_now(None)


def _text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_the_chair_completes_the_review_and_the_action_minute_is_made(
        live_world, page, axe, artifacts):
    _at_the_review(live_world)
    base, held = live_world.base_url, date.today() - timedelta(days=1)
    sign_in(page, axe, base, "chair")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Team queue").click()
    page.get_by_role("button", name="Claim Hold Aim 1 review and write action minute for "
                                    "Kim Home").click()
    expect(page.get_by_role("alert")).to_contain_text("You have claimed")
    dates = page.get_by_role("group", name="Date of review")
    dates.get_by_label("Day").fill(str(held.day))
    dates.get_by_label("Month").fill(str(held.month))
    dates.get_by_label("Year").fill(str(held.year))
    page.get_by_label("Chair", exact=True).fill("A. Reid")
    page.get_by_role("group", name="Are the grounds for the order still relevant?") \
        .get_by_label("No").check()
    page.get_by_role("group", name="Has the family's situation changed?") \
        .get_by_label("Yes").check()
    page.get_by_role("group", name="Could the child and family be supported without an order?") \
        .get_by_label("Yes").check()
    page.get_by_label("Action minute").fill("Family support worker to continue weekly visits.")
    page.get_by_label("Terminate the CSO").check()
    page.get_by_label("Reasons for the recommendation").fill(
        "Kim is settled at home and the family accepts support without an order.")
    axe.check(page)
    page.get_by_role("button", name="Complete task").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Hold Aim 1 review and write action minute completed for Kim Home")

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Children").click()
    page.get_by_role("link", name="Kim Home").first.click()
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    axe.check(page)
    page.screenshot(path=str(artifacts / "child-documents.png"), full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Action Minute", exact=True).click()
    content = open(download_info.value.path(), "rb").read()
    text = _text(content)
    assert "Kim Home" in text
    assert long_date(held) in text  # "6 December 2026", never ISO
    assert "Recommendation to the Children's Hearing" in text
    assert "Terminate the CSO" in text and "Kim is settled at home" in text

    page.get_by_role("link", name="Read or print the action minute").click()
    expect(page.get_by_role("heading", name="Action Minute")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Terminate the CSO")
    expect(page.locator("main")).to_contain_text(long_date(held))
    axe.check(page)
    page.screenshot(path=str(artifacts / "action-minute-print.png"), full_page=True)
