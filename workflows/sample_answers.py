"""A task's JSON Schema form filled with plausible answers (demo caseload, benchmarks, a
document template's preview, tests). A leaf beside the demo, not in it: the use cases preview
with it and the demo plays the use cases, so living in the demo would make a cycle.

Choices that steer gateways are drawn from weights the caller gives, so the demo shows
every route; everything else gets a believable value of the right type.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from engine import form_schemas


# Dates a worker records relative to the day the task is completed.
DATE_OFFSETS = {"next_review_date": 56, "substantive_lar_date": 105, "review_date": 28,
                "reconvene_date": 28, "match_reconvene_date": 28, "next_hearing_date": 21,
                "accommodated_date": 0}
TEXT = {
    "chair": ["J. Campbell", "A. Reid", "M. Stewart", "K. Wallace"],
    "court": ["Ayr Sheriff Court", "Kilmarnock Sheriff Court"],
    "default": ["Discussed with the family and the child's carers; agreed actions recorded.",
                "Views of the child gathered by the social worker and shared with the meeting.",
                "Health and education reports considered; no new concerns raised."],
}


def _choices(prop: dict) -> list:
    if "oneOf" in prop:
        return [o["const"] for o in prop["oneOf"] if "const" in o
                and o["const"] not in form_schemas.import_only_choices(prop)]
    if "enum" in prop:
        return list(prop["enum"])
    return []


def _value(name: str, prop: dict, day: date, rng: random.Random, weights: dict):
    options = _choices(prop)
    if options:
        wanted = weights.get(name)
        if wanted:
            pool = [o for o in options if o in wanted]
            if pool:
                return rng.choices(pool, [wanted[o] for o in pool])[0]
        return options[0]
    kind = prop.get("type")
    if kind == "boolean":
        return rng.random() < 0.8
    if kind in ("integer", "number"):
        return int(prop.get("minimum", 1))
    if kind == "array":
        item = prop.get("items", {})
        count = max(1, int(prop.get("minItems", 1)))
        if item.get("type") == "object":
            return [_object(item, day, rng, weights) for _ in range(count + 1)]
        return [_value(name, item, day, rng, weights) for _ in range(count)]
    if kind == "object":
        return _object(prop, day, rng, weights)
    if prop.get("format") == "date":
        return (day + timedelta(days=DATE_OFFSETS.get(name, 0))).isoformat()
    text = rng.choice(TEXT.get(name, TEXT["default"]))
    return text[: prop.get("maxLength", len(text))]


def _object(schema: dict, day: date, rng: random.Random, weights: dict) -> dict:
    props = schema.get("properties", {})
    return {k: _value(k, props[k], day, rng, weights) for k in schema.get("required", props)}


def fill(schema: dict, day: date, rng: random.Random, weights: dict | None = None) -> dict:
    """Required fields plus weighted choices; conditionally required fields are added until
    the answer validates."""
    weights = weights or {}
    props = schema.get("properties", {})
    data = {k: _value(k, props[k], day, rng, weights)
            for k in props if k in schema.get("required", []) or k in weights}
    validator = form_schemas.validator(schema)
    for _ in range(5):
        missing = [e.message.split("'")[1] for e in validator.iter_errors(data)
                   if e.validator == "required" and "'" in e.message]
        if not missing:
            break
        for name in missing:
            if name in props:
                data[name] = _value(name, props[name], day, rng, weights)
    return data
