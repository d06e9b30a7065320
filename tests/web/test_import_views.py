"""The caseload upload page: check, report, import as a job, follow it; on both databases."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from engine.models import Subject
from tests.conftest import BACKENDS, make_database
from tests.integration.caseload_example import EXAMPLE, EXPECTED, TODAY, placement
from workflows.caseload import importer as caseload_import, job_runner as caseload_job_runner
from workflows.demo import scotland as demo
from workflows.caseload.jobs import ImportJob
from web.shared.downloads import attachment

from .conftest import csrf_token, post, sign_in
from .journeys import make_app

BAD = (b"reference,name,team,legal_status,LA_START,PLANNING_MTG\r\n"
       b"B1,Ok Child,north,accommodated,2026-10-01,\r\n"
       b"B2,Bad Team,east,accommodated,2026-10-01,\r\n"
       b"B3,Bad Date,north,accommodated,2026-10-01,31/09/2026\r\n")


@pytest.fixture(params=BACKENDS)
def site(request, tmp_path):
    """Demo users, no children: an empty service about to bring its caseload in."""
    database = make_database(request.param, tmp_path, request)
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    return make_app(database)


def database(app):
    return app.extensions["pace_db"]


def admin(app):
    return sign_in(app.test_client(), "admin")


def upload(client, data: bytes, name: str = "caseload.csv"):
    return post(client, "/import", {"caseload": (io.BytesIO(data), name)},
                content_type="multipart/form-data")


def job_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    found = re.search(r"/import/jobs/(\d+)$", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def jobs(app) -> list[ImportJob]:
    with database(app).transaction() as session:
        return list(session.scalars(select(ImportJob).order_by(ImportJob.id)))


def children(app) -> int:
    with database(app).transaction() as session:
        return session.scalar(select(func.count()).select_from(Subject))


def run_worker(app) -> None:
    while True:
        report = caseload_job_runner.work(database(app), "test-worker", seconds=30)
        assert report.errors == []
        if not report.more:
            return


def test_a_valid_file_is_checked_then_imported_into_the_right_queues(site, at):
    at(TODAY)
    client = admin(site)
    page = client.get("/import").get_data(as_text=True)
    assert "Download the template" in page and "Download the example file" in page
    number = job_id(upload(client, EXAMPLE.read_bytes(), "caseload-example.csv"))
    report = client.get(f"/import/jobs/{number}").get_data(as_text=True)
    assert "Check the caseload file" in report and "Import 26 children" in report
    assert "govuk-error-summary" not in report and "data-refresh" not in report
    assert children(site) == 0  # nothing written by the check
    assert post(client, f"/import/jobs/{number}/start", {"mode": "all"}).status_code == 302
    waiting = client.get(f"/import/jobs/{number}").get_data(as_text=True)
    assert "Waiting for the worker" in waiting and 'data-refresh="3"' in waiting
    assert "js/import-job.mjs" in waiting  # the page updates itself, without inline script
    run_worker(site)
    result = client.get(f"/import/jobs/{number}").get_data(as_text=True)
    assert "26 children imported" in result and "data-refresh" not in result
    assert "0 already in PACE Flow, 0 rows rejected" in result
    assert re.search(r"Schedule Aim 1 review</td>\s*<td[^>]*>Team leader</td>\s*"
                     r'<td[^>]*>2</td>', result)  # the open tasks, by queue
    assert placement(database(site)) == EXPECTED
    team_queue = sign_in(site.test_client(), "tl.north").get("/team-queue").get_data(as_text=True)
    assert "Ava Example" in team_queue and "EX001" in team_queue
    (done,) = jobs(site)
    assert (done.status, done.uploaded_by, done.started_by, done.imported) == \
        ("done", "admin", "admin", 26)


def test_a_file_with_errors_gets_a_report_and_nothing_is_written(site, at):
    at(TODAY)
    client = admin(site)
    number = job_id(upload(client, BAD, "bad.csv"))
    report = client.get(f"/import/jobs/{number}").get_data(as_text=True)
    assert "2 rows of this file cannot be imported" in report
    assert "row 3 (B2), column team: unknown team &#39;east&#39;; known: north, south" in report
    assert "row 4 (B3), column PLANNING_MTG: &#39;31/09/2026&#39; is not a real date" in report
    assert re.search(r'id="problem-1">\s*<td[^>]*>3</td>\s*<td[^>]*>B2</td>\s*'
                     r'<td[^>]*><code>team</code></td>', report)
    assert "Import 1 child, skip 2 rows" in report
    assert 'value="all"' not in report  # no all-or-nothing import of a file with problems
    refused = post(client, f"/import/jobs/{number}/start", {"mode": "all"})
    assert "all-or-nothing import" in client.get(refused.headers["Location"]).get_data(as_text=True)
    rejects = client.get(f"/import/jobs/{number}/rejects.csv")
    assert rejects.mimetype == "text/csv"
    lines = rejects.get_data(as_text=True).splitlines()
    assert [line.split(",")[0] for line in lines] == ["reference", "B2", "B3"]
    assert children(site) == 0 and [j.status for j in jobs(site)] == ["checked"]
    discarded = post(client, f"/import/jobs/{number}/cancel")
    assert discarded.status_code == 302 and [j.status for j in jobs(site)] == ["cancelled"]
    assert children(site) == 0


@pytest.mark.parametrize("name, data, status, message", [
    ("caseload.xlsx", b"PK\x03\x04", 400, "caseload.xlsx is not a CSV file"),
    ("caseload.csv", "reference,name\n".encode("utf-16"), 400, "the file is not UTF-8 text"),
    ("caseload.csv", b"reference,name,team,status,PLANING_MTG\r\n", 400,
     "&#39;PLANING_MTG&#39; is not a caseload column"),
    ("caseload.csv", b"", 400, "The file is empty"),
    ("caseload.csv", b"reference,name,team,legal_status\r\n" + b"x" * (11 * 1024 * 1024), 413,
     "larger than 10 MB"),
])
def test_an_unreadable_upload_is_refused_with_what_to_do(site, name, data, status, message):
    client = admin(site)
    response = upload(client, data, name)
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:300]
    assert message in page and "Nothing was saved" in page and "govuk-error-summary" in page
    assert "Error: Import a caseload" in page  # the page title says so too
    assert jobs(site) == []


def test_no_file_chosen(site):
    response = post(admin(site), "/import", {}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose the caseload CSV file" in response.get_data(as_text=True)


def test_double_submit_queues_one_job(site, at):
    at(TODAY)
    client = admin(site)
    first = job_id(upload(client, EXAMPLE.read_bytes()))
    again = upload(client, EXAMPLE.read_bytes())
    assert job_id(again) == first
    assert "has not been queued again" in client.get(again.headers["Location"]).get_data(as_text=True)
    for _ in range(2):
        assert post(client, f"/import/jobs/{first}/start", {"mode": "all"}).status_code == 302
    assert [(j.id, j.status) for j in jobs(site)] == [(first, "queued")]


def test_template_and_example_downloads(site):
    client = admin(site)
    template = client.get("/import/template.csv")
    assert template.get_data(as_text=True) == caseload_import.template_csv()
    assert template.headers["Content-Disposition"] == "attachment; filename=caseload-template.csv"
    assert client.get("/import/example.csv").get_data() == EXAMPLE.read_bytes()


def test_a_file_name_in_any_script_downloads_its_rejects(site):
    """The upload's name goes into the rejects file's name: ASCII in ``filename``, the name
    itself in ``filename*`` (RFC 5987); every header is Latin-1, as a server must send it.
    (A line break in a name is folded to a space: web/shared/downloads.py.)"""
    client = admin(site)
    number = job_id(upload(client, BAD, "caseload-Ŝkye-€.csv"))
    response = client.get(f"/import/jobs/{number}/rejects.csv")
    assert response.status_code == 200 and "B2" in response.get_data(as_text=True)
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=caseload-Skye-.rejects.csv; "
        "filename*=UTF-8''caseload-%C5%9Ckye-%E2%82%AC.rejects.csv")
    for value in response.headers.values():
        value.encode("latin-1")
    with site.test_request_context():
        folded = attachment("x", "text/csv", "bad\r\nSet-Cookie: x=1.csv")
    assert folded.headers["Content-Disposition"] == 'attachment; filename="bad  Set-Cookie: x=1.csv"'


@pytest.mark.parametrize("user", ["sw.north", "tl.north", "manager", "owner", "auditor", "legal"])
def test_only_administrators_may_import(site, user):
    client = sign_in(site.test_client(), user)
    for path in ("/import", "/import/template.csv", "/import/example.csv"):
        assert client.get(path).status_code == 403, path
    assert upload(client, EXAMPLE.read_bytes()).status_code == 403
    assert "/import" not in re.findall(r'service-navigation__link" href="([^"]+)"',
                                       client.get("/notifications").get_data(as_text=True))
    assert jobs(site) == []


def test_the_upload_and_the_import_need_the_csrf_token(site, at):
    at(TODAY)
    client = admin(site)
    forged = client.post("/import", data={"caseload": (io.BytesIO(EXAMPLE.read_bytes()),
                                                       "caseload.csv"), "csrf_token": "forged"},
                         content_type="multipart/form-data")
    assert forged.status_code == 400 and jobs(site) == []
    number = job_id(upload(client, EXAMPLE.read_bytes()))
    assert client.post(f"/import/jobs/{number}/start", data={"mode": "all"}).status_code == 400
    assert [j.status for j in jobs(site)] == ["checked"]
    assert csrf_token(client)  # the same signed-in session can still use the page
