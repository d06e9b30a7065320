"""A generated document read back as headings, paragraphs and tables, for the print-friendly
page: a worker without Word reads (and prints) the same content as the .docx, taken from the
document itself rather than rendered a second way, so the two cannot differ."""
from __future__ import annotations

import io
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    kind: str                   # heading | paragraph | table
    text: str = ""
    level: int = 0              # a heading's level, 1 or 2
    rows: tuple[tuple[str, ...], ...] = field(default_factory=tuple)


def blocks(document: bytes) -> list[Block]:
    """The document's body in order; empty paragraphs left out."""
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    doc = Document(io.BytesIO(document))
    found: list[Block] = []
    for item in doc.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            if style == "Title" or style.startswith("Heading"):
                level = 1 if style in ("Title", "Heading 1") else 2
                found.append(Block("heading", text, level))
            else:
                found.append(Block("paragraph", text))
        elif isinstance(item, Table):
            rows = tuple(tuple(cell.text.strip() for cell in row.cells) for row in item.rows)
            found.append(Block("table", rows=rows))
    return found
