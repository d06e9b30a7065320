"""When a person can no longer work the tasks they hold: the tasks go back to the team
queue, and the team's first-line managers (team leader, team manager) are told.

Used by ``people.deactivate_person`` (a leaver: every task they hold) and
``people.update_person`` (a changed role or team: the tasks they may no longer work).
Each task is released through the engine as a manager would release it, so the child's
audit chain has a ``task_released`` event naming the administrator and the reason; the
managers' notices are plain rows of the notification centre (kind ``team_change``, shown
there only), one per manager, keyed to the audit event about the person.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock, work_items
from engine.models import AuditEvent, Notification, Subject, UserAccount, WorkItem

from .. import policy

KIND = "team_change"
OVERVIEW_LINK = "/overview"


def held(session: Session, person_id: int) -> list[WorkItem]:
    """The tasks the person holds (claimed), oldest first."""
    return list(session.scalars(select(WorkItem).where(
        WorkItem.assignee_id == person_id, WorkItem.status == "claimed")
        .order_by(WorkItem.id)).unique())


def release_all(session: Session, items: list[WorkItem], by: UserAccount,
                reason: str) -> list[WorkItem]:
    """Put ``items`` back in their team queues, each an audited release by ``by``."""
    return [work_items.release(session, item.id, by, as_manager=True, reason=reason)
            for item in items]


def allocated_children(session: Session, person_id: int) -> int:
    """Children whose allocated worker the person is (an allocation to change after a leaver)."""
    return session.scalar(select(func.count()).select_from(Subject).where(
        Subject.allocated_worker_id == person_id)) or 0


def managers_of(session: Session, team: str) -> list[UserAccount]:
    """Active first-line managers of ``team`` (service-wide managers are not counted)."""
    users = session.scalars(select(UserAccount).where(
        UserAccount.active.is_(True), UserAccount.team == team).order_by(UserAccount.id))
    return [u for u in users if policy.holds_any(u, policy.FIRST_LINE_MANAGER_ROLES)]


def tell_managers(session: Session, event: AuditEvent, person: UserAccount, headline: str,
                  returned: list[WorkItem], *, own_team: bool, actor_name: str) -> list[UserAccount]:
    """A notice to the first-line managers of each team concerned: the tasks returned to
    their team's queue (children by reference only) and, for the person's own team
    (``own_team``), the news itself even when no task was returned. Returns who was told."""
    by_team: dict[str, list[WorkItem]] = defaultdict(list)
    for item in returned:
        by_team[item.team].append(item)
    teams = list(by_team)
    if own_team and person.team is not None and person.team not in by_team:
        teams.insert(0, person.team)
    if not teams:
        return []
    session.flush()  # the event's id, for the notices
    references = dict(session.execute(select(Subject.id, Subject.reference).where(
        Subject.id.in_({i.subject_id for i in returned}))).all()) if returned else {}
    allocated = allocated_children(session, person.id) if own_team else 0
    told = []
    for team in teams:
        items = by_team.get(team, [])
        body = _body(person, headline, items, references, actor_name,
                     allocated if team == person.team else 0)
        count = len(items)
        title = (f"{person.display_name} {headline}. "
                 + (f"{count} task{'s' if count != 1 else ''} back in the team queue"
                    if count else "No tasks were open"))
        for manager in managers_of(session, team):
            if manager.id == person.id or manager.username == event.actor:
                continue
            session.add(Notification(
                user_id=manager.id, kind=KIND, title=title[:300], body=body, link=OVERVIEW_LINK,
                subject_id=None, work_item_id=None, event_id=event.id, created_at=clock.now(),
                dedupe_key=f"{event.chain}#{event.chain_seq}:{manager.id}"))
            told.append(manager)
    return told


def _body(person: UserAccount, headline: str, items: list[WorkItem], references: dict,
          actor_name: str, allocated: int) -> str:
    lines = [f"{actor_name} recorded that {person.display_name} {headline}."]
    if items:
        tasks = "; ".join(f"{i.title} (child {references.get(i.subject_id, '?')})" for i in items)
        lines.append(f"The tasks they held went back to the team queue, unassigned: {tasks}. "
                     "Give them to someone from the overview or the task pages.")
    if allocated:
        lines.append(f"They are the allocated worker of {allocated} "
                     f"child{'ren' if allocated != 1 else ''}; allocate someone else.")
    return " ".join(lines)
