"""Moving children to a new version after a preview, in a real browser with axe-core on
every page (issue 26 item 7).

A process owner uploads a version whose legal referral falls due a week earlier, confirms
and deploys it, sees on the move page each child's due date before → after, is stopped
until they confirm they have checked the list, moves one child; the social worker then sees
the new due date on that child's page.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from engine.models import WorkItem
from engine.registry import ModelBundle
from workflows.engine_config import BPMN_DIR

from .steps import sign_in

pytestmark = pytest.mark.browser
PJ = "permanence_journey"
OLD_RULE = 'value="PERM_RECOMMENDATION_PLANNED-2w | LA_START+30w-2w"'
NEW_RULE = 'value="PERM_RECOMMENDATION_PLANNED-3w | LA_START+30w-3w"'
REFERRAL = "Send referral for legal advice"


def day(value) -> str:
    return f"{value.day} {value:%b %Y}"


def earlier_referral_zip() -> bytes:
    bundle = ModelBundle.from_directory(BPMN_DIR / PJ)
    assert bundle.bpmn_xml.count(OLD_RULE) == 1
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{PJ}.bpmn", bundle.bpmn_xml.replace(OLD_RULE, NEW_RULE))
        for name, text in bundle.forms.items():
            archive.writestr(f"forms/{name}", text)
    return out.getvalue()


def test_owner_previews_due_date_changes_confirms_and_moves_a_child(live_world, browser, page,
                                                                    axe, artifacts):
    base, db = live_world.base_url, live_world.database
    with db.transaction() as session:
        north = session.get(WorkItem, live_world.tasks["north"]).due_date
        south = session.get(WorkItem, live_world.tasks["south"]).due_date
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    sign_in(page, axe, base, "owner")
    page.goto(f"{base}/models/{PJ}/upload")
    expect(page).to_have_title(re.compile("Upload"))
    axe.check(page)
    page.get_by_label("Diagram and forms").set_input_files(
        files=[{"name": f"{PJ}.zip", "mimeType": "application/zip",
                "buffer": earlier_referral_zip()}])
    page.get_by_role("button", name="Upload as a draft").click()
    expect(page).to_have_title(re.compile(r"^Draft \d+ of Permanence journey"))
    expect(page.get_by_text("No problems found")).to_be_visible()
    axe.check(page)

    # Deploying without confirming is refused, with the reason kept.
    page.get_by_label("Why is this version being deployed?").fill("Legal referral a week earlier")
    page.get_by_role("button", name="Deploy as version 2").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Tick the box to confirm you have checked what changes")
    expect(page.get_by_label("Why is this version being deployed?")).to_have_value(
        "Legal referral a week earlier")
    axe.check(page)
    page.get_by_label("I have checked what changes").check()
    page.get_by_role("button", name="Deploy as version 2").click()
    expect(page).to_have_title("Permanence journey version 2 – PACE Flow")
    page.get_by_role("link", name="Move running children to version 2").click()

    # The preview: every child's due date before → after.
    expect(page).to_have_title("Move children to Permanence journey version 2 – PACE Flow")
    table = page.locator("#candidates")
    expect(table).to_contain_text("3 children on other versions, 3 can move")
    expect(page.locator("#child-N0001")).to_contain_text(
        f"{REFERRAL}: due {day(north)} → {day(north - timedelta(weeks=1))}")
    expect(page.locator("#child-S0001")).to_contain_text(
        f"{REFERRAL}: due {day(south)} → {day(south - timedelta(weeks=1))}")
    expect(page.locator("#child-N0002")).to_contain_text("No due date changes")
    expect(page.get_by_role("link", name="Download this preview as a spreadsheet (CSV)")).to_be_visible()
    axe.check(page)
    page.screenshot(path=str(artifacts / "migration-preview.png"), full_page=True)

    # Moving without confirming is refused, the child chosen stays chosen.
    page.get_by_label("Move N0001").check()
    page.get_by_role("button", name="Move the children selected").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Tick the box to confirm you have checked the children listed")
    expect(page.get_by_label("Move N0001")).to_be_checked()
    axe.check(page)
    page.get_by_label("I have checked the children listed and how their due dates change").check()
    page.get_by_role("button", name="Move the children selected").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Moved to version 2: N0001")
    expect(table).to_contain_text("2 children on other versions, 2 can move")
    axe.check(page)

    # The social worker sees the new due date on the child's page.
    worker = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        tab = worker.new_page()
        sign_in(tab, axe, base, "sw.north")
        tab.goto(f"{base}/children/{live_world.children['north']}")
        row = tab.get_by_role("row").filter(has_text=REFERRAL)
        expect(row).to_contain_text(day(north - timedelta(weeks=1)))
        axe.check(tab)
        tab.screenshot(path=str(artifacts / "migration-preview-child.png"), full_page=True)
    finally:
        worker.close()
    with db.transaction() as session:
        assert session.get(WorkItem, live_world.tasks["north"]).due_date == north - timedelta(weeks=1)
        assert session.get(WorkItem, live_world.tasks["south"]).due_date == south
    assert not problems, problems
