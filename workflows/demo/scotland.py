"""Demo caseload: children at every stage, built through the real runtime.

Each child is played forward from its start date with the clock injected: a worker with
the task's role completes each task on, before or after its due date (some children drift),
timers fire when their date passes, and whatever falls after "today" is left open. So the
queues, milestones and audit trail are exactly what real use would have produced.
"""
from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from engine import clock, sweeper
from engine.models import ProcessInstance, Subject, Timer, UserAccount, WorkItem

from workflows import accounts, sample_answers
from workflows.demo import endings, families
from workflows.services import documents as task_documents
from workflows.children import records as child_records
from workflows.vocabulary import CSO_HOME

DEMO_PASSWORD = "pace-demo-2026"
TEAMS = {"north": "Children and Families North", "south": "Children and Families South"}
# (username, name, roles, team)
DEMO_USERS = [
    ("sw.north", "Sam Wilson", ["social_worker"], "north"),
    ("sw2.north", "Priya Shah", ["social_worker"], "north"),
    ("tl.north", "Tom Lees", ["team_leader"], "north"),
    ("sw.south", "Sara Walker", ["social_worker"], "south"),
    ("tl.south", "Tina Lamb", ["team_leader"], "south"),
    ("chair", "Isla Chalmers", ["independent_chair"], None),
    ("legal", "Lewis Gray", ["legal_services"], None),
    ("panel", "Pat Adams", ["panel_adviser"], None),
    ("adm", "Alex Donald", ["adm"], None),
    ("manager", "Morag Scott", ["service_manager"], None),
    ("owner", "Owen Price", ["process_owner"], None),
    ("auditor", "Aileen Tod", ["auditor"], None),
    ("admin", "Ada Min", ["admin"], None),
]
WEIGHTS = {
    "route": families.ROUTES,  # each child's own mix: families.cast
    "return_home_outcome": {"sustained": 9, "returned_to_care": 1},
    "kinship_order_outcome": {"granted": 9, "refused": 1},
    "panel_recommendation": {"agrees": 9, "deferred": 1},
    "adm_decision": {"ratified": 9, "not_ratified": 1},
    "court_outcome": {"granted": 9, "refused": 1},
    # Permanence journey version 2 (docs/journey-changes.md): most accommodated children
    # planned for permanence are on a CSO, so most reach the Children's Reporter.
    "legal_basis": {"voluntary": 3, "cso": 5, "interim_cso": 1},
    "variation_outcome": {"varied": 7, "terminated": 2, "not_varied": 1},
    "kinship_assessment_outcome": {"suitable": 9, "not_suitable": 1},
    "hearing_advice": {"supports": 8, "supports_with_comments": 2},
    "match_recommendation": {"recommends": 8, "deferred": 1, "does_not_recommend": 1},
    "match_decision": {"approved": 9, "not_approved": 1},
    "adoption_outcome": {"granted": 9, "refused": 1},
    # South Ayrshire: 80% of Aim 1 reviews recommended terminating the CSO (families.py).
    "recommendation": {"terminate": 16, "continue": 2, "vary": 1, "permanence_away": 1},
    # a hearing may defer its decision to a later hearing (2011 Act s138): the loop waits
    "hearing_decision": {"terminated": 5, "continued": 3, "varied": 1, "away_from_home": 1,
                         "deferred": 1},
    "grounds_still_relevant": {"no": 3, "yes": 1, "unsure": 1},
}


@dataclass(frozen=True)
class Cast:
    """A demo's teams and sign-ins (one user for every role); each profile's demo has its own."""
    heading: str
    teams: dict[str, str]
    users: list[tuple[str, str, list[str], str | None]]  # username, name, roles, team


SCOTTISH_CAST = Cast("Demo sign-ins", TEAMS, DEMO_USERS)


@dataclass
class DemoResult:
    children: int = 0
    completed_tasks: int = 0
    timers_fired: int = 0
    open_tasks: int = 0
    overdue_tasks: int = 0
    left_care: int | None = None  # counted by demos whose children can leave care
    ended_early: int = 0  # children whose journey the demo ended early (workflows/demo/endings.py)
    caseload: str = "Demo caseload"
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        left = f" ({self.left_care} left care)" if self.left_care is not None else ""
        left += f" ({self.ended_early} ended early)" if self.ended_early else ""
        return (f"{self.caseload}: {self.children} children{left}, {self.completed_tasks} tasks "
                f"completed, {self.timers_fired} timers fired, {self.open_tasks} tasks open "
                f"({self.overdue_tasks} overdue).")


def sign_in_text(cast: Cast = SCOTTISH_CAST) -> str:
    width = max(len(u[0]) for u in cast.users) + 1
    name_width = max(len(u[1]) for u in cast.users) + 2
    lines = [f"{cast.heading} (password for all: {DEMO_PASSWORD}):"]
    for username, name, roles, team in cast.users:
        lines.append(f"  {username:<{width}} {name:<{name_width}} {', '.join(roles)}"
                     + (f" ({team})" if team else " (all teams)"))
    return "\n".join(lines)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), timezone.utc)


def workers(session, cast: Cast = SCOTTISH_CAST) -> dict[tuple[str, str | None], UserAccount]:
    """(role, team) -> the cast's first user holding it; a team of None: service-wide."""
    usernames = [u[0] for u in cast.users]
    found = {}
    for user in session.scalars(select(UserAccount).where(UserAccount.username.in_(usernames))
                                .order_by(UserAccount.id)):
        for role in user.roles:
            found.setdefault((role, user.team), user)
    return found


@functools.cache
def _demo_password_hash() -> str:
    return generate_password_hash(DEMO_PASSWORD)


def ensure_users(session, actor: str = "demo", cast: Cast = SCOTTISH_CAST) -> None:
    for code, name in cast.teams.items():
        accounts.ensure_team(session, code, name)
    for username, name, roles, team in cast.users:
        if accounts.find_user(session, username) is None:
            accounts.create_user(session, username, name, DEMO_PASSWORD, roles, team, actor=actor,
                                 password_hash=_demo_password_hash())


def ready(database, cast: Cast, if_empty: bool) -> bool:
    """The cast's teams and users in place; False (build nothing) when ``if_empty`` and
    children exist already."""
    with database.transaction() as session:
        if if_empty and session.scalar(select(func.count()).select_from(Subject)):
            return False
        ensure_users(session, cast=cast)
    return True


def finish(database, result: DemoResult, today: date, *, sweep: bool = True,
           mail: bool = True) -> DemoResult:
    """What a worker running every night would have done by today, then the open tasks."""
    if sweep:
        clock.set_now(at(today, 6))
        result.timers_fired += sweeper.sweep(database.factory, database.runtime,
                                             mail=mail).timers_fired
    return count_open(database, result, today)


def count_open(database, result: DemoResult, today: date) -> DemoResult:
    """The caseload's open and overdue tasks on ``today``, into ``result``."""
    with database.transaction() as session:
        result.open_tasks = session.scalar(select(func.count()).select_from(WorkItem)
                                           .where(WorkItem.status.in_(("ready", "claimed"))))
        result.overdue_tasks = session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.status.in_(("ready", "claimed")), WorkItem.due_date < today))
    return result


def _worker_for(users, role: str, team: str) -> UserAccount:
    return users.get((role, team)) or users.get((role, None))


def _demo_worker(session, role: str, team: str) -> UserAccount:
    return _worker_for(workers(session), role, team)


def play(database, instance_id: int, today: date, rng: random.Random, drift: float,
         weights=WEIGHTS, worker_for=_demo_worker, result: DemoResult | None = None,
         documents: bool = False) -> None:
    """Complete the child's tasks and fire its timers in date order until the next event
    lies after today.

    Shared by the demo and the benchmark generator so both build children the one way a
    worker would: each task done some days either side of its due date (``drift`` is the
    share done late), each timer fired on its day, follow-on processes played on. A child
    with tasks open side by side (the permanence journey's six-monthly reviews beside its
    route) has each done on its own day, and a timer due before them fires first. With
    ``documents`` a step that names a Word template (action minute, legal referral, review
    record) has its document made as the task service makes it; the benchmark generator
    leaves them out, as a worker's case notes, since it clones only what the runtime writes."""
    result = result if result is not None else DemoResult()
    planned: dict[int, date] = {}  # work item -> the day it is done, drawn when first seen
    while True:
        with database.transaction() as session:
            items = list(session.scalars(select(WorkItem).where(
                WorkItem.instance_id == instance_id, WorkItem.status.in_(("ready", "claimed")))
                .order_by(WorkItem.id)))
            instance = session.get(ProcessInstance, instance_id)
            for item in items:
                if item.id not in planned:
                    ready_day = item.created_at.date()
                    due = item.due_date or ready_day
                    delay = rng.randint(3, 75) if rng.random() < drift else -rng.randint(0, 6)
                    planned[item.id] = max(ready_day, due + timedelta(days=delay))
            timer = session.scalars(select(Timer).where(Timer.instance_id == instance_id)
                                    .order_by(Timer.fire_at)).first() if items else None
            timer_day = clock.aware(timer.fire_at).date() if timer is not None else None
            item = min(items, key=lambda i: (planned[i.id], i.id)) if items else None
            if item is not None and (timer_day is None or planned[item.id] < timer_day):
                day = planned[item.id]
                if day > today:
                    return
                clock.set_now(at(day))
                schema, _ = database.runtime.form_for(instance, item.task_name)
                data = sample_answers.fill(schema, day, rng, weights)
                worker = worker_for(session, item.role, item.team)
                done = database.runtime.complete(session, item.id, data, worker)
                if documents:
                    task_documents.made_on_completion(session, database.runtime, worker,
                                                      done.work_item, done.instance)
                result.completed_tasks += 1
                continue
            if item is None and instance.status != "running":
                follow_on = session.scalar(select(ProcessInstance.id).where(
                    ProcessInstance.parent_instance_id == instance_id))
                if follow_on is None:
                    return
                instance_id = follow_on
                continue
            if timer is None:
                timer = session.scalars(select(Timer).where(Timer.instance_id == instance_id)
                                        .order_by(Timer.fire_at)).first()
            if timer is None or clock.aware(timer.fire_at).date() > today:
                return
            clock.set_now(at(clock.aware(timer.fire_at).date(), 7))
            result.timers_fired += len(database.runtime.fire_timers(session, instance, "demo"))


def build(database, *, children: int = 60, seed: int = 2026, today: date | None = None,
          if_empty: bool = False) -> DemoResult | None:
    today = today or date.today()
    rng = random.Random(seed)
    if not ready(database, SCOTTISH_CAST, if_empty):
        return None
    result = DemoResult()
    try:
        for member in families.cast(children, seed, today, list(TEAMS)):
            clock.set_now(at(member.start, 9))
            with database.transaction() as session:
                worker = _worker_for(workers(session), "social_worker", member.team)
                child = child_records.register_child(
                    session, f"C{member.number:05d}", member.name, member.team, "demo",
                    date_of_birth=member.born, allocated_worker_id=worker.id,
                    family=member.family)
                start = (child_records.place_on_cso_at_home if member.on_cso
                         else child_records.accommodate)
                instance_id = start(session, database.runtime, child, member.start, "demo").id
            result.children += 1
            play(database, instance_id, endings.played_to(member.born, today), rng,
                 member.drift, weights={**WEIGHTS, "route": member.routes}, result=result,
                 documents=True)
            result.ended_early += bool(endings.end_if_18(database, member.born, today))
        result.ended_early += endings.end_some(database, today)
        return finish(database, result, today)
    finally:
        clock.set_now(None)


__all__ = ["build", "sign_in_text", "DEMO_PASSWORD", "DEMO_USERS", "CSO_HOME"]
