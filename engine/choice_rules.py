"""Choices a form refuses: the answers a field may not take while a rule of the record holds.

A form (a JSON Schema) declares on a field ``"x-refuse"``: a list of rules, each

- ``"answers"``: the field's values the rule refuses (``["three_monthly"]``, ``[false]``);
- ``"from"`` (optional): a due rule (``REVIEW_FIRST``, ``PLACEMENT_START+1y``): the rule
  applies only on or after that date; an anchor not recorded yet means it does not apply;
- ``"until"`` (optional): a due rule: the rule applies only before that date; an anchor not
  recorded yet (``REVIEW_FIRST`` before the first review) means it still applies;
- ``"on"`` (optional): the form's date field the two dates are compared with (default
  ``date_held``; today when the form has no answer there);
- ``"when"`` (optional): a condition over the task's data and the answers, as gateway
  conditions are written (``placement_arrangement == 'parents_interim_order'``); a name
  the data does not hold (a child moved from an older version) means it does not hold;
- ``"message"``: what the worker reads, naming the rule (the regulation) and what to do.

Why declared in the form and checked here: a statutory timescale that forbids a choice (a
3-monthly visit in a placement's first year) must hold on every path that completes a task
(task page, API, caseload import, demo), as the date rules do (engine/date_rules.py); and the
process owner reads and changes it with the diagram, with no task ids in code. The check is
a pure function of the answers and the facts the runtime knows (``date_rules.Facts``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from .date_rules import Facts, as_date
from .errors import FieldError
from .expressions import ExpressionTooCostly, UnsafeExpression, check_expression, evaluate_safely

REFUSE = "x-refuse"
_KEYS = {"answers", "from", "until", "on", "when", "message"}


def _choices(prop: dict) -> list | None:
    """The values a field offers (enum or oneOf consts); None when it is open."""
    if isinstance(prop.get("enum"), list):
        return list(prop["enum"])
    if isinstance(prop.get("oneOf"), list):
        return [o.get("const") for o in prop["oneOf"] if isinstance(o, dict) and "const" in o]
    if prop.get("type") == "boolean":
        return [True, False]
    return None


def _holds(when: str | None, names: Mapping) -> bool:
    if not when:
        return True
    try:
        return bool(evaluate_safely(when, names))
    except (NameError, ExpressionTooCostly):
        return False


def _applies(rule: dict, answers: Mapping, facts: Facts) -> bool:
    anchors = dict(facts.anchors)
    anchors.update({k: d for k, v in answers.items() if (d := as_date(v)) is not None})
    on = as_date(answers.get(rule.get("on") or "date_held")) or facts.today
    resolve = facts.resolve
    if rule.get("from"):
        start = resolve(rule["from"], anchors) if resolve else None
        if start is None or on < start:
            return False
    if rule.get("until") and resolve:
        end = resolve(rule["until"], anchors)
        if end is not None and on >= end:
            return False
    return _holds(rule.get("when"), {**dict(facts.data), **dict(answers)})


def check(schema: dict, answers: Mapping, facts: Facts) -> list[FieldError]:
    """One error per field whose answer a rule refuses (the first such rule's message)."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return []
    errors: list[FieldError] = []
    for name, prop in props.items():
        rules = prop.get(REFUSE) if isinstance(prop, dict) else None
        if not isinstance(rules, list) or name not in answers:
            continue
        for rule in rules:
            if answers[name] in rule.get("answers", []) and _applies(rule, answers, facts):
                errors.append(FieldError(name, str(rule.get("message"))))
                break
    return errors


def declaration_problems(schema, check_rule: Callable[[str], None]) -> list[str]:
    """What is wrong with a form's refusal rules, each naming the field: a rule that is not
    an object, unknown keys, answers the field does not offer, an unreadable due rule or
    condition, an ``on`` that is not a date field, no message."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return []
    found: list[str] = []
    for name, prop in props.items():
        if not isinstance(prop, dict) or REFUSE not in prop:
            continue
        where = f"field {name!r}: {REFUSE}"
        rules = prop[REFUSE]
        if not isinstance(rules, list) or not rules:
            found.append(f"{where} must be a list of rules")
            continue
        offered = _choices(prop)
        for number, rule in enumerate(rules, start=1):
            at = f"{where} rule {number}"
            if not isinstance(rule, dict):
                found.append(f"{at} must be an object with answers and a message")
                continue
            if unknown := sorted(set(rule) - _KEYS):
                found.append(f"{at} has unknown keys {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(_KEYS))})")
            answers = rule.get("answers")
            if not isinstance(answers, list) or not answers:
                found.append(f"{at}: answers must list the values it refuses")
            elif offered is not None:
                for value in answers:
                    if value not in offered:
                        found.append(f"{at}: answers names {value!r}, which the field does not "
                                     "offer")
            if not isinstance(rule.get("message"), str) or not rule["message"].strip():
                found.append(f"{at} has no message for the worker")
            for key in ("from", "until"):
                if key in rule:
                    try:
                        check_rule(str(rule[key]))
                    except ValueError as exc:
                        found.append(f"{at}: {key} {exc}")
            if "on" in rule:
                target = props.get(rule["on"])
                if not (isinstance(target, dict) and target.get("format") == "date"):
                    found.append(f"{at}: on names {rule['on']!r}, which is not a date field of "
                                 "this form")
            if "when" in rule:
                try:
                    check_expression(str(rule["when"]))
                except (UnsafeExpression, ExpressionTooCostly, SyntaxError, ValueError) as exc:
                    found.append(f"{at}: when {exc}")
    return found
