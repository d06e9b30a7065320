"""Ending a child's journey early: the child left what the process is for before its
diagram could end it.

A parent takes a child home from voluntary care, the child turns 18, moves to another
council, or dies. No task of the diagrams says so, and without this the journey would run
on: its tasks reminding and escalating for ever and the aims counting the child as waiting.
Ending it cancels every open task and timer of every running process of the child
(``Runtime.end_early``), records the reason and the date as the profile's ending milestone
(Scotland ``JOURNEY_ENDED``; England ``CEASED`` with the SSDA903 ``reason_ceased``, so the
statutory return reads it as it reads a diagram's own ending) and writes the audit event.

The child page (``/children/<id>/end-early``), ``POST /api/v1/children/<id>/early-ending``
and ``pace children end-early`` come here; the worker's daily check ends the journeys of
children who reach 18 (``end_at_eighteen``), and the demo may call ``end_journey_early``
with an injected clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import Conflict, FieldError, Forbidden, InvalidData, NotFound
from engine.models import OPEN, Milestone, ProcessInstance, Subject, WorkItem
from engine.plain_text import storable_problem
from engine.runtime import ENDED_EARLY, Runtime

from .. import policy, profiles
from ..policy import Actor
from ..profiles import TURNED_18, EarlyEnding
from .actors import account

MAX_NOTE = 1000
# Who the audit names for an ending no person asked for (the worker's daily check).
WORKER = "timer"


@dataclass
class Ending:
    """What one early ending did: the child, why, when, the processes it ended and how many
    open tasks it cancelled."""
    child: Subject
    reason: EarlyEnding
    ended_on: date
    note: str
    instances: list[ProcessInstance] = field(default_factory=list)
    cancelled_tasks: int = 0


@dataclass(frozen=True)
class EndedJourney:
    """How a child's ended journey reads on their page, in the API and on the measures."""
    instance_id: int
    process_id: str
    ended_on: date
    reason: str            # the reason's code
    label: str             # the reason in plain words
    note: str


def reasons(child: Subject) -> tuple[EarlyEnding, ...]:
    """The reasons the child's profile allows, in the order a form lists them."""
    return profiles.of_subject(child).early_endings


def running(session: Session, child: Subject) -> list[ProcessInstance]:
    return list(session.scalars(select(ProcessInstance).where(
        ProcessInstance.subject_id == child.id, ProcessInstance.status == "running")
        .order_by(ProcessInstance.id)))


def child_to_end(session: Session, actor: Actor, subject_id: int) -> Subject:
    """The child, when the actor may end their journey: 404 outside their scope (as for
    every record), 403 within it without the role (``policy.can_end_journey``)."""
    child = session.get(Subject, subject_id)
    if child is None or not policy.can_view_child(actor, child.team):
        raise NotFound("There is no such child, or they are not in your team's work.")
    if not policy.can_end_journey(actor, child.team):
        raise Forbidden("Only a team leader or service manager can end a child's journey early.")
    return child


def end_journey_early(session: Session, runtime: Runtime, actor: Actor, subject_id: int,
                      reason: str | None, ended_on: date | None, note: str | None = "") -> Ending:
    """End every running process of the child, for ``reason`` (a code of the profile's
    ``early_endings``) on ``ended_on`` (not in the future, not before the journey started).
    Refused when the journey has already ended, with what ended it."""
    child = child_to_end(session, actor, subject_id)
    by = account(session, actor)
    audit.lock_chain(session, child.id)  # every write about a child takes its lock first
    return _end(session, runtime, child, reason, ended_on, note or "", by.username)


def _end(session: Session, runtime: Runtime, child: Subject, reason: str | None,
         ended_on: date | None, note: str, actor: str) -> Ending:
    instances = running(session, child)
    profile = profiles.of_subject(child)
    ending = profile.early_ending(reason)
    note = note.strip()
    problems = []
    if ending is None:
        problems.append(FieldError("reason", "Choose why the journey ended."))
    if ending is not None and ending.note_required and not note:
        problems.append(FieldError("note", "Say why the journey ended: the reason is "
                                           "'another reason'."))
    elif len(note) > MAX_NOTE:
        problems.append(FieldError("note", f"The note must be {MAX_NOTE} characters or "
                                           f"fewer; it has {len(note)}."))
    elif problem := storable_problem(note):
        problems.append(FieldError("note", problem))
    if date_problem := _date_problem(session, instances, ended_on):
        problems.append(FieldError("ended_on", date_problem))
    if not instances:
        raise Conflict(_nothing_running(session, child))
    if problems:
        raise InvalidData(problems)
    done = Ending(child, ending, ended_on, note)
    data = {"ending": ending.code, **dict(ending.data)}
    if note:
        data["note"] = note
    for instance in instances:
        done.cancelled_tasks += _open_tasks(session, instance)
        runtime.end_early(session, instance, actor, ended_on=ended_on,
                          milestone=profile.ending_milestone, milestone_data=data,
                          audit_data={"ending": ending.code, "reason": ending.label,
                                      "note": note})
        done.instances.append(instance)
    return done


def _open_tasks(session: Session, instance: ProcessInstance) -> int:
    return len(session.scalars(select(WorkItem.id).where(
        WorkItem.instance_id == instance.id, WorkItem.status.in_(OPEN))).all())


def _date_problem(session: Session, instances: list[ProcessInstance],
                  ended_on: date | None) -> str | None:
    if ended_on is None:
        return "Enter the date the journey ended."
    if ended_on > clock.today():
        return "The date the journey ended must be today or in the past."
    started = journey_start(session, instances)
    if started is not None and ended_on < started:
        return ("The date the journey ended must be on or after the day it started "
                f"({started:%-d %B %Y}).")
    return None


def journey_start(session: Session, instances: list[ProcessInstance]) -> date | None:
    """The latest start of the running processes (each one's first recorded milestone, such
    as the day the child was accommodated; else the day it was started here): an ending
    ends them all, so it cannot come before any of them began."""
    starts = []
    for instance in instances:
        first = session.scalar(select(Milestone.actual_date).where(
            Milestone.instance_id == instance.id, Milestone.actual_date.is_not(None))
            .order_by(Milestone.actual_date).limit(1))
        starts.append(first or instance.started_at.date())
    return max(starts, default=None)


def _nothing_running(session: Session, child: Subject) -> str:
    ended = ended_journeys(session, child)
    if ended:
        last = ended[-1]
        return (f"{child.display_name}'s journey has already ended ({last.label}, on "
                f"{last.ended_on:%-d %B %Y}); nothing was changed.")
    return f"{child.display_name} has no journey running; nothing was changed."


def ended_journeys(session: Session, child: Subject) -> list[EndedJourney]:
    """The child's processes that were ended early, oldest first, with the reason."""
    profile = profiles.of_subject(child)
    rows = session.execute(select(ProcessInstance.id, ProcessInstance.process_id,
                                  Milestone.actual_date, Milestone.data)
                           .join(Milestone, Milestone.instance_id == ProcessInstance.id)
                           .where(ProcessInstance.subject_id == child.id,
                                  ProcessInstance.status == ENDED_EARLY,
                                  Milestone.code == profile.ending_milestone)
                           .order_by(Milestone.actual_date, ProcessInstance.id)).all()
    found = []
    for instance_id, process_id, on, data in rows:
        code = (data or {}).get("ending")
        known = profile.early_ending(code)
        found.append(EndedJourney(instance_id, process_id, on, code or "",
                                  known.label if known else "Ended early",
                                  (data or {}).get("note") or ""))
    return found


# -- the worker's daily check: children who reach 18 --------------------------------------
def eighteenth_birthday(born: date) -> date:
    """The day a child born on ``born`` turns 18; one born on 29 February turns 18 on
    1 March of a year without one (Age of Legal Capacity (Scotland) Act 1991, s. 6)."""
    try:
        return born.replace(year=born.year + 18)
    except ValueError:
        return date(born.year + 18, 3, 1)


def end_at_eighteen(session: Session, runtime: Runtime, today: date | None = None) -> list[Ending]:
    """End the running journeys of children who have turned 18 by ``today`` (the injected
    clock's day by default), on their 18th birthday, reason ``turned_18``.

    Ended rather than flagged to the team leader: at 18 a young person is no longer looked
    after (continuing care and aftercare are not this journey), so every task left open
    would only remind and escalate; a flag would keep exactly that going until someone
    acted. A child whose journey started after that day (a date to correct) ends on the
    day it started. A child another transaction holds is left for the next round."""
    today = today or clock.today()
    latest_born = _born_by(today)
    candidates = session.scalars(select(Subject).where(
        Subject.date_of_birth.is_not(None), Subject.date_of_birth <= latest_born,
        Subject.id.in_(select(ProcessInstance.subject_id)
                       .where(ProcessInstance.status == "running")))
        .order_by(Subject.id)).all()
    done = []
    for child in candidates:
        birthday = eighteenth_birthday(child.date_of_birth)
        if birthday > today or not audit.lock_chain(session, child.id, skip_locked=True):
            continue
        instances = running(session, child)
        if not instances:
            continue
        ended_on = max(birthday, journey_start(session, instances) or birthday)
        done.append(_end(session, runtime, child, TURNED_18, min(ended_on, today),
                         "Ended by PACE Flow on the child's 18th birthday.", WORKER))
    return done


def _born_by(today: date) -> date:
    """The latest date of birth of a child who may have turned 18 by ``today``."""
    try:
        return today.replace(year=today.year - 18)
    except ValueError:  # 29 February: someone born on 1 March has not turned 18 yet
        return date(today.year - 18, 2, 28)
