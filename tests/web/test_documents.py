"""Documents made from what was recorded (issue 28), through the pages and the API, on
SQLite and PostgreSQL: completing the legal referral makes the council's referral for legal
advice from its Word template, kept with the child (SHA-256, template and version, who and
when), downloadable and readable on screen by those who may see the child, every making,
download and reading on the child's audit chain and the auditor's timeline; made again on
demand; refused (404) outside the reader's teams and (403) to auditors making one.
"""
from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta

import pytest
from docx import Document
from sqlalchemy import select

from engine.models import AuditEvent
from workflows.children.recorded_answers import long_date
from workflows.documents.tables import GeneratedDocument

from .api_client import api
from .conftest import cached_client, csrf_token

SENT = date.today() - timedelta(days=1)
ANSWERS = {"referral_date": SENT.isoformat(), "solicitor": "Ms A. Law",
           "route_under_consideration": "adoption",
           "questions": "Are the grounds for a permanence order met?"}


@pytest.fixture(autouse=True)
def _clients(world):
    world.clients = {}


def _post(client, url: str, data: dict | None = None):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)})


def _events(world, subject_id: int, kind: str) -> list[AuditEvent]:
    with world.database.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == subject_id, AuditEvent.event_type == kind)
            .order_by(AuditEvent.chain_seq)))


def _text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def _complete_referral(world) -> None:
    client = api(world, "sw.north")
    item = world.tasks["north"]
    assert client.post(f"/api/v1/work-items/{item}/claim").status_code == 200
    done = client.post(f"/api/v1/work-items/{item}/complete", json={"data": ANSWERS})
    assert done.status_code == 200, done.get_json()


def test_completing_the_legal_referral_makes_the_referral_for_legal_advice(world):
    child = world.children["north"]
    _complete_referral(world)
    with world.database.transaction() as session:
        stored = session.scalars(select(GeneratedDocument).where(
            GeneratedDocument.subject_id == child)).one()
        content, doc_id = stored.content, stored.id
        assert stored.template_name == "legal_referral.docx" and stored.reason == "completed"
        assert stored.sha256 == hashlib.sha256(content).hexdigest()
        assert stored.process_version >= 1 and len(stored.template_sha256) == 64
    text = _text(content)
    assert "Referral Form for Legal Advice" in text and "North Child 1" in text
    assert long_date(SENT) in text and "Ms A. Law" in text
    assert "Adoption" in text  # the choice's title, not its code
    assert "Are the grounds for a permanence order met?" in text
    made = _events(world, child, "document_generated")
    assert [e.data["sha256"] for e in made] == [hashlib.sha256(content).hexdigest()]
    assert made[0].actor == "sw.north" and made[0].data["template"] == "legal_referral.docx"

    leader = cached_client(world, "tl.north")
    page = leader.get(f"/children/{child}").get_data(as_text=True)
    assert "Referral for legal advice" in page or "Legal referral" in page
    assert f"/documents/{doc_id}" in page
    download = leader.get(f"/documents/{doc_id}")
    assert download.status_code == 200 and download.data == content
    assert "attachment" in download.headers["Content-Disposition"]
    read = leader.get(f"/documents/{doc_id}/read")
    assert read.status_code == 200
    assert "Are the grounds for a permanence order met?" in read.get_data(as_text=True)
    assert [e.actor for e in _events(world, child, "document_downloaded")] == ["tl.north"]
    assert [e.actor for e in _events(world, child, "document_viewed")] == ["tl.north"]

    other_team = cached_client(world, "sw.south")
    assert other_team.get(f"/documents/{doc_id}").status_code == 404
    assert len(_events(world, child, "document_downloaded")) == 1

    auditor = cached_client(world, "auditor")
    assert auditor.get(f"/documents/{doc_id}").status_code == 200
    timeline = auditor.get(f"/audit/children/{child}").get_data(as_text=True)
    assert "Document made" in timeline and "Document downloaded" in timeline


def test_a_worker_makes_the_document_again_and_an_auditor_may_not(world):
    child = world.children["north"]
    _complete_referral(world)
    item = world.tasks["north"]
    worker = cached_client(world, "sw.north")
    page = worker.get(f"/children/{child}").get_data(as_text=True)
    assert f"/work-items/{item}/document" in page
    again = _post(worker, f"/work-items/{item}/document")
    assert again.status_code == 302 and again.headers["Location"].endswith("#documents")
    reasons = [e.data["reason"] for e in _events(world, child, "document_generated")]
    assert reasons == ["completed", "on_demand"]

    auditor = cached_client(world, "auditor")
    assert f"/work-items/{item}/document" not in auditor.get(f"/children/{child}").get_data(
        as_text=True)
    assert _post(auditor, f"/work-items/{item}/document").status_code == 403
    refused = api(world, "auditor").post(f"/api/v1/work-items/{item}/document")
    assert refused.status_code == 403
    open_task = world.tasks["south"]
    assert _post(cached_client(world, "sw.south"),
                 f"/work-items/{open_task}/document").status_code == 302  # not completed: said
    assert len(_events(world, child, "document_generated")) == 2


def test_the_api_lists_downloads_and_makes_documents(world):
    child = world.children["north"]
    _complete_referral(world)
    client = api(world, "tl.north")
    listed = client.get(f"/api/v1/children/{child}/documents")
    assert listed.status_code == 200
    [doc] = listed.get_json()["documents"]
    assert doc["title"] and doc["template"] == "legal_referral.docx" and len(doc["sha256"]) == 64
    got = client.get(f"/api/v1/documents/{doc['id']}")
    assert got.status_code == 200 and hashlib.sha256(got.data).hexdigest() == doc["sha256"]
    made = api(world, "sw.north").post(f"/api/v1/work-items/{world.tasks['north']}/document")
    assert made.status_code == 201 and made.get_json()["reason"] == "on_demand"
    assert api(world, "sw.south").get(f"/api/v1/documents/{doc['id']}").status_code == 404
    assert api(world, "sw.south").get(f"/api/v1/children/{child}/documents").status_code == 404
