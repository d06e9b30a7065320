"""Word templates are data, not code (issue 28, workflows/process_models/document_templates.py):
a .docx is a zip of XML, so XXE, zip bombs and path tricks are refused before anything is
unpacked or parsed, each with a message naming the file and why; placeholders may name only
what PACE Flow fills and the task form's own fields (an unknown one is named with the nearest
field); nothing reaches Python's internals, at check time or at render time; a worker's
answer is text in the document, never XML.
"""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from workflows.documents import context as filling
from workflows.process_models import document_templates as templates
from workflows.process_models.document_templates import TemplateRefused

ROOT = Path(__file__).resolve().parents[2]
FORM = json.loads((ROOT / "bpmn/cso_home_review/forms/hold_aim1_review.schema.json").read_text())
MINUTE = (ROOT / "bpmn/cso_home_review/documents/action_minute.docx").read_bytes()


def docx(*paragraphs: str) -> bytes:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def rezipped(data: bytes, replace: dict[str, bytes] | None = None,
             add: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, (replace or {}).get(info.filename, src.read(info)))
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def test_the_shipped_action_minute_passes_its_forms_check():
    assert templates.check("action_minute.docx", MINUTE, FORM, "hold_aim1_review.schema.json") == []
    assert "answers.recommendation" in templates.placeholders(MINUTE)


def test_xxe_in_document_xml_is_refused_naming_the_part():
    xxe = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           b'<w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>')
    hostile = rezipped(docx("Hello"), replace={"word/document.xml": xxe})
    with pytest.raises(TemplateRefused, match=r"minute\.docx was refused: its part "
                                              r"word/document\.xml: .*DOCTYPE or entities"):
        templates.read("minute.docx", hostile)
    assert "etc/passwd" not in str(templates.check("minute.docx", hostile, FORM))


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    bomb = rezipped(docx("Hello"), add={"word/media/padding.xml": b"\0" * (1_500_000)})
    with pytest.raises(TemplateRefused, match="compressed more than 100 times over.*zip bomb"):
        templates.read("minute.docx", bomb)
    huge = rezipped(docx("Hello"), add={"word/big.xml": b"<a>" + b" " * 3_000_000 + b"</a>"})
    with pytest.raises(TemplateRefused, match="larger than|zip bomb"):
        templates.read("minute.docx", huge)


@pytest.mark.parametrize("entry", ["../evil.xml", "word/../../evil.xml", "/etc/evil.xml",
                                   "word\\evil.xml", "C:/evil.xml"])
def test_path_tricks_in_entry_names_are_refused(entry):
    hostile = rezipped(docx("Hello"), add={entry: b"<a/>"})
    with pytest.raises(TemplateRefused, match=r"minute\.docx holds a part named .*'\.\.', a "
                                              "backslash or an absolute path"):
        templates.read("minute.docx", hostile)


def test_not_a_word_document_is_said_so():
    with pytest.raises(TemplateRefused, match="is not a Word document"):
        templates.read("minute.docx", b"%PDF-1.4 not a zip")
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(TemplateRefused, match="has no word/document.xml"):
        templates.read("minute.docx", plain_zip.getvalue())
    with pytest.raises(TemplateRefused, match="not an allowed template name"):
        templates.read("../minute.docx", docx("Hello"))


def test_an_unknown_placeholder_is_named_with_the_nearest_field():
    found = templates.check("minute.docx", docx("{{ answers.recomendation }}"), FORM,
                            "hold_aim1_review.schema.json")
    assert found == ["minute.docx: the placeholder {{ answers.recomendation }} names "
                     "recomendation, which is not a field of the form "
                     "hold_aim1_review.schema.json; the nearest field is recommendation."]
    found = templates.check("minute.docx", docx("{{ chlid.name }}"), FORM)
    assert "names chlid, which PACE Flow does not fill; the nearest is child" in found[0]


@pytest.mark.parametrize("text", [
    "{{ x.__class__ }}", "{{ answers.chair.__class__.__mro__ }}",
    "{{ child['__class__'] }}", "{{ ''.__class__.__base__.__subclasses__() }}"])
def test_reaching_into_python_internals_is_refused_at_check_time(text):
    found = templates.check("minute.docx", docx(text), FORM)
    assert found and any("reaches into Python's internals" in p or "uses call" in p
                         for p in found), found


@pytest.mark.parametrize("text,word", [
    ("{{ answers.chair.upper() }}", "call"), ("{% include 'x' %}", "include"),
    ("{% import 'x' as y %}", "import"), ("{{ 9 ** 9 ** 9 }}", "pow"),
    ("{{ answers.chair * 1000000 }}", "mul"), ("{{ answers.chair|attr('x') }}", "attr")])
def test_code_in_a_template_is_refused(text, word):
    found = templates.check("minute.docx", docx(text), FORM)
    assert found and word in " ".join(found).lower(), found


def test_rendering_is_sandboxed_and_answers_stay_text():
    with pytest.raises(TemplateRefused, match="reaches into Python's internals"):
        templates.render("minute.docx", docx("{{ child.__class__.__mro__ }}"),
                         {"child": {"name": "x"}})
    child = filling.ChildFacts("Kim <w:p/> & Co", "R1", date(2016, 1, 2), "North", "Jo")
    task = filling.TaskFacts("Hold review", "A. Reid", date(2026, 10, 28), "CSO at home", 3)
    values = filling.fill(child, task, FORM, {}, {"date_held": "2026-10-28",
                                                  "recommendation": "terminate"},
                          date(2026, 10, 29))
    made = templates.render("action_minute.docx", MINUTE, values)
    text = "\n".join(p.text for p in Document(io.BytesIO(made)).paragraphs)
    cells = " ".join(c.text for t in Document(io.BytesIO(made)).tables
                     for r in t.rows for c in r.cells)
    assert "Kim <w:p/> & Co" in cells and "28 October 2026" in cells
    assert "Recommendation to the Children's Hearing" in text
    titles = {o["const"]: o["title"] for o in FORM["properties"]["recommendation"]["oneOf"]}
    assert titles["terminate"] in text


def test_a_document_is_called_what_the_council_titled_its_template_in_word():
    shipped = (ROOT / "bpmn/permanence_journey/documents/legal_referral.docx").read_bytes()
    assert templates.title("legal_referral.docx", shipped) == "Referral Form for Legal Advice"
    doc = Document(io.BytesIO(docx("x")))
    doc.core_properties.title = "  Action   Minute\n"
    out = io.BytesIO()
    doc.save(out)
    assert templates.title("action_minute.docx", out.getvalue()) == "Action Minute"


def test_without_a_title_in_word_the_file_name_is_said_in_words():
    untitled = rezipped(docx("x"), replace={"docProps/core.xml": b"<cp:coreProperties "
                        b"xmlns:cp='http://schemas.openxmlformats.org/package/2006/"
                        b"metadata/core-properties'/>"})
    assert templates.title("looked_after_review_record.docx", untitled) == \
        "Looked after review record"
    xxe = rezipped(docx("x"), replace={"docProps/core.xml": b"<!DOCTYPE t [<!ENTITY e SYSTEM "
                   b"'file:///etc/passwd'>]><t>&e;</t>"})
    assert templates.title("action_minute.docx", xxe) == "Action minute"


def test_a_document_file_name_reads_as_its_title_and_keeps_its_extension():
    from types import SimpleNamespace
    from workflows.services.documents import _file_name
    child = SimpleNamespace(reference="C00020")
    assert _file_name("Looked After Review: Record of the Substantive Review", child,
                      date(2026, 10, 24)) == \
        "Looked After Review Record of the Substantive Review C00020 24 Oct 2026.docx"
    long = _file_name("Minute " * 60, child, date(2026, 10, 24))
    assert long.endswith(".docx") and len(long) <= 200
