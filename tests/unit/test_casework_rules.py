"""The pure rules of case notes and attachments: the 15-minute edit window, a note's text,
a file's type read from its content, and the attachments' settings."""
from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from tests.casework_files import HTML, PDF
from workflows.casework import file_types, note_rules
from workflows.casework.attachment_settings import (AttachmentSettings,
                                                    AttachmentSettingsError, clamd_address)

WRITTEN = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("later,allowed", [(timedelta(0), True), (timedelta(minutes=15), True),
                                           (timedelta(minutes=15, seconds=1), False),
                                           (timedelta(days=2), False)])
def test_the_author_may_change_a_note_for_15_minutes(later, allowed):
    refusal = note_rules.edit_refusal(1, WRITTEN, 1, WRITTEN + later)
    assert (refusal is None) is allowed
    if not allowed:
        assert "only in the 15 minutes after it was written" in refusal and "new note" in refusal


def test_no_one_else_may_change_a_note():
    assert "Only the person who wrote a note" in note_rules.edit_refusal(1, WRITTEN, 2, WRITTEN)


def test_a_note_must_say_something_and_not_too_much():
    assert note_rules.text_problem(" \n ") == "Enter the note."
    assert note_rules.text_problem("x" * 10_000) is None
    assert "at most 10,000 characters; this one has 10,001" in note_rules.text_problem("x" * 10_001)


def _zip(**parts: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, text in parts.items():
            package.writestr(name.replace("__", "/"), text)
    return buffer.getvalue()


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize("content,kind", [
    (PDF, "PDF"), (_docx(), "Word document"),
    (_zip(mimetype="application/vnd.oasis.opendocument.text"), "Word document"),
    (bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600), "Word document"),
    (b"\x89PNG\r\n\x1a\n" + bytes(30), "Picture"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(30), "Picture")])
def test_allowed_files_are_known_by_their_content(content, kind):
    assert file_types.detect(content).kind == kind


def test_an_opendocument_text_is_served_as_one():
    odt = _zip(mimetype="application/vnd.oasis.opendocument.text")
    assert file_types.detect(odt).content_type == "application/vnd.oasis.opendocument.text"


@pytest.mark.parametrize("content", [
    HTML, b"plain words", b"MZ\x90\x00" + bytes(100), b"PK\x03\x04" + bytes(40),
    _zip(**{"a.html": "<script></script>"}),  # any zip: puremagic's reading says .docx
    _zip(**{"[Content_Types].xml": "<Types/>", "xl__workbook.xml": "<w/>"})])  # a spreadsheet
def test_other_content_is_refused_whatever_the_name(content):
    with pytest.raises(file_types.NotAllowed, match="whatever its name says"):
        file_types.detect(content)


def test_an_empty_file_is_refused():
    with pytest.raises(file_types.NotAllowed, match="empty"):
        file_types.detect(b"")


def test_the_clamd_address_is_a_unix_socket_or_tcp():
    assert clamd_address("unix:/run/clamav/clamd.ctl").unix_path == "/run/clamav/clamd.ctl"
    tcp = clamd_address("tcp://127.0.0.1:3310")
    assert (tcp.host, tcp.port) == ("127.0.0.1", 3310)
    for wrong in ("clamd", "tcp://host", "unix:relative", "tcp://h:99999"):
        with pytest.raises(AttachmentSettingsError, match="PACE_CLAMD"):
            clamd_address(wrong)


def test_the_size_limit_defaults_to_20_mb():
    assert AttachmentSettings.from_environ({}).max_bytes == 20 * 1024 * 1024
    assert AttachmentSettings.from_environ({}).clamd is None
    assert AttachmentSettings.from_environ({"PACE_ATTACHMENT_MAX_MB": "5"}).max_mb == 5
    with pytest.raises(AttachmentSettingsError, match="PACE_ATTACHMENT_MAX_MB"):
        AttachmentSettings.from_environ({"PACE_ATTACHMENT_MAX_MB": "lots"})
