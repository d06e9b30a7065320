"""Adding a child by hand: each profile's entry form and what submitting it starts.

The forms are JSON Schemas, shown and read back by the web layer exactly as task forms are,
so each profile asks in its own words for what its diagrams need to start: the Scottish
journeys need the date the child was accommodated (or placed on a CSO at home); the English
cycle needs the SSDA903 header details, the date the child became looked after, the legal
status (section 20 or 31), category of need and the first placement.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy.orm import Session

from engine.models import Subject
from engine.runtime import Runtime

from workflows.children import records as children, england
from workflows import profiles

SCHEMA_ID = "https://json-schema.org/draft/2020-12/schema"
CHILD_PROPERTIES: dict = {
    "reference": {"type": "string", "title": "Council reference", "minLength": 1, "maxLength": 80,
                  "description": "The child's reference in the case recording system."},
    "name": {"type": "string", "title": "Name", "minLength": 1, "maxLength": 200},
    "date_of_birth": {"type": "string", "format": "date", "title": "Date of birth"},
}
PATHWAYS = {"accommodated": "Looked after and accommodated (permanence journey)",
            "cso_home": "On a Compulsory Supervision Order at home (review loop)",
            "cso_kinship": "On a Compulsory Supervision Order in kinship care (review loop)"}

SCOTTISH_SCHEMA: dict = {
    "$schema": SCHEMA_ID, "type": "object", "title": "Accommodate a child",
    "required": ["reference", "name", "pathway", "start_date"],
    "properties": {
        **CHILD_PROPERTIES,
        "pathway": {"type": "string", "title": "Process",
                    "oneOf": [{"const": k, "title": v} for k, v in PATHWAYS.items()]},
        "start_date": {"type": "string", "format": "date", "title": "Start date",
                       "description": "The date the child was accommodated, or the date the "
                                      "CSO at home or in kinship care was made."},
    },
    "additionalProperties": False,
}

ENGLISH_SCHEMA: dict = {
    "$schema": SCHEMA_ID, "type": "object", "title": "Child becomes looked after",
    "required": ["reference", "name", "date_of_birth", *england.HEADER_SCHEMA["required"],
                 *england.ENTRY_SCHEMA["required"]],
    "properties": {**CHILD_PROPERTIES, **england.HEADER_SCHEMA["properties"],
                   **england.ENTRY_SCHEMA["properties"]},
    "additionalProperties": False,
}
ENGLISH_UI: dict = {"ui:order": ["reference", "name", "date_of_birth", "sex", "ethnicity", "upn",
                                 "mother", "mc_dob", *england.ENTRY_UI_SCHEMA["ui:order"]],
                    "ethnicity": {"ui:widget": "select"},
                    "category_of_need": {"ui:widget": "select"},
                    "placement_type": {"ui:widget": "select"},
                    "placement_provider": {"ui:widget": "select"}}

FORMS: Mapping[str, tuple[dict, dict]] = {
    profiles.SCOTLAND_PROFILE.name: (SCOTTISH_SCHEMA, {}),
    profiles.ENGLAND_PROFILE.name: (ENGLISH_SCHEMA, ENGLISH_UI),
}


def form(profile: profiles.Profile) -> tuple[dict, dict]:
    """(JSON Schema, UI schema) of the profile's entry form."""
    return FORMS[profile.name]


def start_field(profile: profiles.Profile) -> str:
    """The entry form's field holding the date the child's journey starts."""
    return "la_start" if profile is profiles.ENGLAND_PROFILE else "start_date"


def _day(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else value


def enter(session: Session, runtime: Runtime, profile: profiles.Profile, data: Mapping,
          team: str, actor: str, allocated_worker_id: int | None = None) -> Subject:
    """Register the child on ``profile`` and start its processes. ``data`` answers the
    profile's form and has been checked (``workflows.services.children.add_child``)."""
    profiles.check_enabled(profile)
    reference, name = data["reference"].strip(), data["name"].strip()
    born = _day(data.get("date_of_birth"))
    if profile is profiles.ENGLAND_PROFILE:
        header = {k: data[k] for k in england.HEADER_SCHEMA["properties"] if k in data}
        entry = {k: data[k] for k in england.ENTRY_SCHEMA["properties"] if k in data}
        child = england.register_child(session, reference, name, team, actor, date_of_birth=born,
                                       allocated_worker_id=allocated_worker_id, **header)
        england.become_looked_after(session, runtime, child, entry, actor)
        return child
    child = children.register_child(session, reference, name, team, actor, date_of_birth=born,
                                    allocated_worker_id=allocated_worker_id)
    if data["pathway"] == "accommodated":
        children.accommodate(session, runtime, child, _day(data["start_date"]), actor)
    else:  # a CSO at home or in kinship care: the same review loop (Aim 1)
        children.place_on_cso_at_home(session, runtime, child, _day(data["start_date"]), actor,
                                      "kinship" if data["pathway"] == "cso_kinship" else "home")
    return child
