"""Case notes and attachments in a real browser (axe-core on every page): a social worker
adds a note on a child and attaches a PDF (and sees an HTML page named .pdf refused); the
team leader reads the note on the child page and downloads the file, which arrives as a
download with the PDF's bytes.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.casework_files import HTML, PDF

from .steps import sign_in

pytestmark = pytest.mark.browser

NOTE = "Met Kim and her foster carer; Kim wants to stay at her school."


def _open_child(page, name: str) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Children").click()
    page.get_by_role("link", name=name).first.click()


def test_a_note_and_a_pdf_added_by_the_worker_are_read_by_the_team_leader(
        live_world, page, axe, artifacts, tmp_path):
    base = live_world.base_url
    report, disguised = tmp_path / "CAPR report.pdf", tmp_path / "letter.pdf"
    report.write_bytes(PDF)
    disguised.write_bytes(HTML)

    sign_in(page, axe, base, "sw.north")
    _open_child(page, "North Child")
    expect(page.get_by_role("heading", name="Case notes")).to_be_visible()
    page.get_by_label("Add a note").fill(NOTE)
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("alert")).to_contain_text("Your note was added")
    expect(page.get_by_text(NOTE)).to_be_visible()
    axe.check(page)

    page.get_by_label("Attach a file").set_input_files(str(disguised))
    page.get_by_role("button", name="Attach file").click()
    expect(page).to_have_title("Error: Attach a file – PACE Flow")
    expect(page.get_by_role("alert")).to_contain_text("whatever its name says")
    axe.check(page)
    page.get_by_role("link", name="Back").click()

    page.get_by_label("Attach a file").set_input_files(str(report))
    page.get_by_role("button", name="Attach file").click()
    expect(page.get_by_role("alert")).to_contain_text("CAPR report.pdf was attached")
    expect(page.get_by_role("link", name="CAPR report.pdf")).to_be_visible()
    axe.check(page)
    page.screenshot(path=str(artifacts / "child-notes-and-attachments.png"), full_page=True)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, axe, base, "tl.north")
    _open_child(page, "North Child")
    expect(page.get_by_text(NOTE)).to_be_visible()
    expect(page.get_by_role("link", name="Change your note")).to_have_count(0)
    axe.check(page)
    with page.expect_download() as arrived:
        page.get_by_role("link", name="CAPR report.pdf").click()
    download = arrived.value
    assert download.suggested_filename == "CAPR report.pdf"
    saved = tmp_path / "downloaded.pdf"
    download.save_as(str(saved))
    assert saved.read_bytes() == PDF
    axe.check(page)
