"""Task forms rendered from the task's JSON Schema, and read back from the posted form.

Process owners change forms by editing schema files, so nothing here knows a PACE field.
Supported shapes (what the diagrams use, plus a little slack): strings as text inputs,
long text (``ui:widget: textarea``), dates (``format: date``, as GOV.UK day/month/year
inputs), choices (``oneOf`` const/title or ``enum``, as radios, or a select with
``ui:widget: select``), booleans (a checkbox), numbers, nested objects, arrays of objects
(repeating rows whose add/remove buttons are plain submit buttons, so they work without
JavaScript) and arrays of choices (checkboxes).

Posted values keep what the worker typed even when it is wrong (``2026-2-31``, ``abc``),
so a failed submit or a saved draft gives every entry back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.form_schemas import IMPORT_ONLY

MAX_ROWS = 100
_DIGITS = re.compile(r"^\d+$")


@dataclass
class Field:
    name: str  # dotted path into the data: "attendees.0.name"
    label: str
    kind: str  # text|textarea|date|radios|select|checkbox|checkboxes|number|object|repeat
    hint: str = ""
    required: bool = False
    value: Any = None
    error: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    rows: int = 5
    children: list["Field"] = field(default_factory=list)  # object: its fields
    items: list[list["Field"]] = field(default_factory=list)  # repeat: one list per row
    item_label: str = "Item"
    max_items: int | None = None
    input_type: str = "text"

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    @property
    def anchor(self) -> str:
        """Where an error-summary link should move focus."""
        if self.kind == "date":
            return f"{self.id}-day"
        if self.kind in ("radios", "checkboxes") and self.options:
            return f"{self.id}-0"
        if self.kind == "repeat":
            return f"{self.id}-add" if not self.items else self.items[0][0].anchor
        if self.kind == "object" and self.children:
            return self.children[0].anchor
        return self.id

    @property
    def date_parts(self) -> dict[str, str]:
        text = self.value if isinstance(self.value, str) else ""
        year, month, day = (text.split("-", 2) + ["", ""])[:3] if text else ("", "", "")
        if _DIGITS.match(month or "x") and _DIGITS.match(day or "x") and _DIGITS.match(year or "x"):
            month, day = str(int(month)), str(int(day))
        return {"day": day, "month": month, "year": year}

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()
        for row in self.items:
            for child in row:
                yield from child.walk()


# -- schema helpers -----------------------------------------------------------------------
def choices(prop: dict) -> list[tuple[str, str]]:
    """The options a worker is offered: never a choice only an import records
    (``x-import-only``, engine/form_schemas.py)."""
    if "oneOf" in prop:
        return [(str(o["const"]), o.get("title") or str(o["const"]))
                for o in prop["oneOf"] if "const" in o and o.get(IMPORT_ONLY) is not True]
    if "enum" in prop:
        return [(str(v), str(v).replace("_", " ").capitalize()) for v in prop["enum"]]
    return []


def label_for(name: str, prop: dict) -> str:
    return prop.get("title") or name.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def ordered(schema: dict, ui: dict) -> list[str]:
    names = list(schema.get("properties", {}))
    order = ui.get("ui:order") or []
    if not order:
        return names
    head = [n for n in order if n != "*" and n in names]
    rest = [n for n in names if n not in head]
    if "*" in order:
        star = order.index("*")
        tail = [n for n in order[star + 1:] if n in names]
        rest = [n for n in rest if n not in tail]
        return [n for n in order[:star] if n in names] + rest + tail
    return head + rest


def kind_of(prop: dict, ui: dict) -> str:
    widget = ui.get("ui:widget")
    kind = prop.get("type")
    if kind == "array":
        items = prop.get("items", {})
        return "repeat" if items.get("type") == "object" else "checkboxes"
    if kind == "object":
        return "object"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if choices(prop):
        return "select" if widget == "select" else "radios"
    if prop.get("format") == "date":
        return "date"
    if widget == "textarea":
        return "textarea"
    return "text"


def subschema(schema: dict, path: str) -> dict | None:
    """The schema of the value at a dotted data path ("attendees.0.name")."""
    node = schema
    for part in filter(None, path.split(".")):
        if node.get("type") == "array" or "items" in node:
            node = node.get("items", {})
            if _DIGITS.match(part):
                continue
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node


# -- building fields for a template --------------------------------------------------------
def build(schema: dict, ui: dict | None, values: dict | None, errors: dict[str, str] | None = None,
          prefix: str = "") -> list[Field]:
    ui, values, errors = ui or {}, values or {}, errors or {}
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = []
    for name in ordered(schema, ui):
        prop, prop_ui = props[name], ui.get(name, {})
        path = f"{prefix}{name}"
        kind = kind_of(prop, prop_ui)
        f = Field(name=path, label=label_for(name, prop), kind=kind,
                  hint=prop_ui.get("ui:help") or prop.get("description") or "",
                  required=name in required, value=values.get(name), error=errors.get(path),
                  rows=int(prop_ui.get("ui:options", {}).get("rows", 5)))
        if kind in ("radios", "select"):
            f.options = choices(prop)
        elif kind == "checkboxes":
            f.options = choices(prop.get("items", {}))
            f.value = [str(v) for v in (f.value or [])] if isinstance(f.value, list) else []
        elif kind == "number":
            f.input_type = "text"
            f.value = "" if f.value is None else str(f.value)
        elif kind == "checkbox":
            f.value = bool(f.value if f.value is not None else prop.get("default", False))
        elif kind == "object":
            f.children = build(prop, prop_ui, f.value if isinstance(f.value, dict) else {},
                               errors, f"{path}.")
        elif kind == "repeat":
            item_schema, item_ui = prop.get("items", {}), prop_ui.get("items", {})
            rows = f.value if isinstance(f.value, list) else []
            f.item_label = item_schema.get("title") or "Item"
            f.max_items = prop.get("maxItems")
            f.items = [build(item_schema, item_ui, row if isinstance(row, dict) else {}, errors,
                             f"{path}.{index}.") for index, row in enumerate(rows)]
        fields.append(f)
    return fields


def all_fields(fields: list[Field]):
    for f in fields:
        yield from f.walk()


# -- reading a posted form ------------------------------------------------------------------
def _read_date(form: MultiDict, path: str, label: str, problems: dict[str, str]) -> str | None:
    parts = {p: (form.get(f"{path}.{p}") or "").strip() for p in ("day", "month", "year")}
    if not any(parts.values()):
        return None
    raw = f"{parts['year']}-{parts['month']}-{parts['day']}"
    missing = [p for p in ("day", "month", "year") if not parts[p]]
    if missing:
        problems[path] = f"{label} must include a {' and '.join(missing)}"
    elif not all(_DIGITS.match(v) for v in parts.values()):
        problems[path] = f"{label} must be a real date"
    elif len(parts["year"]) != 4:
        problems[path] = f"{label} must include a year with 4 numbers"
    else:
        text = f"{int(parts['year']):04d}-{int(parts['month']):02d}-{int(parts['day']):02d}"
        try:
            date.fromisoformat(text)
        except ValueError:
            problems[path] = f"{label} must be a real date"
        return text
    return raw


def _read_number(raw: str, integer: bool, path: str, label: str, problems: dict[str, str]):
    try:
        number = float(raw)
    except ValueError:
        problems[path] = f"{label} must be a number"
        return raw
    if integer:
        if not number.is_integer():
            problems[path] = f"{label} must be a whole number"
            return raw
        return int(number)
    return int(number) if number.is_integer() and "." not in raw else number


def _row_count(form: MultiDict, path: str) -> int:
    raw = form.get(f"{path}.count") or "0"
    return min(int(raw), MAX_ROWS) if _DIGITS.match(raw) else 0


def _blank(value) -> bool:
    if isinstance(value, dict):
        return all(_blank(v) for v in value.values())
    return value in (None, "", False, [])


def read(schema: dict, form: MultiDict, *, keep_blank_rows: bool = False,
         prefix: str = "") -> tuple[dict, dict[str, str]]:
    """(data, problems): the posted values in the schema's shape, and entries that could
    not be read (partial dates, words in number fields) keyed by data path."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        label = label_for(name, prop)
        kind = kind_of(prop, {"ui:widget": "textarea"})  # widget does not change reading
        if kind == "checkbox":
            data[name] = path in form
        elif kind == "checkboxes":
            picked = [v for v in form.getlist(path) if v]
            if picked:
                data[name] = picked
        elif kind == "repeat":
            rows = []
            for index in range(_row_count(form, path)):
                row, row_problems = read(prop.get("items", {}), form,
                                         keep_blank_rows=keep_blank_rows, prefix=f"{path}.{index}.")
                if keep_blank_rows or not _blank(row):
                    offset = len(rows)
                    problems.update({k.replace(f"{path}.{index}.", f"{path}.{offset}.", 1): v
                                     for k, v in row_problems.items()})
                    rows.append(row)
            if rows or keep_blank_rows:
                data[name] = rows
        elif kind == "object":
            value, inner = read(prop, form, keep_blank_rows=keep_blank_rows, prefix=f"{path}.")
            problems.update(inner)
            if not _blank(value):
                data[name] = value
        elif kind == "date":
            value = _read_date(form, path, label, problems)
            if value is not None:
                data[name] = value
        else:
            raw = (form.get(path) or "").replace("\r\n", "\n").strip()
            if not raw:
                continue
            if kind == "number":
                data[name] = _read_number(raw, prop.get("type") == "integer", path, label, problems)
            else:
                data[name] = raw
    return data, problems


def blank_row(item_schema: dict) -> dict:
    return {name: prop["default"] for name, prop in item_schema.get("properties", {}).items()
            if "default" in prop}


def change_rows(schema: dict, data: dict, action: str) -> str | None:
    """Apply an ``add:path`` or ``remove:path:index`` button to ``data``.

    Returns where focus should go next: the new row's data path (ending in ".") after an
    add, the add button's element id after a remove."""
    verb, _, rest = action.partition(":")
    path, _, index = rest.rpartition(":") if verb == "remove" else (rest, "", "")
    prop = subschema(schema, path)
    if prop is None or prop.get("type") != "array":
        return None
    container, key = _parent(data, path)
    if container is None:
        return None
    rows = container.setdefault(key, [])
    if verb == "add":
        if len(rows) < min(prop.get("maxItems", MAX_ROWS), MAX_ROWS):
            rows.append(blank_row(prop.get("items", {})))
        return f"{path}.{len(rows) - 1}."
    if verb == "remove" and index.isdigit() and int(index) < len(rows):
        rows.pop(int(index))
        return "f-" + path.replace(".", "-") + "-add"
    return None


def focus_target(fields: list[Field], focus: str | None) -> str | None:
    if not focus or not focus.endswith("."):
        return focus
    for f in all_fields(fields):
        if f.name.startswith(focus) and f.kind not in ("object", "repeat"):
            return f.anchor
    return None


def _parent(data: dict, path: str):
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            return None, None
    return (node, parts[-1]) if isinstance(node, dict) else (None, None)
