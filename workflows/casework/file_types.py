"""What an uploaded file is, read from its content: pure, no database.

The name a file arrives with says nothing reliable (an HTML page renamed ``letter.pdf``
would open in a browser and run its scripts), so the type is read from the bytes by
puremagic, a maintained pure-Python reader of file signatures (no libmagic to install).
Only the kinds a child's record needs are kept: PDF, Word documents and pictures.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import puremagic

# What a worker may attach: detected type -> the words the pages use.
ALLOWED = {
    "application/pdf": "PDF",
    "application/msword": "Word document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.oasis.opendocument.text": "Word document",
    "application/rtf": "Word document",
    "image/png": "Picture",
    "image/jpeg": "Picture",
    "image/gif": "Picture",
    "image/webp": "Picture",
    "image/tiff": "Picture",
}
KINDS_IN_WORDS = "a PDF, a Word document or a picture (PNG, JPEG, GIF, WebP or TIFF)"


@dataclass(frozen=True)
class Detected:
    content_type: str
    kind: str


class NotAllowed(ValueError):
    """The content is not a kind of file the record keeps; the message says what to do."""


def detect(content: bytes) -> Detected:
    """The file's type from its content. Among puremagic's most confident readings the first
    allowed one is taken (a .docx is a zip whose readings include Word's); a file none of
    whose readings is allowed is refused, whatever its name says."""
    if not content:
        raise NotAllowed("The file is empty. Choose the file again.")
    try:
        matches = puremagic.magic_string(content)
    except puremagic.PureError:
        matches = []
    best = max((m.confidence for m in matches), default=0)
    for match in matches:
        if match.confidence == best and match.mime_type in ALLOWED:
            return Detected(match.mime_type, ALLOWED[match.mime_type])
    seen = next((m.mime_type for m in matches if m.mime_type), None)
    what = f" Its content is {seen}." if seen else ""
    raise NotAllowed(f"This file cannot be attached: it is not {KINDS_IN_WORDS}, whatever its "
                     f"name says.{what} Save it as a PDF and attach that.")


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
