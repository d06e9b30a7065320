"""A process owner's change, once the draft is valid (``model_validation``) and compared
(``diagram_elements``): deploy it (linked to a PDSA cycle), then move running children to it.

Migration is ``engine.migration``: a dry run per child, then each child moved in its own
transaction, so one child that cannot move never holds back (or half-moves) another.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import migration, migration_preview, registry
from engine.errors import Conflict, NotFound
from engine.models import ProcessInstance, ProcessModel, Subject, Timer, WorkItem
from engine.migration_preview import DateChange
from engine.registry import ModelBundle, ValidationContext

from workflows.measures import pdsa
from workflows.measures.tables import PdsaCycle

log = logging.getLogger(__name__)



# -- deploy -------------------------------------------------------------------------------
def pdsa_choices(session: Session, council: str) -> list[tuple[int, str]]:
    return [(c.id, f"Aim {c.aim}: {c.change_idea} (cycle {c.cycle_number}, from "
                   f"{c.start_date.day} {c.start_date:%b %Y})")
            for c in pdsa.cycles(session, None, council)]


def deploy(session: Session, bundle: ModelBundle, ctx: ValidationContext, actor: str, reason: str,
           pdsa_cycle_id: int | None, council: str) -> tuple[ProcessModel, bool]:
    """Deploy as version N+1 (``created`` False when it equals the latest version). A linked
    PDSA cycle that names no diagram version yet is updated to name this one (audited)."""
    cycle = None
    if pdsa_cycle_id is not None:
        cycle = session.get(PdsaCycle, pdsa_cycle_id)
        if cycle is None or cycle.council != council:
            raise NotFound(f"There is no PDSA cycle {pdsa_cycle_id}.")
    model, created = registry.deploy(session, bundle, ctx, actor, reason=reason,
                                     pdsa_cycle_id=pdsa_cycle_id)
    if created and cycle is not None and cycle.model_version is None:
        values = {name: getattr(cycle, name) for name in pdsa.FIELDS}
        values.update(process_id=model.process_id, model_version=model.version)
        pdsa.update_cycle(session, cycle.id, pdsa.CycleInput(**values), actor, council)
    return model, created


def cycles_by_version(session: Session, process_id: str,
                      models: list[ProcessModel]) -> dict[int, list[PdsaCycle]]:
    """PDSA cycles per version: linked when deployed, or naming the version themselves."""
    ids = {m.pdsa_cycle_id for m in models if m.pdsa_cycle_id}
    found: dict[int, list[PdsaCycle]] = defaultdict(list)
    query = select(PdsaCycle).where((PdsaCycle.process_id == process_id)
                                    | PdsaCycle.id.in_(ids or {-1}))
    cycles = list(session.scalars(query.order_by(PdsaCycle.start_date)))
    for model in models:
        for cycle in cycles:
            if cycle.id == model.pdsa_cycle_id or (cycle.process_id == process_id
                                                   and cycle.model_version == model.version):
                found[model.version].append(cycle)
    return found


# -- migrate ------------------------------------------------------------------------------
@dataclass
class Candidate:
    instance_id: int
    reference: str
    team: str
    version: int
    now_at: list[str]
    can_move: bool
    reason: str
    moves: list[str] = field(default_factory=list)
    changes: list[DateChange] = field(default_factory=list)  # due dates before → after


def running_counts(session: Session, process_id: str) -> dict[int, int]:
    rows = session.execute(select(ProcessModel.version, func.count(ProcessInstance.id))
                           .join(ProcessInstance, ProcessInstance.model_id == ProcessModel.id)
                           .where(ProcessModel.process_id == process_id,
                                  ProcessInstance.status == "running")
                           .group_by(ProcessModel.version))
    return {version: count for version, count in rows}


def plan(session: Session, runtime, target: ProcessModel) -> list[Candidate]:
    """Dry run: every running child of the process on another version, whether it can move
    to ``target`` (if not, why) and how its due dates and open tasks would change
    (``engine.migration_preview``). Nothing is written."""
    instances = list(session.scalars(
        select(ProcessInstance).join(Subject, Subject.id == ProcessInstance.subject_id)
        .where(ProcessInstance.process_id == target.process_id,
               ProcessInstance.status == "running", ProcessInstance.model_id != target.id)
        .order_by(Subject.reference, ProcessInstance.id)).unique())
    ids = [i.id for i in instances]
    at: dict[int, list[str]] = defaultdict(list)
    due_now: dict[int, dict[str, object]] = defaultdict(dict)
    if ids:
        for instance_id, title, task_id, due in session.execute(
                select(WorkItem.instance_id, WorkItem.title, WorkItem.task_id, WorkItem.due_date)
                .where(WorkItem.instance_id.in_(ids), WorkItem.status.in_(("ready", "claimed")))
                .order_by(WorkItem.id)):
            at[instance_id].append(title)
            due_now[instance_id][task_id] = due
        for instance_id, name, fire_at in session.execute(
                select(Timer.instance_id, Timer.name, Timer.fire_at)
                .where(Timer.instance_id.in_(ids))):
            at[instance_id].append(f"waiting: {name} ({fire_at.day} {fire_at:%b %Y})")
    found = []
    for instance in instances:
        try:
            seen = migration_preview.preview(runtime, instance, target, due_now[instance.id])
            check, dates = seen.check, seen.changes
            can, reason, moves = check.can_move, check.reason, check.moves
        except Exception as exc:  # noqa: BLE001 - one unreadable child must not hide the rest
            log.warning("dry run failed for instance %s", instance.id, exc_info=True)
            can, reason, moves, dates = False, f"could not be checked ({type(exc).__name__})", [], []
        found.append(Candidate(instance.id, instance.subject.reference, instance.subject.team,
                               instance.model.version, at.get(instance.id, []), can, reason, moves,
                               dates))
    return found


@dataclass
class Outcome:
    instance_id: int
    reference: str
    moved: bool
    message: str


def migrate_each(database, target_id: int, instance_ids: list[int], actor: str) -> list[Outcome]:
    """Move each child in its own transaction (``engine.migration.migrate``: audited, work
    items and due dates recomputed). A child that cannot move, or changed meanwhile, is
    reported and left exactly as it was."""
    outcomes = []
    for instance_id in instance_ids:
        reference = f"process instance {instance_id}"
        try:
            with database.transaction() as session:
                target = session.get(ProcessModel, target_id)
                instance = session.get(ProcessInstance, instance_id)
                if target is None:
                    raise NotFound("That version no longer exists.")
                if instance is None or instance.process_id != target.process_id:
                    raise NotFound("That child is not on this process.")
                reference = instance.subject.reference
                result = migration.migrate(session, database.runtime, instance, target, actor)
            outcomes.append(Outcome(instance_id, reference, True,
                                    "; ".join(result.moves) or "moved"))
        except (Conflict, NotFound) as exc:
            outcomes.append(Outcome(instance_id, reference, False, str(exc)))
        except Exception as exc:  # noqa: BLE001 - report it, keep the others going
            log.exception("migration of instance %s failed", instance_id)
            outcomes.append(Outcome(instance_id, reference, False,
                                    f"not moved: an unexpected error ({type(exc).__name__}); "
                                    "nothing changed for this child"))
    return outcomes
