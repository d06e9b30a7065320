"""Every CSV the service writes goes through here, so no cell runs as a spreadsheet formula.

Excel, LibreOffice and Google Sheets read a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula (some skip a leading tab or carriage return first): a child named
``=HYPERLINK("http://x","Open")`` would become a link in the breach forecast a manager
opens, and ``=cmd|' /C calc'!A0`` can start a program (OWASP, "CSV injection"). Such a
cell is written with a leading apostrophe, which the spreadsheet shows as text and hides.

A plain number (``-3``, ``+1.5``, ``-12%``, ``1e-3``) is left as it is: no spreadsheet
runs it, and the measures' exports carry negative changes that must stay numbers.
Reading a file back, ``uncell`` removes exactly the apostrophe ``cell`` added (the audit
export's off-line verification and the caseload import do).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?%?")


def _runs(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` once any apostrophes before it are gone
    (a value that itself starts with one is prefixed too, so ``uncell`` is exact)."""
    core = text.lstrip("'")
    return core.startswith(FORMULA_START) and not _NUMBER.fullmatch(core)


def cell(value) -> str:
    """``value`` as the text of one CSV cell that a spreadsheet shows and never runs."""
    text = "" if value is None else str(value)
    return "'" + text if _runs(text) else text


def uncell(text: str) -> str:
    """The cell's text as it was before ``cell``: the apostrophe it added removed."""
    return text[1:] if text.startswith("'") and _runs(text) else text


class Writer:
    """``csv.writer`` whose every cell goes through ``cell`` (same arguments)."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def to_text(rows: Iterable[Iterable], header: Sequence[str] | None = None, **options) -> str:
    """A whole CSV file as text (``options`` as for ``csv.writer``, e.g. lineterminator)."""
    out = io.StringIO()
    writer = Writer(out, **options)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
