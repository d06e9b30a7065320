"""Rendering and reading task forms from JSON Schema, without a database."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from web.pages import form_errors, schema_form

SCHEMA = {
    "type": "object",
    "required": ["held", "route", "notes"],
    "properties": {
        "held": {"type": "string", "format": "date", "title": "Date held"},
        "route": {"type": "string", "title": "Route", "oneOf": [
            {"const": "home", "title": "Home"}, {"const": "adoption", "title": "Adoption"}]},
        "notes": {"type": "string", "title": "Notes", "maxLength": 20},
        "count": {"type": "integer", "title": "Number of visits"},
        "heard": {"type": "boolean", "title": "Views heard"},
        "needs": {"type": "array", "title": "Needs", "items": {"enum": ["health", "school"]}},
        "people": {"type": "array", "title": "People", "maxItems": 3, "items": {
            "type": "object", "title": "Person", "required": ["name"],
            "properties": {"name": {"type": "string", "title": "Name"},
                           "present": {"type": "boolean", "title": "Present", "default": True}}}},
        "next_date": {"type": "string", "format": "date", "title": "Next review"},
    },
    "if": {"properties": {"route": {"const": "home"}}, "required": ["route"]},
    "then": {"required": ["next_date"]},
}
UI = {"ui:order": ["route", "*", "notes"], "notes": {"ui:widget": "textarea", "ui:options": {"rows": 3}}}


def test_fields_follow_ui_order_and_kinds():
    fields = schema_form.build(SCHEMA, UI, {})
    assert [f.name for f in fields] == ["route", "held", "count", "heard", "needs", "people",
                                        "next_date", "notes"]
    kinds = {f.name: f.kind for f in fields}
    assert kinds == {"route": "radios", "held": "date", "count": "number", "heard": "checkbox",
                     "needs": "checkboxes", "people": "repeat", "next_date": "date",
                     "notes": "textarea"}
    notes = fields[-1]
    assert notes.rows == 3 and notes.required and not fields[2].required
    assert fields[0].options == [("home", "Home"), ("adoption", "Adoption")]


def test_reading_a_post_gives_the_schema_shape():
    form = MultiDict([("held.day", "5"), ("held.month", "3"), ("held.year", "2026"),
                      ("route", "home"), ("notes", "  Line one\r\nLine two "), ("count", "2"),
                      ("heard", "true"), ("needs", "health"), ("needs", "school"),
                      ("people.count", "3"), ("people.0.name", "Mum"), ("people.0.present", "true"),
                      ("people.1.name", ""), ("people.2.name", "Gran")])
    data, problems = schema_form.read(SCHEMA, form)
    assert problems == {}
    assert data == {"held": "2026-03-05", "route": "home", "notes": "Line one\nLine two",
                    "count": 2, "heard": True, "needs": ["health", "school"],
                    "people": [{"name": "Mum", "present": True}, {"name": "Gran", "present": False}]}


def test_unreadable_entries_are_kept_and_explained():
    form = MultiDict([("held.day", "31"), ("held.month", "2"), ("held.year", "2026"),
                      ("next_date.day", "4"), ("count", "two")])
    data, problems = schema_form.read(SCHEMA, form)
    assert data["held"] == "2026-02-31" and data["count"] == "two"
    assert problems == {"held": "Date held must be a real date",
                        "next_date": "Next review must include a month and year",
                        "count": "Number of visits must be a number"}
    fields = {f.name: f for f in schema_form.build(SCHEMA, UI, data, problems)}
    assert fields["held"].date_parts == {"day": "31", "month": "2", "year": "2026"}
    assert fields["next_date"].date_parts == {"day": "4", "month": "", "year": ""}
    assert fields["held"].anchor == "f-held-day" and fields["route"].anchor == "f-route-0"


def test_messages_are_in_plain_english():
    data = {"route": "home", "notes": "x" * 21, "people": [{"present": True}]}
    assert form_errors.messages(SCHEMA, data) == {
        "held": "Enter date held",
        "notes": "Notes must be 20 characters or fewer",
        "people.0.name": "Enter name",
        "next_date": "Enter next review",  # required only because route is "home"
    }
    assert form_errors.messages(SCHEMA, {"route": "elsewhere"})["route"] == \
        "Select route from the list"


def test_add_and_remove_rows():
    data = {"people": [{"name": "Mum"}]}
    assert schema_form.change_rows(SCHEMA, data, "add:people") == "people.1."
    assert data["people"][1] == {"present": True}  # the schema default
    fields = schema_form.build(SCHEMA, UI, data)
    assert schema_form.focus_target(fields, "people.1.") == "f-people-1-name"
    assert schema_form.change_rows(SCHEMA, data, "remove:people:0") == "f-people-add"
    assert data == {"people": [{"present": True}]}
    schema_form.change_rows(SCHEMA, data, "add:people")
    schema_form.change_rows(SCHEMA, data, "add:people")
    schema_form.change_rows(SCHEMA, data, "add:people")  # maxItems 3
    assert len(data["people"]) == 3
    assert schema_form.change_rows(SCHEMA, data, "add:nothing") is None
    assert schema_form.change_rows(SCHEMA, data, "remove:people:9") is None


def test_posted_row_count_is_bounded():
    form = MultiDict([("people.count", "100000")])
    data, _ = schema_form.read(SCHEMA, form, keep_blank_rows=True)
    assert len(data["people"]) == schema_form.MAX_ROWS
