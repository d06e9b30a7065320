"""SSDA903-style export of the English profile's milestones, with validation.

Three CSV files in the layout of the Department for Education's SSDA903 return (children
looked after): header, episodes and reviews.

Episodes are derived from milestones, not kept as records: a period of care runs from
``LA_START`` to ``CEASED`` (one ``eng_looked_after`` instance); a new episode starts on each
placement move (``PLACEMENT_START``) and each court order that changes the legal status
(``LEGAL_STATUS``). Reviews are the ``REVIEW_FIRST`` and ``REVIEW`` occurrences with the
participation code recorded on them.

``ssda903_format`` holds the files' layout and code lists; ``ssda903_rules`` checks the
exported rows against the return's validation rules (``export_and_validate`` does both).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Milestone, Subject

from workflows.profiles import ENG_CARE_PROCEEDINGS, ENG_LEGAL_STATUS, ENG_LOOKED_AFTER
from workflows.returns.ssda903_format import EPISODE_COLUMNS, Export, fmt
from workflows.returns.ssda903_rules import Finding, validate

# Legal status at entry and court orders, as SSDA903 legal status codes.
LEGAL_STATUS_AT_ENTRY = {"s20": "V2", "s31": "C1", "police_protection": "L1",
                         "emergency_protection_order": "L2", "remand": "J1"}
# What follows police protection, an EPO or a remand (eng_legal_status's LEGAL_STATUS).
NEXT_LEGAL_STATUS = {"s20": "V2"}
ORDER_LEGAL_STATUS = {"interim_care_order": "C1", "care_order": "C2", "placement_order": "E1"}


# -- building the export from milestones ------------------------------------------------
@dataclass
class _Event:
    day: date
    kind: str                      # "placement" | "legal" | "ceased"
    data: dict


@dataclass
class _Period:
    instance_id: int
    start: date
    data: dict
    events: list[_Event] = field(default_factory=list)
    ceased: date | None = None
    reason: str | None = None


def _periods(rows: list[Milestone], legal_rows: list[Milestone]) -> list[_Period]:
    """One period of care per eng_looked_after instance, with its change events."""
    by_instance: dict[int, list[Milestone]] = defaultdict(list)
    for m in rows:
        by_instance[m.instance_id].append(m)
    periods = []
    for instance_id, ms in by_instance.items():
        start = next((m for m in ms if m.code == "LA_START" and m.actual_date), None)
        if start is None:
            continue
        period = _Period(instance_id, start.actual_date, dict(start.data or {}))
        placements = sorted((m for m in ms if m.code == "PLACEMENT_START" and m.actual_date),
                            key=lambda m: (m.actual_date, m.occurrence))
        for m in placements:
            period.events.append(_Event(m.actual_date, "placement", dict(m.data or {})))
        ceased = next((m for m in ms if m.code == "CEASED" and m.actual_date), None)
        if ceased is not None:
            period.ceased = ceased.actual_date
            period.reason = (ceased.data or {}).get("reason_ceased")
        periods.append(period)
    periods.sort(key=lambda p: (p.start, p.instance_id))
    for m in legal_rows:  # court orders belong to the period they fall in
        for period in periods:
            if period.start < m.actual_date and (period.ceased is None or m.actual_date < period.ceased):
                period.events.append(_Event(m.actual_date, "legal", dict(m.data or {})))
                break
    return periods


def _episodes(reference: str, period: _Period) -> list[dict]:
    """The SSDA903 episodes of one period of care."""
    first_placement = {}
    events = sorted(period.events, key=lambda e: (e.day, e.kind != "placement"))
    if events and events[0].kind == "placement" and events[0].day == period.start:
        first_placement = events.pop(0).data
    current = {"CHILD": reference, "DECOM": period.start, "RNE": "S",
               "LS": LEGAL_STATUS_AT_ENTRY.get(period.data.get("legal_status"), ""),
               "CIN": period.data.get("category_of_need", ""),
               "PLACE": first_placement.get("placement_type", ""),
               "PLACE_PROVIDER": first_placement.get("placement_provider", ""),
               "DEC": None, "REC": None, "REASON_PLACE_CHANGE": None,
               "HOME_POST": first_placement.get("home_postcode") or period.data.get("home_postcode", ""),
               "PL_POST": first_placement.get("placement_postcode", ""), "URN": ""}
    episodes = [current]
    by_day: dict[date, list[_Event]] = defaultdict(list)
    for event in events:
        if period.ceased is not None and event.day >= period.ceased:
            continue
        by_day[event.day].append(event)
    for day in sorted(by_day):
        changes = {}
        reason = None
        for event in by_day[day]:
            if event.kind == "placement":
                changes.update({"PLACE": event.data.get("placement_type", ""),
                                "PLACE_PROVIDER": event.data.get("placement_provider", ""),
                                "PL_POST": event.data.get("placement_postcode", "")})
                reason = event.data.get("reason_place_change")
            else:
                ls = (ORDER_LEGAL_STATUS.get(event.data.get("order_made"))
                      or NEXT_LEGAL_STATUS.get(event.data.get("next_step")))
                if ls:
                    changes["LS"] = ls
        changes = {k: v for k, v in changes.items() if current.get(k) != v}
        if not changes:
            continue
        placement_changed = any(k in changes for k in ("PLACE", "PLACE_PROVIDER", "PL_POST"))
        legal_changed = "LS" in changes
        if day == current["DECOM"]:  # same-day change: the episode starts with it
            current.update(changes)
            continue
        current["DEC"], current["REC"] = day, "X1"
        if placement_changed:
            current["REASON_PLACE_CHANGE"] = reason
        rne = "B" if placement_changed and legal_changed else ("P" if placement_changed else "L")
        current = {**current, **changes, "DECOM": day, "RNE": rne, "DEC": None, "REC": None,
                   "REASON_PLACE_CHANGE": None}
        episodes.append(current)
    if period.ceased is not None:
        current["DEC"], current["REC"] = period.ceased, period.reason
    return episodes


def collect(session: Session, start: date, end: date) -> Export:
    """The SSDA903 tables for children looked after at any time from ``start`` to ``end``."""
    export = Export(start, end)
    rows = list(session.scalars(select(Milestone).where(
        Milestone.process_id == ENG_LOOKED_AFTER, Milestone.actual_date.is_not(None),
        Milestone.code.in_(("LA_START", "PLACEMENT_START", "CEASED", "REVIEW_FIRST", "REVIEW")))
        .order_by(Milestone.subject_id, Milestone.instance_id, Milestone.code, Milestone.occurrence)))
    legal = list(session.scalars(select(Milestone).where(
        Milestone.process_id.in_((ENG_CARE_PROCEEDINGS, ENG_LEGAL_STATUS)),
        Milestone.code == "LEGAL_STATUS",
        Milestone.actual_date.is_not(None)).order_by(Milestone.subject_id, Milestone.actual_date)))
    by_subject: dict[int, list[Milestone]] = defaultdict(list)
    legal_by_subject: dict[int, list[Milestone]] = defaultdict(list)
    for m in rows:
        by_subject[m.subject_id].append(m)
    for m in legal:
        legal_by_subject[m.subject_id].append(m)
    subjects = {s.id: s for s in session.scalars(select(Subject).where(
        Subject.id.in_(list(by_subject)))).all()} if by_subject else {}
    for subject_id in sorted(by_subject, key=lambda i: subjects[i].reference):
        subject = subjects[subject_id]
        ms = by_subject[subject_id]
        episodes = []
        for period in _periods([m for m in ms if m.code in ("LA_START", "PLACEMENT_START", "CEASED")],
                               legal_by_subject.get(subject_id, [])):
            episodes.extend(_episodes(subject.reference, period))
        episodes = [e for e in episodes if e["DECOM"] <= end and (e["DEC"] is None or e["DEC"] >= start)]
        if not episodes:
            continue
        for e in episodes:
            if e["DEC"] is not None and e["DEC"] > end:  # still open at the end of the range
                e["DEC"] = e["REC"] = None
            e["DECOM"], e["DEC"] = fmt(e["DECOM"]), fmt(e["DEC"])
            export.episodes.append({c: "" if e.get(c) is None else e[c] for c in EPISODE_COLUMNS})
        details = (subject.attributes or {}).get("ssda903", {})
        export.header.append({
            "CHILD": subject.reference, "SEX": details.get("sex", ""),
            "DOB": fmt(subject.date_of_birth), "ETHNIC": details.get("ethnicity", ""),
            "UPN": details.get("upn", ""),
            "MOTHER": "" if details.get("mother") is None else str(details["mother"]),
            "MC_DOB": fmt(date.fromisoformat(details["mc_dob"])) if details.get("mc_dob") else ""})
        for m in sorted((m for m in ms if m.code in ("REVIEW_FIRST", "REVIEW")),
                        key=lambda m: (m.actual_date, m.code)):
            if start <= m.actual_date <= end:
                export.reviews.append({"CHILD": subject.reference, "DOB": fmt(subject.date_of_birth),
                                       "REVIEW": fmt(m.actual_date),
                                       "REVIEW_CODE": (m.data or {}).get("participation", "")})
    return export


def export_and_validate(session: Session, start: date, end: date) -> tuple[Export, list[Finding]]:
    export = collect(session, start, end)
    return export, validate(export)
