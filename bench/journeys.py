"""Children played through the real runtime up to a chosen "today" (the generator's templates).

A journey is (process, route, start date, seed). It is played like the demo caseload: a
worker with the task's role completes each open task on, before or after its due date, a
timer fires on its date, a hand-off to another process is followed, and whatever would
happen after "today" is left open. The same function builds the generator's templates and
the reference children the generator's test compares its clones with.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from engine import clock
from engine.models import ProcessInstance, Timer, UserAccount, WorkItem
from workflows.children import records as children
from workflows.demo import scotland as demo
from workflows.vocabulary import CSO_HOME, PERMANENCE

# Route of the permanence journey (the substantive review's decision) and how common it is.
PERMANENCE_ROUTES = {"home": 3, "kinship": 2, "permanence_order": 2, "adoption": 2, "not_decided": 1}
# Children on a CSO at home: their hearings decide as the demo's weights say; "cso_away"
# forces "away from home" so the hand-off to a permanence journey is covered.
CSO_ROUTES = {"cso": 4, "cso_away": 1}
ALL_ROUTES = {**PERMANENCE_ROUTES, **CSO_ROUTES}
DRIFTS = (0.05, 0.15, 0.4)  # share of tasks a child's workers complete late


@dataclass(frozen=True)
class Journey:
    route: str          # a key of ALL_ROUTES
    start: date         # LA start (permanence) or CSO start
    seed: int
    today: date         # play up to this day; later work stays open

    @property
    def process_id(self) -> str:
        return CSO_HOME if self.route in CSO_ROUTES else PERMANENCE

    @property
    def key(self) -> str:
        return f"{self.route}@{self.start.isoformat()}#{self.seed}<={self.today.isoformat()}"

    def weights(self) -> dict:
        weights = dict(demo.WEIGHTS)
        if self.route in PERMANENCE_ROUTES:
            weights["route"] = {self.route: 1}
        if self.route == "cso_away":
            weights["hearing_decision"] = {"away_from_home": 1}
            weights["route"] = {"adoption": 1}
        return weights


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), timezone.utc)


def _worker(session, role: str, team: str) -> UserAccount:
    found = None
    for user in session.scalars(select(UserAccount).order_by(UserAccount.id)):
        if role in (user.roles or []):
            if user.team == team:
                return user
            if user.team is None and found is None:
                found = user
    if found is None:
        raise LookupError(f"no user with role {role!r} for team {team!r}")
    return found


def start(database, journey: Journey, reference: str, team: str) -> tuple[int, int]:
    """Register the child and start its process at the journey's start; (subject, instance)."""
    clock.set_now(at(journey.start, 9))
    with database.transaction() as session:
        child = children.register_child(session, reference, f"Bench {reference}", team, "demo")
        if journey.process_id == CSO_HOME:
            instance = children.place_on_cso_at_home(session, database.runtime, child,
                                                     journey.start, "demo")
        else:
            instance = children.accommodate(session, database.runtime, child, journey.start, "demo")
        return child.id, instance.id


def play(database, journey: Journey, instance_id: int) -> None:
    """Complete tasks and fire timers in date order until the next one falls after today,
    exactly as the demo does (workflows.demo.scotland.play); leaves the injected clock set to the last
    step."""
    rng = random.Random(journey.seed)
    drift = rng.choice(DRIFTS)
    demo.play(database, instance_id, journey.today, rng, drift, journey.weights(), _worker)


def build_child(database, journey: Journey, reference: str, team: str = "north") -> int:
    """A child built through the runtime alone, as far as ``journey.today``; its subject id."""
    try:
        subject_id, instance_id = start(database, journey, reference, team)
        play(database, journey, instance_id)
    finally:
        clock.set_now(None)
    return subject_id


def catalogue(today: date, *, horizon_days: int = 1095, step_days: int = 7,
              seed: int = 2026) -> list[tuple[Journey, float]]:
    """Journeys starting every ``step_days`` over the horizon, for every route, each with the
    share of the caseload it stands for (uniform start dates, route weights)."""
    journeys = []
    total = sum(ALL_ROUTES.values())
    offsets = list(range(0, horizon_days + 1, step_days))
    for number, offset in enumerate(offsets):
        for index, (route, weight) in enumerate(ALL_ROUTES.items()):
            journeys.append((Journey(route, today - timedelta(days=offset),
                                     seed * 100_003 + number * 31 + index, today),
                             weight / total / len(offsets)))
    return journeys


def stage_of(session, subject_id: int) -> str:
    """Where a child stands: its open tasks, a waiting timer, or how its journey ended."""
    names = list(session.scalars(select(WorkItem.task_name).where(
        WorkItem.subject_id == subject_id, WorkItem.status.in_(("ready", "claimed")))))
    if names:
        return "+".join(sorted(names))
    instance = session.scalars(select(ProcessInstance).where(ProcessInstance.subject_id == subject_id)
                               .order_by(ProcessInstance.id.desc())).first()
    if instance is None:
        return "none"
    if instance.status == "running":
        waiting = ",".join(session.scalars(select(Timer.name).where(Timer.instance_id == instance.id)))
        return f"waiting:{waiting}" if waiting else "running"
    return f"ended:{instance.end_event}"


__all__ = ["Journey", "build_child", "catalogue", "play", "start", "stage_of"]
