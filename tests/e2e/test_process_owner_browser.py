"""A process owner's change in a real browser, with axe-core on every page visited.

Processes → the permanence journey → edit in the bpmn-js modeler → change the initial
review's due rule in the PACE properties panel → save and check → see the change listed and
coloured on the diagrams → deploy as version 2 with a reason and a PDSA cycle → dry run →
move one child. The test pages bypass the Content-Security-Policy so axe can be injected;
a second browser context without the bypass then opens the editor and both diagram pages
to show they work under the app's own policy (scripts from 'self' only, no inline script).
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.models import ProcessInstance, ProcessModel, WorkItem
from workflows.measures import pdsa
from workflows.demo.scotland import DEMO_PASSWORD

pytestmark = pytest.mark.browser
PJ = "permanence_journey"


def test_process_owner_changes_a_due_rule_deploys_and_moves_a_child(live_world, browser, page, axe,
                                                                 artifacts):
    base = live_world.base_url
    db = live_world.database
    with db.transaction() as session:
        pdsa.record_cycle(session, pdsa.CycleInput(
            aim=2, change_idea="Initial review within two weeks", cycle_number=1,
            start_date=date.today()), "owner")
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)

    page.goto(f"{base}/sign-in")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Processes").click()
    expect(page).to_have_title("Processes – PACE Flow")
    axe.check(page)

    page.get_by_role("link", name="Permanence journey").click()
    expect(page).to_have_title("Permanence journey: versions – PACE Flow")
    axe.check(page)
    page.get_by_role("button", name="Edit version 1 in the browser").click()

    # The modeler with the PACE properties panel.
    expect(page).to_have_title(re.compile(r"^Edit draft \d+ of Permanence journey"))
    expect(page.locator("#canvas[data-ready]")).to_be_attached()
    expect(page.locator("#canvas .djs-palette")).to_be_visible()
    axe.check(page)
    page.get_by_label("Element").select_option(label="Hold initial looked-after review: user task initial_lar")
    expect(page.locator("#canvas .djs-element.selected[data-element-id='initial_lar']")).to_be_attached()
    due = page.get_by_label("Due rule")
    expect(due).to_have_value("LA_START+3w")
    expect(page.get_by_label("Milestone")).to_have_value("INITIAL_LAR")
    due.fill("LA_START+2w")
    due.press("Tab")
    expect(page.get_by_role("status")).to_contain_text("Due rule set on Hold initial looked-after review")
    page.screenshot(path=str(artifacts / "process-owner-editor.png"), full_page=True)
    page.get_by_role("button", name="Save and check").click()

    expect(page).to_have_title(re.compile(r"^Draft \d+ of Permanence journey"))
    expect(page.get_by_text("No problems found")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="See what changes compared with version 1").click()

    expect(page).to_have_title(re.compile(r"^Changes in draft \d+"))
    rows = page.locator("#change-list tbody tr")
    expect(rows).to_have_count(1)  # the modeler's round trip changed nothing else
    expect(rows.first).to_contain_text("Hold initial looked-after review: due rule LA_START+3w → LA_START+2w")
    expect(page.locator("#draft-diagram[data-ready] .djs-element.app-diff--changed"
                        "[data-element-id='initial_lar']")).to_be_attached()
    expect(page.locator("#deployed-diagram")).to_have_count(0)  # shown only when steps are removed
    axe.check(page)
    page.screenshot(path=str(artifacts / "process-owner-changes.png"), full_page=True)
    page.get_by_role("link", name="Go on to deploy").click()

    page.get_by_label("Why is this version being deployed?").fill("PDSA cycle 1: initial review at two weeks")
    cycle = page.locator("#pdsa_cycle option", has_text="Aim 2: Initial review within two weeks")
    page.get_by_label("PDSA cycle this change tests (optional)").select_option(cycle.get_attribute("value"))
    page.get_by_label("I have checked what changes").check()
    page.get_by_role("button", name="Deploy as version 2").click()

    expect(page).to_have_title("Permanence journey version 2 – PACE Flow")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Version 2 deployed")
    expect(page.locator("#diagram[data-ready]")).to_be_attached()
    axe.check(page)
    page.get_by_role("link", name="Move running children to version 2").click()

    expect(page).to_have_title("Move children to Permanence journey version 2 – PACE Flow")
    table = page.locator("#candidates")
    expect(table).to_contain_text("3 children on other versions, 3 can move")
    axe.check(page)
    page.get_by_label("Move N0001").check()
    page.get_by_label("I have checked the children listed and how their due dates change").check()
    page.get_by_role("button", name="Move the children selected").click()

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Moved to version 2: N0001")
    expect(table).to_contain_text("2 children on other versions, 2 can move")
    axe.check(page)
    page.screenshot(path=str(artifacts / "process-owner-migrated.png"), full_page=True)

    page.get_by_role("link", name="Version 2").click()
    page.get_by_role("link", name="Permanence journey: all versions").click()
    version_row = page.get_by_role("row").filter(has_text="PDSA cycle 1: initial review at two weeks")
    expect(version_row).to_contain_text("Aim 2: Initial review within two weeks (cycle 1)")
    axe.check(page)

    with db.transaction() as session:
        v2 = session.scalars(select(ProcessModel).where(ProcessModel.process_id == PJ,
                                                        ProcessModel.version == 2)).one()
        assert 'name="due" value="LA_START+2w"' in v2.bpmn_xml
        assert v2.bpmn_xml.count("<spiffworkflow:property ") == \
            session.scalars(select(ProcessModel).where(ProcessModel.process_id == PJ,
                                                       ProcessModel.version == 1)).one() \
            .bpmn_xml.count("<spiffworkflow:property ")
        moved = session.get(ProcessInstance, session.get(WorkItem, live_world.tasks["north"]).instance_id)
        assert moved.model_id == v2.id
        assert session.get(WorkItem, live_world.tasks["north"]).status == "ready"
    assert not problems, problems
    assert len(axe.pages) == 9

    # The same pages under the real Content-Security-Policy: no violation, diagrams drawn.
    strict = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        tab = strict.new_page()
        tab.on("console", lambda message: problems.append(message.text)
               if message.type == "error" else None)
        tab.goto(f"{base}/sign-in")
        tab.get_by_label("Username").fill("owner")
        tab.get_by_label("Password").fill(DEMO_PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.goto(f"{base}/models/{PJ}/versions/2")
        expect(tab.locator("#diagram[data-ready]")).to_be_attached()
        tab.goto(f"{base}/models/{PJ}")
        tab.get_by_role("button", name="Edit version 2 in the browser").click()
        expect(tab.locator("#canvas[data-ready]")).to_be_attached()
        expect(tab.get_by_role("status")).to_have_text("Diagram loaded.")
    finally:
        strict.close()
    assert not problems, problems
    print("axe moderate/minor findings:", axe.minor)
