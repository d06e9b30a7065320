"""A reference outside the form is found wherever it sits, not only at the top.

A ``$ref`` to another server hidden in a nested property or an ``items`` list would make
jsonschema fetch it when a task is completed; the upload check must list it.
"""
from engine.form_schemas import outside_references


def test_references_outside_the_form_are_found_at_any_depth():
    schema = {
        "type": "object",
        "$defs": {"date": {"type": "string", "format": "date"}},
        "properties": {
            "held": {"$ref": "#/$defs/date"},
            "carer": {"type": "object", "properties": {"address": {"$ref": "https://forms.example/address"}}},
            "visits": {"type": "array", "items": [{"$dynamicRef": "http://example.org/visit"}]},
            "note": {"anyOf": [{"$recursiveRef": "other.json"}, {"type": "string"}]},
        },
    }
    assert outside_references(schema) == [
        "http://example.org/visit", "https://forms.example/address", "other.json"]


def test_a_form_referring_only_inside_itself_has_none():
    assert outside_references({"properties": {"a": {"$ref": "#/$defs/a"}}, "$defs": {"a": {}}}) == []
    assert outside_references({"properties": {"$ref": {"type": "string"}}}) == []
