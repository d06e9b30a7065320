"""What was recorded, read in a real browser (axe-core on every page):

legal services open an unclaimed legal-advice task and read, before claiming it, who the
child is, where the journey stands and the referral's answers; they claim it and give the
advice; the child's social worker then reads that advice on the child's page, in the form's
words (the choice's title, the date written out), newest first.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.journeys import child_at
from workflows.children.recorded_answers import long_date

from .steps import sign_in

pytestmark = pytest.mark.browser


def test_a_legal_answer_is_readable_by_the_social_worker(live_world, page, axe, artifacts):
    world, base = live_world, live_world.base_url
    child_id, _item = child_at(world.database, "R0002", "north", "legal_opinion",
                               date.today() - timedelta(weeks=60), name="Robin Record")
    with world.database.transaction() as session:
        questions = session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == child_id, AuditEvent.event_type == "task_completed")
            .order_by(AuditEvent.chain_seq.desc())).first().data["answers"]["questions"]

    sign_in(page, axe, base, "legal")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Team queue").click()
    expect(page).to_have_title("Team queue – PACE Flow")
    page.get_by_role("link", name="Give legal advice for Robin Record").click()
    expect(page).to_have_title("Give legal advice for Robin Record – PACE Flow")
    expect(page.get_by_role("button", name="Claim task")).to_be_visible()  # not claimed yet
    about = page.get_by_role("heading", name="About the child")
    expect(about).to_be_visible()
    expect(page.get_by_text("Children and Families North")).to_be_visible()
    referral = page.locator("details").filter(has_text="Send referral for legal advice")
    referral.get_by_text("Send referral for legal advice").click()  # unfold the step
    expect(referral.get_by_text("Questions for legal services")).to_be_visible()
    expect(referral.get_by_text(questions)).to_be_visible()
    axe.check(page)
    page.screenshot(path=str(artifacts / "task-previous-steps.png"), full_page=True)

    page.get_by_role("button", name="Claim task").click()
    expect(page.get_by_role("alert")).to_contain_text("You have claimed")
    today = date.today()
    dates = page.get_by_role("group", name="Date advice given")
    dates.get_by_label("Day").fill(str(today.day))
    dates.get_by_label("Month").fill(str(today.month))
    dates.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Solicitor").fill("Lewis Gray")
    page.get_by_label("More evidence needed").check()
    page.get_by_label("Advice").fill("Ask the school for its report before the review.")
    page.get_by_role("button", name="Complete task").click()
    expect(page.get_by_role("alert")).to_contain_text("Give legal advice completed")
    axe.check(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, axe, base, "sw.north")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Children").click()
    page.get_by_role("link", name="Robin Record").click()
    expect(page).to_have_title("Robin Record (R0002) – PACE Flow")
    expect(page.get_by_role("heading", name="What was recorded")).to_be_visible()
    steps = page.locator("details.app-record-step")
    expect(steps.first).to_contain_text("Give legal advice")  # newest first
    steps.first.get_by_text("Give legal advice").click()
    advice = steps.first
    expect(advice.get_by_text("Completed by Lewis Gray")).to_be_visible()
    expect(advice.get_by_text("More evidence needed")).to_be_visible()
    expect(advice.get_by_text(long_date(today), exact=True)).to_be_visible()
    expect(advice.get_by_text("Ask the school for its report before the review.")).to_be_visible()
    expect(page.get_by_text("more_needed")).to_have_count(0)
    axe.check(page)
    page.screenshot(path=str(artifacts / "child-recorded-steps.png"), full_page=True)
    print("axe moderate/minor findings:", axe.minor)
