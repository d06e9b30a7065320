"""Journeys of the Scottish demo that end early, through the real use case.

A child who turns 18 before today is played only to the eve of their birthday; the worker's
daily check (``journey_endings.end_at_eighteen``) then ends the journey on the birthday, as
it would have in use. After every child is played, the demo team leader ends two more
journeys of the permanence process (Aim 2) through ``end_journey_early``: one child a
parent takes home from voluntary care (section 25) and one who moves to another council,
each on a day after the last thing that happened to the child, so no recorded step comes
after the ending. The choices draw nothing from the demo's random stream: the same seed
gives the same caseload.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEvent, Milestone, ProcessInstance, Subject, UserAccount
from workflows.measures import pdsa
from workflows.services import journey_endings

# (reason, note) of the journeys the team leader ends, in turn.
ENDINGS = (
    ("removed_by_parent", "A parent took the child home; section 25 care ended."),
    ("moved_council", "The family moved to Fife; their council holds the case now."),
)
MIN_GAP_DAYS = 14  # the ending comes at least this long after the child's last recorded step


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), timezone.utc)


def played_to(born: date | None, today: date) -> date:
    """The last day a child's journey is played: the eve of their 18th birthday, or today."""
    if born is None:
        return today
    return min(today, journey_endings.eighteenth_birthday(born) - timedelta(days=1))


def end_if_18(database, born: date | None, today: date) -> int:
    """The worker's daily check on the child's 18th birthday, when it is today or before;
    how many journeys it ended."""
    if born is None or journey_endings.eighteenth_birthday(born) > today:
        return 0
    birthday = journey_endings.eighteenth_birthday(born)
    clock.set_now(_at(birthday, 5))
    with database.transaction() as session:
        return len(journey_endings.end_at_eighteen(session, database.runtime, birthday))


def end_some(database, today: date) -> int:
    """The team leader's early endings (``ENDINGS``); how many children's journeys ended.
    Section 25 ends only the journey of a child in voluntary care."""
    with database.transaction() as session:
        candidates = _candidates(session, today)
        voluntary = [c for c in candidates if _voluntary(session, c[0])]
    chosen: list[tuple[str, str, tuple[int, str, date]]] = []
    for reason, note in ENDINGS:
        pool = voluntary if reason == "removed_by_parent" else candidates
        taken = [child for _r, _n, child in chosen]
        found = next((c for c in pool if c not in taken), None)
        if found is not None:
            chosen.append((reason, note, found))
    for reason, note, (subject_id, team, on) in chosen:
        clock.set_now(_at(on, 15))
        with database.transaction() as session:
            leader = next(u for u in session.scalars(select(UserAccount).where(
                UserAccount.team == team, UserAccount.active.is_(True))
                .order_by(UserAccount.id)) if "team_leader" in u.roles)
            journey_endings.end_journey_early(session, database.runtime, leader, subject_id,
                                              reason, on, note)
    return len(chosen)


def _candidates(session, today: date) -> list[tuple[int, str, date]]:
    """(child, team, day to end) of children on the permanence journey whose last recorded
    step is at least ``2 * MIN_GAP_DAYS`` before today, oldest child record first: ended
    ``MIN_GAP_DAYS`` after that step."""
    last_event = (select(AuditEvent.subject_id, func.max(AuditEvent.at).label("last"))
                  .group_by(AuditEvent.subject_id).subquery())
    rows = session.execute(
        select(Subject.id, Subject.team, last_event.c.last)
        .join(last_event, last_event.c.subject_id == Subject.id)
        .where(Subject.id.in_(select(ProcessInstance.subject_id).where(
            ProcessInstance.process_id == pdsa.AIM_PROCESS[2],
            ProcessInstance.status == "running")))
        .order_by(Subject.id)).all()
    found = []
    for subject_id, team, last in rows:
        last_day = max(clock.aware(last).date(), _last_milestone(session, subject_id) or date.min)
        if (today - last_day).days < 2 * MIN_GAP_DAYS:
            continue
        found.append((subject_id, team, last_day + timedelta(days=MIN_GAP_DAYS)))
    return found


def _last_milestone(session, subject_id: int) -> date | None:
    return session.scalar(select(func.max(Milestone.actual_date))
                          .join(ProcessInstance, ProcessInstance.id == Milestone.instance_id)
                          .where(ProcessInstance.subject_id == subject_id))


def _voluntary(session, subject_id: int) -> bool:
    """Whether the child's legal basis, as last recorded on a form, is voluntary care
    (section 25); none recorded yet: accommodated, so voluntary."""
    basis = None
    for data in session.scalars(select(AuditEvent.data).where(
            AuditEvent.subject_id == subject_id, AuditEvent.event_type == "task_completed")
            .order_by(AuditEvent.id)):
        basis = ((data or {}).get("answers") or {}).get("legal_basis", basis)
    return basis in (None, "voluntary")
