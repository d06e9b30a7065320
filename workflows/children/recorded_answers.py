"""What a completed step recorded, in the words of its own form.

A task's answers are stored as its form's JSON: field names, choice codes (``kinship``),
ISO dates. Colleagues reading a child's record need the form's words instead: the field's
title, the choice's title, "28 October 2026". The form schema of the diagram version the
child was on holds all of those, so the translation is one pure function of (schema, UI
schema, data); the child page, the task page and the API all use it, and none of them
knows a PACE field.

Fields left empty are left out (a step shows what was recorded, not what was not); a
ticked or unticked box is shown as Yes or No, since both are answers.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Answer:
    """One answered field: its label and the answer as words, or, for a group of fields
    (a repeating row, a nested object), the group's own answers in ``parts``."""
    name: str  # the field's path in the form's data ("attendees.0.name")
    label: str
    text: str = ""
    parts: tuple["Answer", ...] = ()


@dataclass(frozen=True)
class RecordedStep:
    """A completed task of a child: what it was, who completed it when, what they recorded."""
    task_id: str
    task_name: str
    title: str
    process: str
    completed_at: datetime
    completed_by: str
    answers: tuple[Answer, ...] = field(default_factory=tuple)


def long_date(value: date) -> str:
    """28 October 2026: the date as a worker writes it, never ISO."""
    return f"{value.day} {value:%B %Y}"


def _ordered(schema: Mapping, ui: Mapping) -> list[str]:
    """The form's fields in the order the form shows them (``ui:order``, ``*`` for the rest)."""
    names = list(schema.get("properties") or {})
    order = [n for n in (ui.get("ui:order") or []) if n == "*" or n in names]
    if not order:
        return names
    named = [n for n in order if n != "*"]
    rest = [n for n in names if n not in named]
    if "*" not in order:
        return named + rest
    star = order.index("*")
    return order[:star] + rest + order[star + 1:]


def _choice_titles(prop: Mapping) -> dict[str, str]:
    if "oneOf" in prop:
        return {str(o["const"]): str(o.get("title") or o["const"])
                for o in prop["oneOf"] if isinstance(o, Mapping) and "const" in o}
    if "enum" in prop:  # no titles in the schema: the code made readable
        return {str(v): str(v).replace("_", " ").capitalize() for v in prop["enum"]}
    return {}


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _text(prop: Mapping, value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    titles = _choice_titles(prop)
    if titles:
        return titles.get(str(value), str(value))
    if prop.get("format") == "date" and isinstance(value, str):
        try:
            return long_date(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _label(name: str, prop: Mapping) -> str:
    return str(prop.get("title") or name.replace("_", " ").capitalize())


def answers(schema: Mapping, ui: Mapping | None, data: Mapping | None,
            prefix: str = "") -> tuple[Answer, ...]:
    """The answered fields of ``data`` in the words and order of its form. Keys the form
    does not declare are left out: they are not the worker's answers (data a process
    carries along) and have no words to show them in."""
    ui, data = ui or {}, data or {}
    props = schema.get("properties") or {}
    found = []
    for name in _ordered(schema, ui):
        prop, prop_ui, value = props[name], ui.get(name) or {}, data.get(name)
        if not isinstance(prop, Mapping) or _empty(value):
            continue
        path, label = f"{prefix}{name}", _label(name, prop)
        if prop.get("type") == "object" and isinstance(value, Mapping):
            parts = answers(prop, prop_ui, value, f"{path}.")
            if parts:
                found.append(Answer(path, label, parts=parts))
        elif prop.get("type") == "array" and isinstance(value, list):
            items, items_ui = prop.get("items") or {}, prop_ui.get("items") or {}
            if items.get("type") == "object":
                row_label = str(items.get("title") or "Item")
                rows = tuple(Answer(f"{path}.{i}", f"{row_label} {i + 1}",
                                    parts=answers(items, items_ui, row, f"{path}.{i}."))
                             for i, row in enumerate(value) if isinstance(row, Mapping))
                found.append(Answer(path, label, parts=rows))
            else:
                found.append(Answer(path, label, ", ".join(_text(items, v) for v in value)))
        else:
            found.append(Answer(path, label, _text(prop, value)))
    return tuple(found)


def submitted(event_data: Mapping) -> dict:
    """What a completion recorded: its ``answers``; a completion recorded before the answers
    were kept whole holds only the fields that differed from the data the process carried
    (``changes``: field -> [before, after]), so those are all it can show."""
    if isinstance(event_data.get("answers"), Mapping):
        return dict(event_data["answers"])
    changes = event_data.get("changes")
    if isinstance(changes, Mapping):
        return {k: pair[1] if isinstance(pair, list) and len(pair) == 2 else pair
                for k, pair in changes.items()}
    return {}
