"""Read the milestone index into plain records (named tuples) for the pure measure functions.

Measures never open a serialized workflow: each child's episode on a process (one process
instance) is rebuilt from its ``milestone`` rows with actual dates, plus the child's team and
date of birth. Queries select columns only (no ORM entities), so a whole council's caseload
loads in a few queries; the records are named tuples, cheap to build by the hundred thousand.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Milestone, ProcessInstance, ProcessModel, Subject

EMPTY: Mapping = MappingProxyType({})


class Child(NamedTuple):
    id: int
    reference: str
    name: str
    team: str
    date_of_birth: date | None = None


class Reached(NamedTuple):
    """One occurrence of a milestone that has an actual date (``data`` is read-only)."""
    code: str
    on: date
    occurrence: int = 1
    model_version: int = 1
    data: Mapping = EMPTY


class Episode(NamedTuple):
    """A child's time on one process (one instance), as its reached milestones."""
    instance_id: int
    process_id: str
    child: Child
    milestones: Mapping[str, tuple[Reached, ...]]
    status: str = "running"
    ended_on: date | None = None

    def every(self, code: str, until: date | None = None) -> tuple[Reached, ...]:
        found = self.milestones.get(code, ())
        if until is not None and found and found[-1].on > until:
            found = tuple(r for r in found if r.on <= until)
        return found

    def first(self, code: str, until: date | None = None) -> Reached | None:
        for reached in self.milestones.get(code, ()):
            if until is None or reached.on <= until:
                return reached
        return None


class Deployment(NamedTuple):
    process_id: str
    version: int
    deployed_on: date
    reason: str = ""
    pdsa_cycle_id: int | None = None


def episode(instance_id: int, child: Child, reached: Iterable[Reached], *,
            process_id: str = "", status: str = "running", ended_on: date | None = None) -> Episode:
    """Build an episode from milestones in any order (tests and the loader use this).

    Each milestone's occurrences are kept in date order (occurrence number breaking ties),
    so "first" means the earliest date, as the aggregate queries of ``measure_sql`` read it
    (a date entered for a later occurrence can be earlier than an earlier one's)."""
    grouped: dict[str, list[Reached]] = defaultdict(list)
    for item in reached:
        grouped[item.code].append(item)
    ordered = {code: tuple(sorted(items, key=lambda r: (r.on, r.occurrence)))
               for code, items in grouped.items()}
    return Episode(instance_id, process_id, child, ordered, status, ended_on)


def instances_of(process_id: str, teams: Sequence[str] | None = None):
    """The query of a process's instances with their children, as ``instance_rows`` reads."""
    query = (select(ProcessInstance.id, ProcessInstance.status, ProcessInstance.completed_at,
                    Subject.id, Subject.reference, Subject.display_name, Subject.team,
                    Subject.date_of_birth)
             .join(Subject, Subject.id == ProcessInstance.subject_id)
             .where(ProcessInstance.process_id == process_id))
    if teams is not None:
        query = query.where(Subject.team.in_(list(teams)))
    return query


def instance_rows(session: Session, instances) -> Iterator[tuple[int, Child, str, date | None]]:
    """(instance id, child, status, ended on) for each row of ``instances`` (``instances_of``,
    perhaps narrowed), in instance order; one ``Child`` per child."""
    children: dict[int, Child] = {}
    for (instance_id, status, completed_at, subject_id, reference, name, team,
         dob) in session.execute(instances.order_by(ProcessInstance.id)).all():
        child = children.get(subject_id)
        if child is None:
            child = children[subject_id] = Child(subject_id, reference, name, team, dob)
        ended = completed_at.date() if completed_at is not None and status != "running" else None
        yield instance_id, child, status, ended


def load_episodes(session: Session, process_id: str, *, codes: Sequence[str] | None = None,
                  teams: Sequence[str] | None = None) -> list[Episode]:
    """Every instance of ``process_id`` with its reached milestones (only ``codes`` when
    given), for children in ``teams`` (None: every team)."""
    rows = (select(Milestone.instance_id, Milestone.code, Milestone.occurrence,
                   Milestone.actual_date, Milestone.model_version, Milestone.data)
            .where(Milestone.process_id == process_id, Milestone.actual_date.is_not(None)))
    if codes is not None:
        rows = rows.where(Milestone.code.in_(list(codes)))
    if teams is not None:
        rows = rows.join(Subject, Subject.id == Milestone.subject_id).where(
            Subject.team.in_(list(teams)))
    reached: dict[int, list[Reached]] = defaultdict(list)
    for instance_id, code, occurrence, actual, version, data in session.execute(rows):
        reached[instance_id].append(Reached(code, actual, occurrence, version, data or EMPTY))
    return [episode(instance_id, child, reached.get(instance_id, ()), process_id=process_id,
                    status=status, ended_on=ended)
            for instance_id, child, status, ended
            in instance_rows(session, instances_of(process_id, teams))]


def load_deployments(session: Session, process_ids: Iterable[str]) -> list[Deployment]:
    """Every deployed version of the given processes, oldest first."""
    query = (select(ProcessModel.process_id, ProcessModel.version, ProcessModel.deployed_at,
                    ProcessModel.reason, ProcessModel.pdsa_cycle_id)
             .where(ProcessModel.process_id.in_(list(process_ids)))
             .order_by(ProcessModel.deployed_at, ProcessModel.process_id, ProcessModel.version))
    return [Deployment(pid, version, at.date(), reason or "", cycle)
            for pid, version, at, reason, cycle in session.execute(query)]
