"""Bringing a child onto the English profile.

Registering keeps the child's SSDA903 header details (sex, ethnicity, UPN, mother status) in
``Subject.attributes["ssda903"]``; becoming looked after starts two processes for them: the
statutory visits and reviews cycle (``eng_looked_after``) and the legal status path
(``eng_legal_status``), which starts the 26-week care proceedings timetable for a child
looked after under section 31 or when proceedings are issued later.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import form_schemas
from engine.errors import Conflict
from engine.models import ProcessInstance, Subject
from engine.runtime import Runtime

from workflows.children import records as children
from workflows import profiles
from workflows.profiles import (ENG_CARE_PROCEEDINGS, ENG_LEGAL_STATUS, ENG_LOOKED_AFTER,
                                ENGLAND_PROFILE)

# Recorded as what it is: a child who comes in under police protection, an emergency
# protection order or a remand is not under section 20 (eng_legal_status records what follows).
LEGAL_STATUSES = {"s20": "Section 20: accommodated with parental agreement",
                  "s31": "Section 31/38: interim care order in care proceedings",
                  "police_protection": "Police protection (section 46)",
                  "emergency_protection_order": "Emergency protection order (section 44)",
                  "remand": "Remanded to local authority accommodation"}
CATEGORIES_OF_NEED = {"N1": "Abuse or neglect", "N2": "Child's disability",
                      "N3": "Parental illness or disability", "N4": "Family in acute stress",
                      "N5": "Family dysfunction", "N6": "Socially unacceptable behaviour",
                      "N7": "Low income", "N8": "Absent parenting"}
SEXES = {"M": "Male", "F": "Female", "U": "Not known"}
ETHNICITIES = ("WBRI", "WIRI", "WOTH", "WIRT", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
               "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT")


def _load_visit_choices(field: str) -> list[dict]:
    """Choices shared with the visit form (placement type, provider), read from the diagram's
    form so the entry form and the visit form cannot drift apart."""
    import json
    folder = ENGLAND_PROFILE.process_folder(ENG_LOOKED_AFTER) / "forms"
    schema = json.loads((folder / "statutory_visit.schema.json").read_text(encoding="utf-8"))
    return schema["properties"][field]["oneOf"]


def _choice(title: str, options: Mapping[str, str] | list[dict], show_code: bool = False) -> dict:
    one_of = options if isinstance(options, list) else [
        {"const": k, "title": f"{k} {v}" if show_code else v} for k, v in options.items()]
    return {"type": "string", "title": title, "oneOf": one_of}


# What the web's "child becomes looked after" form asks (JSON Schema, as for task forms).
ENTRY_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "title": "Child becomes looked after",
    "description": "Starts the statutory visits and reviews and the legal status path.",
    "required": ["la_start", "legal_status", "category_of_need", "placement_type",
                 "placement_provider"],
    "properties": {
        "la_start": {"type": "string", "format": "date", "title": "Date the child became looked after"},
        "legal_status": _choice("Legal status", LEGAL_STATUSES),
        "category_of_need": _choice("Category of need", CATEGORIES_OF_NEED, show_code=True),
        "placement_type": _choice("Placement type", _load_visit_choices("placement_type")),
        "placement_provider": _choice("Placement provider", _load_visit_choices("placement_provider")),
        "home_postcode": {"type": "string", "title": "Home postcode", "maxLength": 10},
        "placement_postcode": {"type": "string", "title": "Placement postcode", "maxLength": 10},
    },
    "additionalProperties": False,
}
ENTRY_UI_SCHEMA: dict = {"ui:order": ["la_start", "legal_status", "category_of_need",
                                      "placement_type", "placement_provider", "home_postcode",
                                      "placement_postcode"]}

HEADER_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "title": "SSDA903 child details",
    "required": ["sex", "ethnicity"],
    "properties": {
        "sex": _choice("Sex", SEXES),
        "ethnicity": {"type": "string", "title": "Ethnicity", "enum": list(ETHNICITIES)},
        "upn": {"type": "string", "title": "Unique pupil number (UPN)",
                "pattern": r"^((?![IOS])[A-Z](\d{12}|\d{11}[A-Z])|UN[1-5])$"},
        "mother": {"type": "integer", "title": "The child is a mother (0 or 1; girls only)",
                   "enum": [0, 1]},
        "mc_dob": {"type": "string", "format": "date", "title": "Date of birth of her first child"},
    },
    "additionalProperties": False,
}


def register_child(session: Session, reference: str, name: str, team: str, actor: str,
                   date_of_birth: date | None = None, allocated_worker_id: int | None = None,
                   **header) -> Subject:
    """Register a child on the English profile with their SSDA903 header details."""
    child = children.register_child(session, reference, name, team, actor,
                                    date_of_birth=date_of_birth,
                                    allocated_worker_id=allocated_worker_id)
    profiles.assign(child, ENGLAND_PROFILE)
    if header:
        set_header(child, header)
    return child


def set_header(child: Subject, header: Mapping) -> None:
    data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in header.items()
            if v is not None}
    errors = form_schemas.problems(HEADER_SCHEMA, data)
    if errors:
        raise children.ChildError("; ".join(e.message for e in errors))
    child.attributes = {**(child.attributes or {}), "ssda903": data}


def running(session: Session, child: Subject, process_id: str) -> ProcessInstance | None:
    return session.scalar(select(ProcessInstance).where(
        ProcessInstance.subject_id == child.id, ProcessInstance.process_id == process_id,
        ProcessInstance.status == "running"))


def become_looked_after(session: Session, runtime: Runtime, child: Subject, entry: Mapping,
                        actor: str) -> tuple[ProcessInstance, ProcessInstance]:
    """Start the visits-and-reviews cycle and the legal status path for a child who has just
    become looked after (``entry`` answers ENTRY_SCHEMA)."""
    data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in entry.items()}
    runtime.validate(ENTRY_SCHEMA, data)
    profiles.assign(child, ENGLAND_PROFILE)
    for process_id in (ENG_LOOKED_AFTER, ENG_LEGAL_STATUS, ENG_CARE_PROCEEDINGS):
        if running(session, child, process_id) is not None:
            raise Conflict(f"{child.reference} is already looked after "
                           f"({ENGLAND_PROFILE.process_names[process_id].lower()} running)")
    episode = runtime.start(session, ENG_LOOKED_AFTER, child, data, actor)
    legal = runtime.start(session, ENG_LEGAL_STATUS, child,
                          {"la_start": data["la_start"], "legal_status": data["legal_status"]},
                          actor)
    return episode, legal
