"""Validating answers against a task's form (a JSON Schema) without ever leaving the schema.

jsonschema, given no registry, still fetches any ``$ref`` that names a URL (a deprecated
fallback kept for compatibility), so a form carrying ``"$ref": "http://…"`` would make the
server request that address each time the task is completed. Every validator here is
built with an empty ``referencing.Registry``: references resolve inside the form itself
(``#/$defs/…``) and anything else is *unresolvable*, which the check refuses at upload
(``outside_references``) and which a form deployed before the check existed turns into a
clear refusal (``FormCannotBeChecked``), never a request to another server.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.exceptions import Unresolvable

from .errors import EngineError

NOTHING_OUTSIDE = Registry()  # no retrieve function: nothing is ever fetched
_REFERENCE_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")
_cache: dict[int, tuple[dict, Draft202012Validator]] = {}


class FormCannotBeChecked(EngineError):
    """The form refers to a schema outside itself, so answers cannot be checked (HTTP 409):
    the worker's entries are kept and a process owner must correct the form."""
    status = 409


def validator(schema: dict) -> Draft202012Validator:
    """One compiled validator per form schema object (schemas are cached per model version,
    so the same dict comes back for every completion of a task)."""
    found = _cache.get(id(schema))
    if found is None or found[0] is not schema:
        if len(_cache) > 512:  # schemas made on the fly (no form) are not kept forever
            _cache.clear()
        found = (schema, Draft202012Validator(schema, format_checker=FormatChecker(),
                                              registry=NOTHING_OUTSIDE))
        _cache[id(schema)] = found
    return found[1]


def problems(schema: dict, data: Mapping) -> list[ValidationError]:
    """Every way ``data`` fails ``schema``, in field order."""
    try:
        return sorted(validator(schema).iter_errors(dict(data)), key=lambda e: list(e.path))
    except Unresolvable as exc:
        raise FormCannotBeChecked(
            f"This task's form refers to {exc.ref!r}, outside the form, so what you entered "
            "cannot be checked. Nothing was saved and your entries are kept: ask a process "
            "owner to correct the form, then submit again.") from None


def outside_references(schema) -> list[str]:
    """References in ``schema`` that do not point inside it (anything but ``#…``)."""
    return sorted(set(_references(schema)))


def _references(node) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _REFERENCE_KEYS and isinstance(value, str) and not value.startswith("#"):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


# -- choices only an import may record -----------------------------------------------------
# A choice marked ``"x-import-only": true`` (in a field's ``oneOf``) is what a caseload
# import records when the council's file does not say: "not recorded" is a fact about the
# history, not an answer a worker gives, so no worker is offered it and none may submit it.
# Top-level fields only: that is where the shipped forms carry such a choice.
IMPORT_ONLY = "x-import-only"


def import_only_choices(prop: dict) -> list:
    """The values of ``prop``'s choices that only an import may record."""
    return [o["const"] for o in prop.get("oneOf") or () if isinstance(o, dict)
            and o.get(IMPORT_ONLY) is True and "const" in o]


def import_only_answers(schema: dict, data: Mapping) -> list[str]:
    """The fields of ``data`` answered with a choice only an import may record."""
    props = schema.get("properties") or {}
    return [name for name, value in data.items() if isinstance(props.get(name), dict)
            and value in import_only_choices(props[name])]


def for_workers(schema: dict) -> dict:
    """The form as a worker is offered it: without the import-only choices. The schema
    itself is returned when it has none (the usual case), so nothing is copied."""
    props = schema.get("properties") or {}
    marked = [name for name, prop in props.items()
              if isinstance(prop, dict) and import_only_choices(prop)]
    if not marked:
        return schema
    trimmed = dict(props)
    for name in marked:
        trimmed[name] = dict(props[name], oneOf=[o for o in props[name]["oneOf"]
                                                 if not (isinstance(o, dict)
                                                         and o.get(IMPORT_ONLY) is True)])
    return dict(schema, properties=trimmed)
