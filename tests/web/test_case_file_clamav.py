"""Uploads scanned by a real ClamAV daemon (tests/clamd_daemon.py) before they are stored,
through the page and the API, on SQLite and PostgreSQL: EICAR is refused with a clear
message and nothing stored; a clean PDF is stored marked as scanned; a daemon that cannot
be reached refuses every upload (fail closed), nothing stored. With CI=true a clamd that
cannot be started fails these tests.
"""
from __future__ import annotations

import dataclasses
import io

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent
from tests.casework_files import EICAR, PDF
from tests.clamd_daemon import clamd  # noqa: F401 - the fixture
from workflows.casework.attachment_settings import AttachmentSettings, clamd_address
from workflows.casework.tables import Attachment

from .api_client import api, assert_error
from .conftest import cached_client, csrf_token


def _scanning(world, address: str) -> None:
    settings = world.database.settings
    world.database.settings = dataclasses.replace(
        settings, attachments=AttachmentSettings(clamd=clamd_address(address)))


@pytest.fixture
def scanned_world(world, clamd):  # noqa: F811
    world.clients = {}
    _scanning(world, clamd.unix_address)
    return world


def _upload(world, content: bytes, name: str):
    client = cached_client(world, "sw.north")
    return client.post(f"/children/{world.children['north']}/attachments",
                       data={"file": (io.BytesIO(content), name),
                             "csrf_token": csrf_token(client)},
                       content_type="multipart/form-data")


def _stored(world) -> list[tuple[str, bool]]:
    with world.database.transaction() as session:
        return [(a.file_name, a.scanned) for a in session.scalars(select(Attachment))]


def _uploads_audited(world) -> int:
    with world.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event_type == "attachment_uploaded"))


def test_eicar_is_refused_and_a_clean_pdf_is_stored_scanned(scanned_world, clamd):  # noqa: F811
    world = scanned_world
    # EICAR in a PDF's clothing: its content is EICAR, and ClamAV finds it before anything else.
    refused = _upload(world, EICAR, "report.pdf")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "contains a virus or other harmful content, so it was not attached" in body
    assert _stored(world) == [] and _uploads_audited(world) == 0

    _scanning(world, clamd.tcp_address)
    on_tcp = api(world, "sw.north").post(
        f"/api/v1/children/{world.children['north']}/attachments",
        data={"file": (io.BytesIO(EICAR), "eicar.com")}, content_type="multipart/form-data")
    assert "virus" in assert_error(on_tcp, 422, "file")["errors"]["file"][0]

    assert _upload(world, PDF, "clean.pdf").status_code == 302
    assert _stored(world) == [("clean.pdf", True)] and _uploads_audited(world) == 1
    with world.database.transaction() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "attachment_uploaded")).one()
        assert event.data["scanned"] is True


def test_a_daemon_that_cannot_be_reached_refuses_every_upload(scanned_world, tmp_path):
    world = scanned_world
    _scanning(world, f"unix:{tmp_path / 'no-clamd.sock'}")
    refused = _upload(world, PDF, "clean.pdf")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "could not be checked for viruses just now, so it was not attached" in body
    assert "Try again in a few minutes" in body
    _scanning(world, "tcp://127.0.0.1:9")  # nothing listens on the discard port
    assert "could not be checked" in assert_error(api(world, "sw.north").post(
        f"/api/v1/children/{world.children['north']}/attachments",
        data={"file": (io.BytesIO(PDF), "clean.pdf")}, content_type="multipart/form-data"),
        422, "file")["errors"]["file"][0]
    assert _stored(world) == [] and _uploads_audited(world) == 0
