"""The text of an uploaded diagram, whatever single-byte encoding its XML declaration names.

Modelers write UTF-8, but a diagram saved by an older tool or an XSLT step often declares
``ISO-8859-1``, ``windows-1252`` or ``US-ASCII`` while holding only plain ASCII letters.
Refusing those for their label sent process owners off to re-save files that were fine.
The bytes are decoded with the codec the declaration names, from a short list of encodings
that are ASCII in their first half (so the declaration itself reads the same in each),
and the declaration is rewritten to UTF-8, the one encoding drafts are stored in. A file
that declares such an encoding but holds UTF-8 letters (a label left behind by an editor)
is refused rather than read as mojibake. Other
labels (UTF-7, EBCDIC, UTF-16 and the like, which could make the parser read different
text from what a person sees) are refused with what to do.
"""
from __future__ import annotations

import codecs
import re

_DECLARATION = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._-]+)(["'])""")
_READABLE = {"utf-8", "ascii", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254",
             "cp1257", *(f"iso8859-{n}" for n in range(1, 17) if n != 12)}


class EncodingRefused(ValueError):
    """The diagram's bytes cannot be read as text; the message says which file and why."""


def as_utf8(name: str, data: bytes) -> str:
    """``data`` as text, its XML declaration (if any) naming UTF-8."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    declared = _DECLARATION.match(data)
    label = declared.group(2).decode("ascii") if declared else "UTF-8"
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        codec = None
    if codec not in _READABLE:
        raise EncodingRefused(f"{name} declares the encoding {label}, which PACE Flow does not "
                              "read. Save it as UTF-8 (the modeler's usual choice) and upload "
                              "it again.")
    if codec != "utf-8" and not data.isascii() and _is_utf8(data):
        line = data[:next(i for i, b in enumerate(data) if b > 127)].count(b"\n") + 1
        raise EncodingRefused(f"{name} declares the encoding {label} but holds UTF-8 text (see "
                              f"line {line}), so its letters would be read wrongly. Change the "
                              'first line to encoding="UTF-8" (or save it as UTF-8) and upload '
                              "it again.")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise EncodingRefused(f"{name} is not {label} text (a byte on line {line} cannot be "
                              "read). Save it again as UTF-8 and upload it again.") from None
    if declared and codec != "utf-8":
        text = text.replace(declared.group(0).decode(codec),
                            (declared.group(1) + b"UTF-8" + declared.group(3)).decode(codec), 1)
    return text.removeprefix("\ufeff")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
