"""What an uploaded file is, read from its content: pure, no database.

The name a file arrives with says nothing reliable (an HTML page renamed ``letter.pdf``
would open in a browser and run its scripts), so the type is read from the bytes by
puremagic, a maintained pure-Python reader of file signatures (no libmagic to install).
Only the kinds a child's record needs are kept: PDF, Word documents and pictures.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
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
            if match.mime_type in _ZIP_WORD:  # a zip: its parts say whether it is Word's
                package = _word_package(content)
                if package is None:
                    continue
                return Detected(package, ALLOWED[package])
            return Detected(match.mime_type, ALLOWED[match.mime_type])
    seen = next((m.mime_type for m in matches if m.mime_type), None)
    what = f" It is {_IN_WORDS.get(seen, f'a file of type {seen}')}." if seen else ""
    raise NotAllowed(f"This file cannot be attached: it is not {KINDS_IN_WORDS}, whatever its "
                     f"name says.{what} If it is a document, save it as a PDF and attach that.")


# What a refused file is, in words (puremagic reads every zip as a .docx first).
_IN_WORDS = {"text/html": "a web page (text/html)", "text/xml": "an XML file (text/xml)",
             "application/x-dosexec": "a program (application/x-dosexec)",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
                 "a zip archive, not a Word document"}
_ZIP_WORD = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "application/vnd.oasis.opendocument.text"}


def _word_package(content: bytes) -> str | None:
    """The type of a Word package, or None. A .docx and an .odt are zip files; puremagic
    (1.x, which reads a buffer's first bytes only) calls every zip a .docx. The package's
    own table of parts says which it is:
    a Word document has ``word/document.xml``, an OpenDocument text its ``mimetype`` entry.
    Only the zip's directory and that one small entry are read, never the whole package."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            names = set(package.namelist())
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            if "mimetype" in names and package.getinfo("mimetype").file_size < 100 \
                    and package.read("mimetype") == b"application/vnd.oasis.opendocument.text":
                return "application/vnd.oasis.opendocument.text"
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, NotImplementedError):
        return None
    return None


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
