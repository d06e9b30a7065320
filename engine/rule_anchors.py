"""Due rules and timer dates name only what the process records.

A rule counts from an anchor: a milestone code the process records (``LA_START``), its
planned date (``LA_START_PLANNED``), or a date field of a form or of the start data
(``next_review_date``). A misspelt anchor (``LA_STRAT+3d``) used to pass the check and then
never resolve: the task was silently due the day it opened, the timer stopped the child.
Here every milestone anchor (upper case) must be one the diagram records, and is named with
the nearest valid names (difflib) when it is not. A date field (lower case) may also come
with the start data, which whatever starts the process fills (the child's entry form, or
another process's ``startData``) and the diagram does not declare: one that no form or
property of the diagram names is refused only when it is close to one that does (a slip
of the pen such as ``next_reveiw_date``). Timer dates that are neither a
rule nor a quoted date (an unquoted ``P7D`` or ``R6/P1D``, as other engines take them) are
refused with the rule grammar's message, which gives the PACE Flow equivalent.
"""
from __future__ import annotations

import ast
import difflib
import json
from collections.abc import Iterable, Mapping

from .expressions import UnsafeExpression, check_expression

Found = tuple[str, "int | None", str]  # element id, line, message: a registry Problem's fields

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_DEFAULT_DATE_FIELD = "date_held"  # engine/milestones.py: a milestone's date without milestoneDateField


def _with_properties(root) -> Iterable[tuple[object, dict[str, str]]]:
    """(element, its PACE properties) for each element that has any, from the properties
    themselves (one pass over them, not a search under every element)."""
    owners: dict = {}
    for prop in root.iter(f"{{{_SPIFF}}}property"):
        properties = prop.getparent()
        extensions = properties.getparent() if properties is not None else None
        owner = extensions.getparent() if extensions is not None else None
        if owner is None or properties.tag != f"{{{_SPIFF}}}properties" \
                or extensions.tag != f"{{{_BPMN}}}extensionElements":
            continue
        owners.setdefault(owner, {})[prop.get("name")] = (prop.get("value") or "").strip()
    yield from owners.items()


def recorded_anchors(root, forms: Mapping[str, str]) -> tuple[set[str], set[str]]:
    """(milestone anchors, date fields) the process records: each ``milestone`` code and
    ``plans`` target with its ``_PLANNED`` date; every field of its forms, each
    ``milestoneDateField`` (a start event's names a start-data field) and ``plans`` field."""
    codes: set[str] = set()
    fields: set[str] = {_DEFAULT_DATE_FIELD}
    for _node, props in _with_properties(root):
        if props.get("milestone"):
            codes.add(props["milestone"])
        if props.get("milestoneDateField"):
            fields.add(props["milestoneDateField"])
        if "=" in props.get("plans", ""):
            code, _, field = props["plans"].partition("=")
            codes.add(code.strip())
            fields.add(field.strip())
    for text in forms.values():
        fields.update(_form_fields(text))
    return codes | {f"{code}_PLANNED" for code in codes}, fields


def _form_fields(text: str) -> set[str]:
    try:
        schema = json.loads(text)
    except ValueError:
        return set()  # reported by the form check
    found: set[str] = set()
    stack = [schema]
    while stack:  # properties at any depth (a form's sections), without recursion
        item = stack.pop()
        if isinstance(item, dict):
            properties = item.get("properties")
            if isinstance(properties, dict):
                found.update(k for k in properties if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _rule_texts(root) -> Iterable[tuple[object, str, str]]:
    """(element, what, text) for each due rule and timer date in the diagram."""
    for node, props in _with_properties(root):
        if props.get("due"):
            yield node, "due rule", props["due"]
    for definition in root.iter(f"{{{_BPMN}}}timerEventDefinition"):
        for child in definition:
            if isinstance(child.tag, str) and (child.text or "").strip():
                yield definition.getparent(), "timer", child.text.strip()


def timer_problem(text: str, rules) -> str | None:
    """A timer date is a due rule or a quoted ISO date; anything else is refused with the
    rule grammar's own message (an unquoted ISO duration gets the PACE Flow equivalent)."""
    try:
        rules.check_rule(text)
        return None
    except ValueError as rule_error:
        try:
            tree = check_expression(text)
        except UnsafeExpression:
            return f"timer {rule_error}"
        if isinstance(tree.body, ast.Constant) and isinstance(tree.body.value, str):
            return None  # a quoted ISO 8601 date or duration, which SpiffWorkflow reads
        return f"timer {rule_error}"


def problems(root, forms: Mapping[str, str], rules) -> list[Found]:
    """Each anchor of a due rule or timer date that the process does not record, with the
    nearest names it does record. ``rules`` must tell a rule's anchors (``anchors(rule)``);
    a rule policy that cannot is not checked here."""
    anchors_of = getattr(rules, "anchors", None)
    if anchors_of is None:
        return []
    codes, fields = recorded_anchors(root, forms)
    found = []
    for node, what, text in _rule_texts(root):
        try:
            anchors = anchors_of(text)
        except ValueError:
            continue  # unreadable: reported by the rule check itself
        for anchor in anchors:
            if anchor in codes or anchor in fields:
                continue
            if anchor.upper() != anchor and not _close(anchor, fields):
                continue  # a start-data field, as far as the diagram can tell
            found.append((node.get("id") or "", node.sourceline,
                          f"{what} {text!r} counts from {anchor}, which this process does not "
                          f"record{_suggestion(anchor, codes, fields)}"))
    return found


def _close(anchor: str, names: set[str]) -> list[str]:
    return difflib.get_close_matches(anchor, sorted(names), n=3, cutoff=0.75)


def _suggestion(anchor: str, codes: set[str], fields: set[str]) -> str:
    names = codes if anchor.upper() == anchor else fields
    close = _close(anchor, names)
    if close:
        return f": did you mean {' or '.join(close)}?"
    kind = "milestones" if names is codes else "date fields"
    listed = ", ".join(sorted(names)[:12]) + (" …" if len(names) > 12 else "")
    return (f" (its {kind}: {listed})" if names else
            ": record it with a milestone property on the task that sets it")

