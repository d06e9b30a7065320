"""What a template is filled with: the child's details and a completed task's answers in the
words of its form (``children.recorded_answers``: labels, choice titles, "28 October 2026").

A pure function, so the task's completion, a worker's request from the child page and a
process owner's preview with a demo child fill a template alike; the names it provides are
those ``process_models.document_templates`` lets a placeholder use (``ROOTS``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from workflows.children.recorded_answers import Answer, answers, long_date


@dataclass(frozen=True)
class ChildFacts:
    name: str
    reference: str
    date_of_birth: date | None
    team: str
    allocated_worker: str


@dataclass(frozen=True)
class TaskFacts:
    title: str
    completed_by: str
    completed_on: date
    process: str
    version: int


def _as_text(answer: Answer) -> str:
    """An answer as one line: repeating rows ("Who attended") as their values, a row to
    each "; " ("Jo Reid, mother; Sam Reid, father")."""
    if not answer.parts:
        return answer.text
    if all(part.parts for part in answer.parts):
        return "; ".join(", ".join(_as_text(p) for p in row.parts) for row in answer.parts)
    return "; ".join(f"{part.label}: {_as_text(part)}" for part in answer.parts)


def _rows(found, prefix: str = "") -> list[dict]:
    rows = []
    for answer in found:
        if answer.parts and all(not p.parts for p in answer.parts):
            rows.append({"label": f"{prefix}{answer.label}", "text": _as_text(answer)})
        elif answer.parts:
            rows += _rows(answer.parts, f"{prefix}{answer.label}, ")
        else:
            rows.append({"label": f"{prefix}{answer.label}", "text": answer.text})
    return rows


def fill(child: ChildFacts, task: TaskFacts, schema: Mapping, ui: Mapping | None,
         data: Mapping, today: date) -> dict:
    """``child``, ``task``, ``answers`` and ``labels`` (by field: every field of the form, an
    unanswered one empty), ``recorded`` (label and text of each answer, in the form's order)
    and ``today``, all as text."""
    props = schema.get("properties") or {}
    found = answers(schema, ui, data)
    by_field = {a.name: _as_text(a) for a in found}
    labels = {name: str((prop or {}).get("title") or name.replace("_", " ").capitalize())
              for name, prop in props.items() if isinstance(prop, Mapping)}
    return {
        "child": {"name": child.name, "reference": child.reference,
                  "date_of_birth": long_date(child.date_of_birth) if child.date_of_birth else "",
                  "team": child.team, "allocated_worker": child.allocated_worker},
        "task": {"title": task.title, "completed_by": task.completed_by,
                 "completed_on": long_date(task.completed_on), "process": task.process,
                 "version": str(task.version)},
        "answers": {name: by_field.get(name, "") for name in labels},
        "labels": labels,
        "recorded": _rows(found),
        "today": long_date(today),
    }
