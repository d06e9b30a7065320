"""Read the milestone index into plain records (named tuples) for the pure measure functions.

Measures never open a serialized workflow: each child's episode on a process (one process
instance) is rebuilt from its ``milestone`` rows with actual dates, plus the child's team and
date of birth. Queries select columns only (no ORM entities), so a whole council's caseload
loads in a few queries; the records (``measure_records``) are named tuples, cheap to build by
the hundred thousand.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Milestone, ProcessInstance, ProcessModel, Subject

from workflows.measures.records import EMPTY, Child, Deployment, Episode, Reached, episode

__all__ = ["EMPTY", "Child", "Deployment", "Episode", "Reached", "episode", "instances_of",
           "instance_rows", "load_episodes", "load_deployments"]


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
