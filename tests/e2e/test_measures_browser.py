"""A service manager reads the demo caseload's measures in a real browser: the run chart is
drawn by Chart.js with its PDSA annotation, and axe-core finds no serious violation."""
from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.conftest import make_database
from tests.web.journeys import make_app
from workflows.demo import scotland as demo
from workflows.measures import pdsa

from .steps import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_site(request, tmp_path):
    database = make_database("sqlite", tmp_path, request)
    today = date.today()
    demo.build(database, children=24, seed=11, today=today)
    with database.transaction() as session:
        pdsa.record_cycle(session, pdsa.CycleInput(
            aim=2, change_idea="Two-week review", cycle_number=1,
            start_date=(today - timedelta(days=200)).replace(day=1)), "owner")
    app = make_app(database)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_run_chart_renders_with_its_annotations(demo_site, page, axe, artifacts):
    sign_in(page, axe, demo_site, "manager")
    page.goto(f"{demo_site}/measures")
    expect(page).to_have_title("Measures – PACE Flow")
    # The demo caseload's figures are on the dashboard: a percentage for every aim.
    results = page.locator("table.govuk-table tbody tr td:nth-child(3) strong:first-child")
    expect(results).to_have_count(3)
    for text in results.all_inner_texts():
        assert re.fullmatch(r"\d{1,3}%", text), text
    axe.check(page)
    page.get_by_role("link", name="Aim 2: permanence recommendation").click()
    expect(page).to_have_title("Aim 2: permanence recommendation – PACE Flow")
    chart = page.locator("canvas#run-chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    expect(chart).to_have_attribute("data-annotations", "1")
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    expect(page.get_by_test_id("annotations")).to_contain_text("PDSA: Two-week review (cycle 1)")
    expect(page.get_by_role("link", name="Download the chart (PNG)")).to_be_visible()
    axe.check(page)
    page.screenshot(path=str(artifacts / "measures-aim2.png"), full_page=True)
    # Stage delays are reached from the measures page's list, as a team manager would.
    page.goto(f"{demo_site}/measures")
    page.get_by_role("link", name="Stage delays: where drift happens").click()
    expect(page.get_by_role("heading", name="Stage delays")).to_be_visible()
    axe.check(page)

    # Time to decision: Kaplan–Meier curves drawn by Chart.js, one per diagram version.
    page.goto(f"{demo_site}/measures")
    page.get_by_role("link", name="Time to permanence decision, counting children still "
                                   "waiting").click()
    expect(page).to_have_title("Time to permanence decision – PACE Flow")
    survival = page.locator("canvas#survival-chart")
    expect(survival).to_have_attribute("data-rendered", "true")
    expect(survival).to_have_attribute("data-curves", "1")
    box = survival.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    expect(page.get_by_test_id("survival-summary")).to_contain_text("All children")
    axe.check(page)
    page.get_by_label("Compare").select_option("version")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("canvas#survival-chart")).to_have_attribute("data-rendered", "true")
    page.screenshot(path=str(artifacts / "measures-survival.png"), full_page=True)
    # The breach forecast for managers: team counts and children at risk.
    page.goto(f"{demo_site}/measures/forecast")
    expect(page.get_by_role("heading", name="Breach forecast")).to_be_visible()
    expect(page.get_by_test_id("forecast-teams")).to_be_visible()
    axe.check(page)
