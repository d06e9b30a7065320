"""A reference outside the form is found wherever it sits, not only at the top.

A ``$ref`` to another server hidden in a nested property or an ``items`` list would make
jsonschema fetch it when a task is completed; the upload check must list it.
"""
import pytest

from engine.form_schemas import FormCannotBeChecked, outside_references, problems


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


def test_a_form_deployed_with_an_outside_reference_refuses_answers_saying_what_to_do():
    form = {"type": "object", "properties": {"carer": {"$ref": "https://forms.example/carer"}}}
    with pytest.raises(FormCannotBeChecked) as refused:
        problems(form, {"carer": "A"})
    assert str(refused.value) == (
        "This task's form refers to 'https://forms.example/carer', outside the form, so what you "
        "entered cannot be checked. Nothing was saved and your entries are kept: ask a process "
        "owner to correct the form, then submit again.")
    assert refused.value.status == 409


def test_problems_are_listed_in_field_order():
    form = {"type": "object", "properties": {"second": {"type": "string"}, "first": {"type": "string"},
                                             "third": {"type": "object", "properties": {"a": {"type": "string"}}}}}
    found = problems(form, {"third": {"a": 1}, "second": 2, "first": 3})
    assert [list(error.path) for error in found] == [["first"], ["second"], ["third", "a"]]
    assert problems(form, {"first": "x"}) == []
