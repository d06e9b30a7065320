"""The daily digest: one mail a day per user who wants it, of their tasks overdue or due
within the week and the notices they chose to have in it.

The worker's sweep queues the digests (engine/sweeper.py ``send_mail``) at the first sweep
at or after ``NotificationPolicy.digest_hour``; engine/outbox.py sends them. A digest is
queued at most once per user and day, whichever worker gets there first.
"""
from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import clock
from .db import unit_of_work
from .escalation import OPEN, EscalationChains
from .models import Notification, OutboxMessage, Subject, UserAccount, WorkItem
from .notifications import DIGEST, NotificationPolicy, format_day, mode_for
from .outbox import MailSettings

log = logging.getLogger(__name__)


@dataclass
class DigestTask:
    item_id: int
    title: str
    due: date | None
    due_text: str
    overdue_days: int
    url: str
    why: str


@dataclass
class DigestGroup:
    reference: str
    url: str
    tasks: list[DigestTask] = field(default_factory=list)
    notices: list[Notification] = field(default_factory=list)


def _responsible(user: UserAccount, item: WorkItem, chains: EscalationChains) -> str | None:
    """Why ``item`` belongs in ``user``'s digest, or None."""
    in_team = user.team is None or user.team == item.team
    if item.assignee_id == user.id:
        return "assigned to you"
    roles = set(user.roles or ())
    if item.assignee_id is None and item.role in roles and in_team:
        return "in your queue"
    level = item.escalation_level or 0
    if level and in_team:
        if roles & set(chains.of(item)[:level]):
            return "escalated to you"
    return None


def digest_groups(session: Session, policy: NotificationPolicy, user: UserAccount, today: date,
                  escalation_roles, mail: MailSettings, items: list[WorkItem] | None = None,
                  chains: EscalationChains | None = None) -> list[DigestGroup]:
    """The user's digest: open tasks overdue or due within ``digest_days`` that are theirs
    (held, in their queue, or escalated to them) and unread digest-mode notices of the
    last day, grouped by subject reference. ``escalation_roles`` is one chain, or a function
    from process id to chain (see engine/escalation.EscalationChains); ``items`` and
    ``chains``, when given, are shared by the digests of every user."""
    if items is None:
        items = _digest_items(session, policy, today)
    if chains is None:
        chains = EscalationChains(session, escalation_roles)
    groups: dict[int, DigestGroup] = {}

    def group(subject_id: int) -> DigestGroup:
        if subject_id not in groups:
            reference = session.scalar(select(Subject.reference).where(Subject.id == subject_id))
            groups[subject_id] = DigestGroup(reference or "", mail.url(
                policy.subject_link.format(id=subject_id)))
        return groups[subject_id]

    for item in items:
        why = _responsible(user, item, chains)
        if why is None:
            continue
        overdue = max(0, (today - item.due_date).days)
        group(item.subject_id).tasks.append(DigestTask(
            item.id, item.title, item.due_date, format_day(item.due_date), overdue,
            mail.url(policy.task_link.format(id=item.id)), why))
    digest_kinds = [k for k in policy.kinds if k != DIGEST
                    and mode_for(session, policy, user.id, k) == "digest"]
    since = clock.now() - timedelta(days=1)
    if digest_kinds:
        for note in session.scalars(select(Notification).where(
                Notification.user_id == user.id, Notification.kind.in_(digest_kinds),
                Notification.read_at.is_(None), Notification.created_at >= since)
                .order_by(Notification.id)):
            listed = {t.item_id for t in groups.get(note.subject_id, DigestGroup("", "")).tasks}
            if note.subject_id is not None and note.work_item_id not in listed:
                group(note.subject_id).notices.append(note)
    return sorted(groups.values(), key=lambda g: g.reference)


def _digest_items(session: Session, policy: NotificationPolicy, today: date) -> list[WorkItem]:
    horizon = today + timedelta(days=policy.digest_days)
    return list(session.scalars(select(WorkItem).where(
        WorkItem.status.in_(OPEN), WorkItem.due_date.is_not(None), WorkItem.due_date <= horizon)
        .order_by(WorkItem.due_date, WorkItem.id)))


_digest_day: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def queue_digests(factory: sessionmaker, policy: NotificationPolicy,
                  escalation_roles: tuple[str, ...] = (), *, force: bool = False) -> int:
    """Queue today's digest for every user who wants one; never twice for a user and day.

    The outbox row's ``dedupe_key`` is derived from user and date, so a second sweep (or a
    second worker) finds it already queued; a race on insert loses to the unique index.
    """
    mail = policy.mail_settings()
    now = clock.now()
    if not policy.enabled or not mail.enabled or (now.hour < policy.digest_hour and not force):
        return 0
    today = now.date()
    if _digest_day.get(factory) == today and not force:
        return 0  # this process composed today's digests already (an empty one is not retried)
    queued = 0
    with unit_of_work(factory) as session:
        users = session.scalars(select(UserAccount).where(
            UserAccount.active.is_(True), UserAccount.email.is_not(None), UserAccount.email != "")
            .order_by(UserAccount.id)).all()
        wanted = {f"digest:u{u.id}:{today.isoformat()}": u for u in users}
        done = set(session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_(list(wanted)))))
        items = _digest_items(session, policy, today)
        chains = EscalationChains(session, escalation_roles)  # each process read once
        for key, user in wanted.items():
            if key in done or mode_for(session, policy, user.id, DIGEST) == "none":
                continue
            groups = digest_groups(session, policy, user, today, escalation_roles, mail, items,
                                   chains)
            if not groups:
                continue
            overdue = sum(1 for g in groups for t in g.tasks if t.overdue_days)
            due_soon = sum(1 for g in groups for t in g.tasks if not t.overdue_days)
            notices = sum(len(g.notices) for g in groups)
            context = {**policy.mail_context(), "user": user.display_name,
                       "day": format_day(today), "groups": groups, "overdue": overdue,
                       "due_soon": due_soon, "notices": notices, "days": policy.digest_days,
                       "notifications_url": mail.url("/notifications"),
                       "preferences_url": mail.url("/notifications/preferences")}
            text, html = policy.render_mail("digest", DIGEST, context)
            subject = (f"[{policy.service_name}] Your tasks on {format_day(today)}: "
                       f"{overdue} overdue, {due_soon} due within {policy.digest_days} days")
            try:
                with session.begin_nested():
                    session.add(OutboxMessage(
                        message_id=mail.message_id(DIGEST), dedupe_key=key, user_id=user.id,
                        to_address=user.email,
                        subject=subject, text_body=text, html_body=html, kind=DIGEST,
                        status="pending", created_at=now, attempts=0, next_attempt_at=now))
                queued += 1
            except IntegrityError:  # another worker queued it a moment ago
                log.info("digest %s already queued", key)
    _digest_day[factory] = today
    return queued
