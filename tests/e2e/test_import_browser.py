"""An administrator brings a caseload in with a real browser, axe-core on every page.

Upload a file with one bad row → the report names the row, column and reason → import the
valid rows → the job page updates itself in place (a small script from 'self'; a <meta>
refresh would fail axe's WCAG 2.2.1 check) while the worker places the children batch by
batch → the result, with the rejected row to download.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.integration.caseload_example import EXAMPLE
from workflows.caseload import job_runner as caseload_job_runner

from .steps import sign_in

pytestmark = pytest.mark.browser


def test_administrator_uploads_checks_and_imports_a_caseload(live_world, page, axe, artifacts,
                                                             tmp_path, monkeypatch):
    monkeypatch.setattr(caseload_job_runner, "BATCH", 4)  # several batches, so progress shows
    base, db = live_world.base_url, live_world.database
    live_world.app.config["IMPORT_REFRESH_SECONDS"] = 1
    source = tmp_path / "caseload.csv"
    source.write_bytes(EXAMPLE.read_bytes() + b"EX099,Wrong Team,2018-01-01,east,,accommodated,"
                       + b"2026-10-01" + b"," * 19 + b"\r\n")
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    sign_in(page, axe, base, "admin")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Import").click()
    expect(page).to_have_title("Import a caseload – PACE Flow")
    axe.check(page)

    page.get_by_role("button", name="Check the file").click()  # nothing chosen
    expect(page).to_have_title("Error: Import a caseload – PACE Flow")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the caseload CSV file")
    axe.check(page)

    # From here on the browser must log no error (the 400 above is the page saying so).
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)
    page.get_by_label("Upload the caseload file").set_input_files(str(source))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Check the caseload file")).to_be_visible()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("1 row of this file cannot be imported")
    expect(summary).to_contain_text("row 28 (EX099), column team: unknown team 'east'")
    expect(page.locator("#problems")).to_contain_text("unknown team 'east'")
    axe.check(page)
    page.screenshot(path=str(artifacts / "import-report.png"), full_page=True)

    page.get_by_role("button", name="Import 26 children, skip 1 row").click()
    expect(page.get_by_role("heading", name="Waiting for the worker to start the import")).to_be_visible()
    axe.check(page)

    # The worker takes a first turn (a few batches), and the page, updating itself, shows it.
    report = caseload_job_runner.work(db, "e2e-worker", seconds=0.3)
    assert report.more and report.errors == []
    expect(page.get_by_role("heading", name="Importing children")).to_be_visible(timeout=30_000)
    expect(page.locator(".govuk-inset-text")).to_contain_text(re.compile(r"Import: \d+ of 26 rows done"))
    axe.check(page)

    while caseload_job_runner.work(db, "e2e-worker", seconds=30).more:
        pass
    expect(page.get_by_role("heading", name="Caseload imported")).to_be_visible(timeout=30_000)
    expect(page.locator(".govuk-panel")).to_contain_text("26 children imported")
    expect(page.locator(".govuk-panel")).to_contain_text("1 row rejected")
    axe.check(page)
    page.screenshot(path=str(artifacts / "import-result.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rejected rows (CSV)").click()
    rejected = download.value.path().read_text(encoding="utf-8").splitlines()
    assert rejected[1].startswith("EX099,Wrong Team")

    page.get_by_role("link", name="Back to caseload import").click()
    expect(page.get_by_role("table", name="Recent uploads")).to_contain_text("Imported")
    axe.check(page)
    assert problems == []
