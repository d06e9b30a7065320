"""Dates that make sense: the date rules a task's form declares, checked against the record.

A form (a JSON Schema) declares, on a date field (``"format": "date"``):

- ``"x-not-before": ["PERM_RECOMMENDATION", "LA_START"]``: the date may not lie before the
  latest recorded date of each milestone named (codes the diagrams record with their
  ``milestone`` property), nor before another date field of the same form named there
  (``"x-not-before": ["date_held"]``). A milestone not recorded yet constrains nothing.
- ``"x-planned": true``: a date being planned or booked, which may lie in the future.

Every other date field is a *recorded* date: it may not lie in the future, nor before the
subject's date of birth. The rules live in the forms rather than in code so a process owner
can read and change them with the diagram, and the registry checks them at upload
(``declaration_problems``). The check itself is a pure function of the answers and of the
facts the runtime knows when a task is completed (``Facts``); it only looks at a form's own
(top-level) fields, as milestones are recorded from those.

Why here and not in each caller: a date out of order makes the next task due on the wrong
day (a kinship application "lodged" before the recommendation created the court task
already 170 days overdue), so the runtime refuses it on every path that completes a task:
the task page, the API, the caseload import, the demo.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from .errors import FieldError

NOT_BEFORE = "x-not-before"
PLANNED = "x-planned"
KEYWORDS = (NOT_BEFORE, PLANNED)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Policy:
    """What a domain gives the engine to apply date rules (``EngineConfig.date_rules``).

    ``milestone_date(process_id, code)`` names a milestone's date in plain words, as a
    message continues after the date: "the date of the permanence recommendation".
    ``milestones`` are the codes a rule may name (the process owner's check refuses others).
    """
    milestone_date: Callable[[str, str], str]
    milestones: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Facts:
    """What answers are checked against when a task is completed."""
    today: date
    born: date | None                      # the subject's date of birth, when recorded
    milestones: Mapping[str, date]         # each milestone's latest recorded date
    milestone_date: Callable[[str], str]   # code -> "the date of the permanence recommendation"
    # For the choice rules (engine/choice_rules.py): the dates a due rule may name (actual
    # and planned milestones, date fields of the task's data), the task's data before the
    # answers, and the domain's due-rule resolver.
    anchors: Mapping[str, date] = field(default_factory=dict)
    data: Mapping = field(default_factory=dict)
    resolve: Callable[[str, Mapping[str, date]], date | None] | None = None


def long_date(day: date) -> str:
    """28 October 2026: how a date is written to the people who read the messages."""
    return f"{day.day} {day:%B %Y}"


def as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def is_date_field(prop) -> bool:
    return isinstance(prop, dict) and prop.get("format") == "date"


def named(prop: dict) -> list[str]:
    """The names in a field's ``x-not-before`` (one name or a list)."""
    value = prop.get(NOT_BEFORE)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _title(name: str, prop: dict) -> str:
    return str(prop.get("title") or name.replace("_", " ").capitalize())


def _lower(label: str) -> str:
    """'Date of review' -> 'date of review'; an acronym such as 'CAPR' keeps its case."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def check(schema: dict, answers: Mapping, facts: Facts) -> list[FieldError]:
    """One error per date field that breaks a rule, naming the conflicting date.

    Of several earlier bounds broken, the latest is named: it is the one the worker must
    move the date past (the recommendation, not the accommodation before it).
    """
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return []
    errors: list[FieldError] = []
    for name, prop in props.items():
        if not is_date_field(prop):
            continue
        day = as_date(answers.get(name))
        if day is None:
            continue  # blank or not a date: the form's own schema says what is wrong
        title = _title(name, prop)
        if not prop.get(PLANNED) and day > facts.today:
            errors.append(FieldError(name, f"{title} must be today or in the past: it records "
                                           "something that has happened"))
            continue
        bounds: list[tuple[date, str]] = []
        if facts.born is not None and not prop.get(PLANNED):
            bounds.append((facts.born, "the child's date of birth"))
        for other in named(prop):
            if other in props and other != name:
                bound = as_date(answers.get(other))
                words = f"the {_lower(_title(other, props[other]))}"
            else:
                bound = facts.milestones.get(other)
                words = facts.milestone_date(other)
            if bound is not None:
                bounds.append((bound, words))
        broken = [b for b in bounds if day < b[0]]
        if broken:
            bound, words = max(broken, key=lambda b: b[0])
            errors.append(FieldError(name, f"{title} must be on or after {long_date(bound)}, "
                                           f"{words}"))
    return errors


def declaration_problems(schema, milestones: Collection[str]) -> list[str]:
    """What is wrong with a form's date rules: a rule on a field that is not a date, a
    keyword of the wrong shape, or a name that is neither a known milestone nor another
    date field of the form. Each problem names the field."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return []
    found: list[str] = []
    for name, prop in props.items():
        if not isinstance(prop, dict) or not any(k in prop for k in KEYWORDS):
            continue
        where = f"field {name!r}"
        if not is_date_field(prop):
            used = " and ".join(k for k in KEYWORDS if k in prop)
            found.append(f"{where}: {used} is a date rule, but the field is not a date "
                         '(it needs "format": "date")')
            continue
        if PLANNED in prop and not isinstance(prop[PLANNED], bool):
            found.append(f"{where}: {PLANNED} must be true or false")
        value = prop.get(NOT_BEFORE)
        if value is None:
            continue
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            found.append(f"{where}: {NOT_BEFORE} must be a list of milestone codes or date "
                         'fields, e.g. ["PERM_RECOMMENDATION"]')
            continue
        for other in names:
            if other == name:
                found.append(f"{where}: {NOT_BEFORE} names the field itself")
            elif other in props:
                if not is_date_field(props[other]):
                    found.append(f"{where}: {NOT_BEFORE} names {other!r}, a field that is not "
                                 "a date")
            elif other not in milestones:
                known = ", ".join(sorted(milestones)) or "none"
                found.append(f"{where}: {NOT_BEFORE} names {other!r}, which is neither a "
                             f"milestone nor a date field of this form (milestones: {known})")
    return found
