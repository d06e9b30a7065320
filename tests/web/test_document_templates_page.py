"""A process owner's Word templates (issue 28), on SQLite and PostgreSQL: uploaded with a
draft's files; hostile .docx files (XXE, zip bomb, '..' entries) refused with the reason and
nothing stored, never a 500; a placeholder the form does not have named, with the nearest
field, on the templates page and in the draft's check, which refuses to deploy it; a preview
filled in for a demo child; a corrected template deployed with the version, and the next
child's document made from it. The auditor's export holds each document event and verifies.
"""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from docx import Document
from sqlalchemy import select

from engine.models import ProcessModel
from workflows.documents.tables import GeneratedDocument
from workflows.process_models.drafts import ModelDraft

from .api_client import api
from .conftest import cached_client, csrf_token
from tests.unit.test_document_templates import docx, rezipped

XXE = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
       b'<w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>')


@pytest.fixture(autouse=True)
def _clients(world):
    world.clients = {}


def _post(client, url: str, data: dict | None = None, **kwargs):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)


def _upload(client, draft_id: int, name: str, content: bytes):
    return _post(client, f"/models/drafts/{draft_id}/files",
                 {"files": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def _draft(world, owner) -> int:
    started = _post(owner, "/models/permanence_journey/drafts")
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    with world.database.transaction() as session:
        return session.scalars(select(ModelDraft.id).order_by(ModelDraft.id.desc())).first()


@pytest.mark.parametrize("name,content,says", [
    ("legal_referral.docx", rezipped(docx("x"), replace={"word/document.xml": XXE}),
     "DOCTYPE or entities"),
    ("legal_referral.docx", rezipped(docx("x"), add={"word/media/pad.xml": b"\0" * 1_500_000}),
     "zip bomb"),
    ("legal_referral.docx", rezipped(docx("x"), add={"../../evil.xml": b"<a/>"}),
     "with &#39;..&#39;, a backslash or an absolute path"),
    ("legal_referral.docx", b"%PDF-1.4", "is not a Word document"),
])
def test_hostile_templates_are_refused_with_the_reason_and_nothing_stored(world, name,
                                                                          content, says):
    owner = cached_client(world, "owner")
    draft_id = _draft(world, owner)
    with world.database.transaction() as session:
        before = dict(session.get(ModelDraft, draft_id).documents or {})
    refused = _upload(owner, draft_id, name, content)
    assert refused.status_code in (400, 413)
    page = refused.get_data(as_text=True)
    assert "Nothing was added" in page and says in page, page[:3000]
    with world.database.transaction() as session:
        assert dict(session.get(ModelDraft, draft_id).documents or {}) == before


def test_an_unknown_placeholder_is_named_and_the_draft_cannot_be_deployed(world):
    owner = cached_client(world, "owner")
    draft_id = _draft(world, owner)
    wrong = docx("Referral for {{ child.name }}", "{{ answers.questons }}")
    assert _upload(owner, draft_id, "legal_referral.docx", wrong).status_code == 302
    listed = owner.get(f"/models/drafts/{draft_id}/documents").get_data(as_text=True)
    assert ("the placeholder {{ answers.questons }} names questons, which is not a field of "
            "the form legal_referral.schema.json; the nearest field is questions") in listed
    check = owner.get(f"/models/drafts/{draft_id}").get_data(as_text=True)
    assert "answers.questons" in check and "the nearest field is questions" in check
    deploy = _post(owner, f"/models/drafts/{draft_id}/deploy",
                   {"reason": "New referral wording", "confirm": "yes"})
    assert deploy.status_code in (400, 409, 422)
    preview = owner.get(f"/models/drafts/{draft_id}/documents/legal_referral.docx/preview")
    assert preview.status_code == 200 and "cannot be filled in" in preview.get_data(as_text=True)


def test_a_corrected_template_is_previewed_deployed_and_used_for_the_next_child(world):
    owner = cached_client(world, "owner")
    draft_id = _draft(world, owner)
    council = docx("Our own referral wording", "Child: {{ child.name }}",
                   "{{ labels.questions }}: {{ answers.questions }}")
    assert _upload(owner, draft_id, "legal_referral.docx", council).status_code == 302
    preview = owner.get(f"/models/drafts/{draft_id}/documents/legal_referral.docx/preview")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Demo Child" in page and "Our own referral" in page
    as_word = owner.get(f"/models/drafts/{draft_id}/documents/legal_referral.docx/preview"
                        "?as=docx")
    assert as_word.status_code == 200
    assert "Demo Child" in "\n".join(p.text for p in Document(io.BytesIO(as_word.data)).paragraphs)
    deployed = _post(owner, f"/models/drafts/{draft_id}/deploy",
                     {"reason": "The council's referral wording", "confirm": "yes"})
    assert deployed.status_code == 302, deployed.get_data(as_text=True)[:3000]
    with world.database.transaction() as session:
        latest = session.scalars(select(ProcessModel).where(
            ProcessModel.process_id == "permanence_journey")
            .order_by(ProcessModel.version.desc())).first()
        assert "legal_referral.docx" in (latest.documents or {})
    # the north child moves to the new version only when migrated; its document is made
    # from the template of the version it runs on, so it still has the shipped wording
    client = api(world, "sw.north")
    item = world.tasks["north"]
    client.post(f"/api/v1/work-items/{item}/claim")
    done = client.post(f"/api/v1/work-items/{item}/complete", json={"data": {
        "referral_date": (date.today() - timedelta(days=1)).isoformat(),
        "questions": "Which order?"}})
    assert done.status_code == 200, done.get_json()
    with world.database.transaction() as session:
        made = session.scalars(select(GeneratedDocument)).one()
        assert made.process_version < latest.version
        text = "\n".join(p.text for p in Document(io.BytesIO(made.content)).paragraphs)
    assert "Referral Form for Legal Advice" in text and "Which order?" in text

    from engine.audit import export
    exported = cached_client(world, "auditor").get(
        f"/audit/children/{world.children['north']}/export?format=json")
    rows = export.read_export(exported.get_data(as_text=True))
    assert export.verify_rows(rows) is None
    assert [r["data"]["template"] for r in rows if r["event_type"] == "document_generated"] \
        == ["legal_referral.docx"]
