"""The answers of a completed step in the words of its form (workflows/children/recorded_answers)."""
from __future__ import annotations

import json
from pathlib import Path

from workflows.children.recorded_answers import Answer, answers, long_date, submitted

FORMS = Path(__file__).resolve().parents[2] / "bpmn" / "permanence_journey" / "forms"


def _form(name: str) -> tuple[dict, dict]:
    return (json.loads((FORMS / f"{name}.schema.json").read_text()),
            json.loads((FORMS / f"{name}.uischema.json").read_text()))


def test_labels_choice_titles_and_long_dates_from_the_form():
    schema, ui = _form("substantive_lar")
    shown = answers(schema, ui, {"route": "kinship", "date_held": "2026-10-28",
                                 "chair": "J. Campbell", "reasons": "Line one\nLine two",
                                 "legal_advice_considered": False})
    assert [(a.label, a.text) for a in shown] == [
        ("Date of review", "28 October 2026"), ("Independent chair", "J. Campbell"),
        ("Legal advice was available to the review", "No"),
        ("Recommended route to permanence", "Kinship care order"),
        ("Reasons for the recommendation", "Line one\nLine two")]
    assert "kinship" not in {a.text for a in shown}


def test_the_forms_order_and_nothing_for_empty_fields():
    schema = {"properties": {"a": {"type": "string", "title": "A"},
                             "b": {"type": "string", "title": "B"},
                             "c": {"type": "string", "title": "C"}}}
    shown = answers(schema, {"ui:order": ["c", "*"]}, {"a": "1", "b": "", "c": "3"})
    assert [a.label for a in shown] == ["C", "A"]


def test_repeating_rows_nested_objects_and_lists_of_choices():
    schema = {"properties": {
        "people": {"type": "array", "title": "Who attended", "items": {
            "type": "object", "title": "Person", "properties": {
                "name": {"type": "string", "title": "Name"},
                "attended": {"type": "boolean", "title": "Attended"}}}},
        "carer": {"type": "object", "title": "Carer", "properties": {
            "since": {"type": "string", "format": "date", "title": "Caring since"}}},
        "needs": {"type": "array", "title": "Needs", "items": {
            "type": "string", "enum": ["speech_therapy", "school"]}},
        "count": {"type": "number", "title": "Visits"},
        "ages": {"type": "string", "title": "Age band", "enum": ["under_5", "5_to_11"]}}}
    shown = answers(schema, {}, {"people": [{"name": "Mum", "attended": True}, {"name": "Gran"}],
                                 "carer": {"since": "2025-02-01"},
                                 "needs": ["speech_therapy", "school"], "count": 3.0,
                                 "ages": "under_5"})
    assert shown[0] == Answer("people", "Who attended", parts=(
        Answer("people.0", "Person 1", parts=(Answer("people.0.name", "Name", "Mum"),
                                              Answer("people.0.attended", "Attended", "Yes"))),
        Answer("people.1", "Person 2", parts=(Answer("people.1.name", "Name", "Gran"),))))
    assert shown[1] == Answer("carer", "Carer", parts=(
        Answer("carer.since", "Caring since", "1 February 2025"),))
    assert shown[2].text == "Speech therapy, School"
    assert shown[3].text == "3" and shown[4].text == "Under 5"


def test_what_the_form_does_not_declare_or_cannot_read_is_kept_as_typed_or_left_out():
    schema = {"properties": {"when": {"type": "string", "format": "date", "title": "When"},
                             "pick": {"type": "string", "title": "Pick",
                                      "oneOf": [{"const": "a", "title": "Option A"}]}}}
    shown = answers(schema, None, {"when": "not a date", "pick": "gone", "carried": "x"})
    assert [(a.label, a.text) for a in shown] == [("When", "not a date"), ("Pick", "gone")]


def test_submitted_reads_answers_and_the_older_changes_shape():
    assert submitted({"answers": {"a": 1}, "changes": {"a": [0, 2]}}) == {"a": 1}
    assert submitted({"changes": {"a": [None, "x"], "b": ["y", "z"]}}) == {"a": "x", "b": "z"}
    assert submitted({"task": "t"}) == {}


def test_long_date():
    from datetime import date
    assert long_date(date(2026, 10, 28)) == "28 October 2026"
