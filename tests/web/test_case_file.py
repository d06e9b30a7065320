"""Case notes and attachments on a child and a task, through the pages and the API, on
SQLite and PostgreSQL (issue 24 items 3 and 4).

Notes: written by the workers who may see the child, read by everyone who may see it,
changed by their author for 15 minutes and refused after with a message saying so, every
version in the audit chain and on the auditor's timeline. Attachments: the type read from
the content (an HTML page named .pdf is refused), an upload over the limit refused with
nothing stored, downloads with ``Content-Disposition: attachment`` and ``nosniff``, every
upload and download audited. Scanning with a real ClamAV daemon: tests/test_virus_scan
(web/test_case_file_clamav.py).
"""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import audit, clock
from engine.models import AuditEvent
from tests.casework_files import HTML, PDF
from workflows.casework.tables import Attachment, CaseNote

from .api_client import api, assert_error
from .conftest import cached_client, csrf_token


@pytest.fixture(autouse=True)
def _clients(world):
    world.clients = {}  # signed-in clients kept for the test (cached_client)


def _post(client, url: str, data: dict, **kwargs):
    return client.post(url, data={**data, "csrf_token": csrf_token(client)}, **kwargs)


def _events(world, subject_id: int, kind: str) -> list[AuditEvent]:
    with world.database.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == subject_id, AuditEvent.event_type == kind)
            .order_by(AuditEvent.chain_seq)))


def _count(world, table) -> int:
    with world.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(table))


def _upload(client, url: str, content: bytes, name: str):
    return _post(client, url, {"file": (io.BytesIO(content), name)},
                 content_type="multipart/form-data")


def test_a_note_on_a_child_is_read_by_the_team_and_every_version_audited(world):
    child = world.children["north"]
    worker, leader = cached_client(world, "sw.north"), cached_client(world, "tl.north")
    added = _post(worker, f"/children/{child}/notes", {"text": "Visited Kim at home.\nAll well."})
    assert added.status_code == 302 and added.headers["Location"].endswith(f"/children/{child}#notes")
    page = leader.get(f"/children/{child}").get_data(as_text=True)
    assert "Visited Kim at home.<br>All well." in page and "Case notes" in page
    with world.database.transaction() as session:
        note_id = session.scalar(select(CaseNote.id).where(CaseNote.subject_id == child))
    assert f"/notes/{note_id}/edit" not in page  # not the team leader's note
    mine = worker.get(f"/children/{child}").get_data(as_text=True)
    assert f"/notes/{note_id}/edit" in mine

    changed = _post(worker, f"/notes/{note_id}/edit", {"text": "Visited Kim at home. All well."})
    assert changed.status_code == 302
    versions = [e.data["text"] for e in _events(world, child, "case_note_added")
                + _events(world, child, "case_note_edited")]
    assert versions == ["Visited Kim at home.\nAll well.", "Visited Kim at home. All well."]
    assert _events(world, child, "case_note_edited")[0].data["version"] == 2

    by_other = _post(leader, f"/notes/{note_id}/edit", {"text": "Not mine"})
    assert by_other.status_code == 403
    assert "Only the person who wrote a note can change it" in by_other.get_data(as_text=True)

    clock.set_now(clock.now() + timedelta(minutes=16))
    late = _post(worker, f"/notes/{note_id}/edit", {"text": "Too late to change"})
    body = late.get_data(as_text=True)
    assert late.status_code == 403
    assert "only in the 15 minutes after it was written" in body
    assert "Too late to change" in body  # the text typed is kept on the page
    with world.database.transaction() as session:
        assert session.get(CaseNote, note_id).text == "Visited Kim at home. All well."
        assert audit.verify(session) is None

    timeline = cached_client(world, "auditor").get(f"/audit/children/{child}")
    text = timeline.get_data(as_text=True)
    assert "Case note added" in text and "Case note changed" in text


def test_a_comment_on_a_task_shows_on_the_task_and_the_child(world):
    item, child = world.tasks["north"], world.children["north"]
    worker = cached_client(world, "sw.north")
    assert _post(worker, f"/tasks/{item}/notes", {"text": "Waiting for the school report"}) \
        .status_code == 302
    task_page = cached_client(world, "tl.north").get(f"/tasks/{item}").get_data(as_text=True)
    assert "Comments on this task" in task_page and "Waiting for the school report" in task_page
    child_page = worker.get(f"/children/{child}").get_data(as_text=True)
    assert "Waiting for the school report" in child_page and "on the task" in child_page
    event = _events(world, child, "case_note_added")[-1]
    assert event.data["work_item"] == item and event.task_id


def test_a_bad_note_is_refused_with_its_text_kept(world):
    child, worker = world.children["north"], cached_client(world, "sw.north")
    empty = _post(worker, f"/children/{child}/notes", {"text": "   "})
    assert empty.status_code == 422 and "Enter the note." in empty.get_data(as_text=True)
    long_text = "word " * 2_500
    too_long = _post(worker, f"/children/{child}/notes", {"text": long_text})
    assert too_long.status_code == 422
    assert "at most 10,000 characters" in too_long.get_data(as_text=True)
    assert long_text.strip() in too_long.get_data(as_text=True)
    assert _count(world, CaseNote) == 0


def test_an_auditor_reads_notes_and_files_but_adds_neither(world):
    child = world.children["north"]
    assert _post(cached_client(world, "sw.north"), f"/children/{child}/notes",
                 {"text": "Seen"}).status_code == 302
    auditor = cached_client(world, "auditor")
    page = auditor.get(f"/children/{child}").get_data(as_text=True)
    assert "Seen" in page and 'name="text"' not in page and 'name="file"' not in page
    assert _post(auditor, f"/children/{child}/notes", {"text": "x"}).status_code == 403
    assert _upload(auditor, f"/children/{child}/attachments", PDF, "a.pdf").status_code == 403
    assert _count(world, CaseNote) == 1 and _count(world, Attachment) == 0


def test_a_pdf_is_attached_and_downloaded_as_an_attachment_by_the_team_only(world):
    child = world.children["north"]
    uploaded = _upload(cached_client(world, "sw.north"), f"/children/{child}/attachments",
                       PDF, "CAPR report.pdf")
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)
    with world.database.transaction() as session:
        stored = session.scalars(select(Attachment)).one()
        stored_id, sha = stored.id, stored.sha256
        assert stored.content_type == "application/pdf" and stored.size == len(PDF)
        assert stored.scanned is False
    import hashlib
    assert sha == hashlib.sha256(PDF).hexdigest()
    page = cached_client(world, "tl.north").get(f"/children/{child}").get_data(as_text=True)
    assert "CAPR report.pdf" in page and f"/attachments/{stored_id}" in page

    download = cached_client(world, "tl.north").get(f"/attachments/{stored_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="CAPR report.pdf"' in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/pdf"
    assert cached_client(world, "sw.south").get(f"/attachments/{stored_id}").status_code == 404
    assert cached_client(world, "owner").get(f"/attachments/{stored_id}").status_code == 403

    uploads = _events(world, child, "attachment_uploaded")
    downloads = _events(world, child, "attachment_downloaded")
    assert [e.data["sha256"] for e in uploads] == [sha] and uploads[0].actor == "sw.north"
    assert [(e.actor, e.data["attachment"]) for e in downloads] == [("tl.north", stored_id)]


def test_an_html_page_named_pdf_is_refused_and_nothing_stored(world):
    item = world.tasks["north"]
    refused = _upload(cached_client(world, "sw.north"), f"/tasks/{item}/attachments", HTML,
                      "letter.pdf")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "This file cannot be attached: it is not a PDF, a Word document or a picture" in body
    assert "whatever its name says" in body and "a web page (text/html)" in body
    assert _count(world, Attachment) == 0
    assert not _events(world, world.children["north"], "attachment_uploaded")


def test_an_upload_over_the_limit_gets_a_clear_error_and_writes_nothing(world):
    """Over the body limit: refused before it is read (413). Just under the body limit but
    over the file limit (the form's slack): refused by the service (413). Nothing stored."""
    child, worker = world.children["north"], cached_client(world, "sw.north")
    limit = world.database.settings.attachments.max_bytes
    assert limit == 20 * 1024 * 1024  # the default
    for size in (limit + 200 * 1024, limit + 1):
        big = PDF + b"\0" * (size - len(PDF))
        refused = _upload(worker, f"/children/{child}/attachments", big, "big.pdf")
        body = refused.get_data(as_text=True)
        assert refused.status_code == 413, (size, refused.status_code)
        assert re.search(r"larger than 20 MB|at most 20 MB", body), body[-2000:]
        assert "Nothing was attached" in body or "nothing was attached" in body
    assert _count(world, Attachment) == 0
    assert not _events(world, child, "attachment_uploaded")


def test_no_file_chosen_is_a_clear_error(world):
    refused = _post(cached_client(world, "sw.north"),
                    f"/children/{world.children['north']}/attachments", {})
    assert refused.status_code == 422 and "Choose the file to attach" in refused.get_data(as_text=True)


# -- the API: the same services -------------------------------------------------------------
def test_notes_and_attachments_through_the_api(world):
    child, item = world.children["north"], world.tasks["north"]
    worker = api(world, "sw.north")
    made = worker.post(f"/api/v1/children/{child}/notes", json={"text": "Phoned the school"})
    assert made.status_code == 201, made.get_json()
    note = made.get_json()
    assert note["author"] and note["can_change"] and note["version"] == 1
    on_task = worker.post(f"/api/v1/work-items/{item}/notes", json={"text": "Chased"})
    assert on_task.status_code == 201 and on_task.get_json()["task_id"] == item
    listed = api(world, "tl.north").get(f"/api/v1/children/{child}/notes").get_json()["items"]
    assert [n["text"] for n in listed] == ["Chased", "Phoned the school"]  # newest first
    assert [n["text"] for n in worker.get(f"/api/v1/work-items/{item}/notes")
            .get_json()["items"]] == ["Chased"]
    changed = worker.put(f"/api/v1/notes/{note['id']}", json={"text": "Phoned the school twice"})
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    clock.set_now(clock.now() + timedelta(minutes=15, seconds=1))
    late = assert_error(worker.put(f"/api/v1/notes/{note['id']}", json={"text": "Later"}), 403)
    assert "15 minutes" in late["message"]
    assert_error(api(world, "auditor").post(f"/api/v1/children/{child}/notes",
                                            json={"text": "x"}), 403)
    assert_error(api(world, "sw.south").get(f"/api/v1/children/{child}/notes"), 404)

    sent = worker.post(f"/api/v1/work-items/{item}/attachments",
                       data={"file": (io.BytesIO(PDF), "plan.pdf")},
                       content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    attachment = sent.get_json()
    assert attachment["kind"] == "PDF" and attachment["task_id"] == item
    refused = worker.post(f"/api/v1/children/{child}/attachments",
                          data={"file": (io.BytesIO(HTML), "plan.pdf")},
                          content_type="multipart/form-data")
    assert "whatever its name says" in assert_error(refused, 422, "file")["errors"]["file"][0]
    got = api(world, "tl.north").get(f"/api/v1/attachments/{attachment['id']}")
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert_error(api(world, "sw.south").get(f"/api/v1/attachments/{attachment['id']}"), 404)
    listed = worker.get(f"/api/v1/children/{child}/attachments").get_json()["items"]
    assert [a["file_name"] for a in listed] == ["plan.pdf"]


def test_an_api_upload_over_the_limit_is_refused_with_the_limit(world):
    child, worker = world.children["north"], api(world, "sw.north")
    big = PDF + b"\0" * (21 * 1024 * 1024)
    refused = worker.post(f"/api/v1/children/{child}/attachments",
                          data={"file": (io.BytesIO(big), "big.pdf")},
                          content_type="multipart/form-data")
    assert "20 MB" in assert_error(refused, 413)["message"]
    assert _count(world, Attachment) == 0


def test_every_version_of_a_note_and_every_file_event_is_in_the_auditors_export(world):
    """The child's export holds each version's text and each upload and download, and it
    verifies off-line (engine/audit/export.py)."""
    from engine.audit import export
    child, worker = world.children["north"], cached_client(world, "sw.north")
    _post(worker, f"/children/{child}/notes", {"text": "First words"})
    with world.database.transaction() as session:
        note_id = session.scalar(select(CaseNote.id))
    _post(worker, f"/notes/{note_id}/edit", {"text": "Second words"})
    _upload(worker, f"/children/{child}/attachments", PDF, "plan.pdf")
    with world.database.transaction() as session:
        stored_id = session.scalar(select(Attachment.id))
    worker.get(f"/attachments/{stored_id}")
    exported = cached_client(world, "auditor").get(f"/audit/children/{child}/export?format=json")
    assert exported.status_code == 200
    rows = export.read_export(exported.get_data(as_text=True))
    assert export.verify_rows(rows) is None
    kinds = [(r["event_type"], r["data"].get("text") or r["data"].get("name")) for r in rows
             if r["event_type"].startswith(("case_note", "attachment"))]
    assert kinds == [("case_note_added", "First words"), ("case_note_edited", "Second words"),
                     ("attachment_uploaded", "plan.pdf"), ("attachment_downloaded", "plan.pdf")]
