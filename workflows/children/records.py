"""Bringing a child onto a PACE process: accommodation (Process 2) or CSO at home (Process 1)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import Conflict, FieldError, InvalidData
from engine.models import ProcessInstance, Subject, Team
from engine.plain_text import single_line_problem
from engine.runtime import Runtime

from workflows import profiles
from workflows.vocabulary import CSO_HOME, PERMANENCE


class ChildError(ValueError):
    pass


def register_child(session: Session, reference: str, name: str, team: str, actor: str,
                   date_of_birth: date | None = None, allocated_worker_id: int | None = None,
                   family: str | None = None) -> Subject:
    """``family``: a reference the child shares with brothers and sisters looked after too
    (kept in ``Subject.attributes["family"]``, so linking siblings needs no new column)."""
    problems = [FieldError(field, problem) for field, value in (("reference", reference), ("name", name))
                if (problem := single_line_problem(value))]
    if problems:  # every way in (page, API, import, demo) comes through here
        raise InvalidData(problems)
    if session.get(Team, team) is None:
        raise ChildError(f"there is no team {team!r}")
    if session.scalar(select(Subject).where(Subject.reference == reference)):
        raise Conflict(f"a child with reference {reference!r} already exists")
    child = Subject(reference=reference, display_name=name, team=team, date_of_birth=date_of_birth,
                    allocated_worker_id=allocated_worker_id,
                    attributes={"family": family} if family else {})
    session.add(child)
    session.flush()
    audit.record(session, "child_registered", actor, subject_id=child.id,
                 data={"reference": reference, "team": team,
                       **({"family": family} if family else {})})
    return child


def brothers_and_sisters(session: Session, child: Subject) -> list[Subject]:
    """The other children with the child's family reference, by reference; none without one.
    Sibling groups are planned for together (a shared start, often one placement), so the
    child's page names them."""
    family = (child.attributes or {}).get("family")
    if not family:
        return []
    return list(session.scalars(select(Subject).where(
        Subject.attributes["family"].as_string() == family, Subject.id != child.id)
        .order_by(Subject.reference)))


def _check_not_running(session: Session, child: Subject, process_id: str) -> None:
    running = session.scalar(select(ProcessInstance).where(
        ProcessInstance.subject_id == child.id, ProcessInstance.process_id == process_id,
        ProcessInstance.status == "running"))
    if running is not None:
        raise Conflict(f"{child.reference} is already on the {process_id.replace('_', ' ')}")


def accommodate(session: Session, runtime: Runtime, child: Subject, la_start: date,
                actor: str) -> ProcessInstance:
    """Start the permanence journey: the child became looked after and accommodated."""
    _check_not_running(session, child, PERMANENCE)
    profiles.assign(child, profiles.SCOTLAND_PROFILE)  # each child is on one profile
    return runtime.start(session, PERMANENCE, child, {"la_start": la_start.isoformat()}, actor)


CSO_PLACEMENTS = ("home", "kinship")


def place_on_cso_at_home(session: Session, runtime: Runtime, child: Subject, cso_start: date,
                         actor: str, placement: str = "home") -> ProcessInstance:
    """Start the Aim 1 review loop: the child is on a Compulsory Supervision Order at home,
    or (``placement="kinship"``) living with kinship carers on it. Both are reviewed the same
    way; the placement is kept with the CSO_START milestone (its ``milestoneData``) because
    councils count Aim 1 differently: South Ayrshire children at home only, Argyll and Bute
    at home or in kinship care (the aim's ``placement`` setting, workflows/measures/aims.py)."""
    if placement not in CSO_PLACEMENTS:
        raise ChildError(f"placement {placement!r}: expected home or kinship")
    _check_not_running(session, child, CSO_HOME)
    profiles.assign(child, profiles.SCOTLAND_PROFILE)
    return runtime.start(session, CSO_HOME, child, {"cso_start": cso_start.isoformat(),
                                                    "placement": placement}, actor)
