"""Write the Word templates the shipped diagrams name (``document`` property) into
``bpmn/<process>/documents/``: the action minute of a CSO-at-home review, the referral for
legal advice and the record of a substantive looked-after review.

The .docx files are committed (a council opens and edits them in Word, and ``pace init-db``
deploys them with the diagrams); this script is how they were made, so they can be made
again after a form changes: ``.venv/bin/python scripts/build_document_templates.py``.
Each placeholder sits in a run of its own, so Word's splitting of runs cannot break it, and
the files are byte-for-byte the same each time (fixed dates in the package and the zip).
"""
from __future__ import annotations

import io
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

ROOT = Path(__file__).resolve().parent.parent
FIXED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _new(title: str, subtitle: str):
    doc = Document()
    doc.core_properties.author = "PACE Flow"
    doc.core_properties.title = title
    doc.core_properties.created = doc.core_properties.modified = FIXED
    doc.core_properties.last_modified_by = "PACE Flow"
    doc.core_properties.revision = 1
    style = doc.styles["Normal"]
    style.font.name, style.font.size = "Arial", Pt(11)
    doc.add_heading(title, level=0)
    intro = doc.add_paragraph(subtitle)
    intro.alignment = WD_ALIGN_PARAGRAPH.LEFT
    return doc


def _details(doc, rows):
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    doc.add_paragraph()


def _answer(doc, field: str):
    """A question of the form in the form's own words, then the answer."""
    doc.add_heading(f"{{{{ labels.{field} }}}}", level=2)
    doc.add_paragraph(f"{{{{ answers.{field} }}}}")


def _child_rows():
    return [("Child", "{{ child.name }}"), ("Reference", "{{ child.reference }}"),
            ("Date of birth", "{{ child.date_of_birth }}"), ("Team", "{{ child.team }}"),
            ("Allocated social worker", "{{ child.allocated_worker }}")]


def action_minute() -> Document:
    doc = _new("Action Minute",
               "Review of a Compulsory Supervision Order: child at home. This minute, "
               "including the recommendation to the Children's Hearing, is sent to the "
               "Children's Reporter.")
    _details(doc, _child_rows() + [("Date of review", "{{ answers.date_held }}"),
                                   ("Chair", "{{ answers.chair }}"),
                                   ("Who attended", "{{ answers.attendees }}")])
    doc.add_heading("Discussion", level=1)
    for field in ("grounds_still_relevant", "family_situation_changed", "support_without_order"):
        _answer(doc, field)
    doc.add_heading("Actions agreed", level=1)
    doc.add_paragraph("{{ answers.action_minute }}")
    doc.add_heading("Recommendation to the Children's Hearing", level=1)
    doc.add_paragraph("{{ answers.recommendation }}")
    doc.add_heading("Reasons for the recommendation", level=2)
    doc.add_paragraph("{{ answers.reasons }}")
    doc.add_paragraph("Minute written by {{ task.completed_by }} on {{ task.completed_on }}.")
    return doc


def legal_referral() -> Document:
    doc = _new("Referral Form for Legal Advice",
               "To Legal Services. The social worker completes this referral and submits it "
               "to Legal Services 2 weeks prior to the Substantive Looked After Review.")
    _details(doc, _child_rows() + [("Date referral sent", "{{ answers.referral_date }}"),
                                   ("Solicitor referred to", "{{ answers.solicitor }}")])
    doc.add_heading("Route to permanence being considered", level=1)
    doc.add_paragraph("{{ answers.route_under_consideration }}")
    doc.add_heading("Questions for Legal Services", level=1)
    doc.add_paragraph("{{ answers.questions }}")
    doc.add_paragraph("Referred by {{ task.completed_by }} on {{ task.completed_on }}.")
    return doc


def review_record() -> Document:
    doc = _new("Looked After Review: Record of the Substantive Review",
               "Record of the substantive looked-after review, at which the recommendation "
               "on the child's route to permanence is made.")
    _details(doc, _child_rows() + [("Date of review", "{{ answers.date_held }}"),
                                   ("Independent chair", "{{ answers.chair }}"),
                                   ("Who attended", "{{ answers.attendees }}")])
    _answer(doc, "legal_advice_considered")
    _answer(doc, "legal_basis")
    doc.add_heading("Views and plans", level=1)
    for field in ("child_views", "parents_views", "parents_position", "contact_plan",
                  "siblings", "wider_family", "contingency_plan", "advocacy"):
        _answer(doc, field)
    _answer(doc, "next_hearing_date")
    doc.add_heading("Recommended route to permanence", level=1)
    doc.add_paragraph("{{ answers.route }}")
    doc.add_heading("Reasons for the recommendation", level=2)
    doc.add_paragraph("{{ answers.reasons }}")
    doc.add_heading("Next looked-after review", level=1)
    doc.add_paragraph("{{ answers.next_review_date }}")
    doc.add_paragraph("Recorded by {{ task.completed_by }} on {{ task.completed_on }}.")
    return doc


TEMPLATES = {
    ROOT / "bpmn/cso_home_review/documents/action_minute.docx": action_minute,
    ROOT / "bpmn/permanence_journey/documents/legal_referral.docx": legal_referral,
    ROOT / "bpmn/permanence_journey/documents/looked_after_review_record.docx": review_record,
}


def _repacked(data: bytes) -> bytes:
    """The same package with every entry dated FIXED, so a rebuild changes no byte."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info))
    return out.getvalue()


def build() -> list[Path]:
    written = []
    for path, make in TEMPLATES.items():
        buffer = io.BytesIO()
        make().save(buffer)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_repacked(buffer.getvalue()))
        written.append(path)
    return written


if __name__ == "__main__":
    for written in build():
        print(written.relative_to(ROOT))
    sys.exit(0)
