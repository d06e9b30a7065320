"""A run chart true to time, in a real browser: a month with no children due is a gap in
the line (months are spaced as the calendar is), the data table under the chart lists each
month's children counted and marks a month resting on fewer than 5, and axe-core finds no
violation on the page."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.models import ProcessModel
from tests.conftest import make_database
from tests.web.journeys import make_app
from tests.web.measures_site import _child
from workflows.demo import scotland as demo
from workflows.vocabulary import PERMANENCE

from .steps import sign_in

pytestmark = pytest.mark.browser

# Aim 2's deadline is 30 weeks after accommodation: children accommodated in these months
# have deadlines in January to March and June 2025; April and May have none (the gap).
# month of accommodation -> children (every one recommended on time)
COHORTS = {date(2024, 6, 10): 6, date(2024, 7, 10): 3, date(2024, 8, 10): 6,
           date(2024, 11, 10): 6}
ON = date(2026, 1, 15)


@pytest.fixture
def site(request, tmp_path):
    database = make_database("sqlite", tmp_path, request)
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
        model = session.scalars(select(ProcessModel).where(
            ProcessModel.process_id == PERMANENCE)).first()
        for accommodated, children in COHORTS.items():
            for n in range(children):
                _child(session, model, f"G{accommodated:%m}{n}", "north", [
                    ("LA_START", accommodated, {}),
                    ("PERM_RECOMMENDATION", accommodated + timedelta(weeks=20),
                     {"route": "adoption"})])
    server = make_server("127.0.0.1", 0, make_app(database), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_a_missing_month_is_a_gap_and_the_table_gives_each_denominator(site, page, axe):
    sign_in(page, axe, site, "manager")
    page.goto(f"{site}/measures/aims/2?on={ON.isoformat()}")
    chart = page.locator("canvas#run-chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    expect(chart).to_have_attribute("data-months", "6")  # January to June 2025
    expect(chart).to_have_attribute("data-gaps", "2")    # April and May
    # the line is broken at the gap: Chart.js skips the null points (spanGaps off)
    skipped = page.evaluate("""() => {
        const chart = Chart.getChart(document.getElementById('run-chart'))
        return chart.getDatasetMeta(0).data.map((p) => p.skip)
    }""")
    assert skipped == [False, False, False, True, True, False]
    table = page.locator("#run-chart-table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(6)
    expected = [("January 2025", "6", ""), ("February 2025", "3", "Fewer than 5 children"),
                ("March 2025", "6", ""), ("April 2025", "0", "No children due this month"),
                ("May 2025", "0", "No children due this month"), ("June 2025", "6", "")]
    for row, (month, denominator, note) in zip(rows.all(), expected):
        expect(row.locator("th")).to_have_text(month)
        expect(row.locator("td").nth(2)).to_have_text(denominator)
        if note:
            expect(row.locator("td").nth(3)).to_contain_text(note)
    axe.check(page)
