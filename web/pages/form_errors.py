"""Validation messages in GOV.UK style ("Enter date of meeting"), keyed by data path.

The engine's ``InvalidData`` is the authority on whether data is acceptable; its messages
are jsonschema's ("'questions' is a required property"), written for developers. When it
refuses a submit, the same schema is checked again here to say, per field, what the
worker should do.
"""
from __future__ import annotations

from engine import form_schemas

from engine.errors import FieldError

from web.pages.schema_form import choices, label_for, subschema


def _lower(label: str) -> str:
    """'Date of meeting' -> 'date of meeting'; acronyms such as 'CAPR' keep their case."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def _message(error, schema: dict, path: str) -> str:
    prop = subschema(schema, path) or {}
    label = label_for(path, prop)
    kind = error.validator
    if kind == "required":
        if choices(prop) or prop.get("type") == "boolean":
            return f"Select {_lower(label)}"
        if prop.get("type") == "array":
            item = prop.get("items", {}).get("title", "item")
            return f"Add at least one {_lower(item)}"
        return f"Enter {_lower(label)}"
    if kind == "format" and error.validator_value == "date":
        return f"{label} must be a real date"
    if kind in ("oneOf", "enum", "const"):
        return f"Select {_lower(label)} from the list"
    if kind == "maxLength":
        return f"{label} must be {error.validator_value} characters or fewer"
    if kind == "minLength":
        return f"Enter {_lower(label)}" if error.validator_value == 1 else \
            f"{label} must be {error.validator_value} characters or more"
    if kind == "type":
        wanted = error.validator_value
        if wanted == "integer":
            return f"{label} must be a whole number"
        if wanted == "number":
            return f"{label} must be a number"
        return f"{label} is not valid"
    if kind == "minimum":
        return f"{label} must be {error.validator_value} or more"
    if kind == "maximum":
        return f"{label} must be {error.validator_value} or less"
    if kind == "maxItems":
        return f"{label}: add no more than {error.validator_value}"
    if kind == "minItems":
        return f"{label}: add at least {error.validator_value}"
    if kind == "pattern":
        return f"{label} is not in the right format"
    if kind == "additionalProperties":
        return "The form contained a field this task does not have; reload the page"
    return f"{label}: {error.message}"


def messages(schema: dict, data: dict) -> dict[str, str]:
    """First message per data path; "" is the form as a whole."""
    found: dict[str, str] = {}
    for error in form_schemas.problems(schema, data):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = ".".join(filter(None, [path, missing]))
        found.setdefault(path, _message(error, schema, path))
    return found


def for_field_errors(schema: dict, data: dict, errors: list[FieldError]) -> dict[str, str]:
    """Friendly messages for the engine's refusal; its own words where none apply."""
    friendly = messages(schema, data)
    result = {}
    for error in errors:
        result.setdefault(error.field, friendly.get(error.field, error.message))
    for path, message in friendly.items():
        result.setdefault(path, message)
    return result
