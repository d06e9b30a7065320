"""Notices derived from audit events, written in the transaction of the events.

A rolled-back claim or escalation leaves no notice behind, and a committed one always has
its notice (and, when the user wants mail now, its outbox row; engine/outbox.py sends it
later, nothing here calls SMTP). What is derived is the domain's ``NotificationPolicy``
(engine/notifications.py), held by a ``NoticeDerivation``: the runtime makes one from its
configuration, and the wiring (workflows/app.py ``Database.connect``) attaches it to the
session factory the application builds (``listen``). Two ways in, both explicit:

- the save path's own flush (``Runtime.flush``, engine/writer.py) writes the audit events
  of a completion by Core statements, which the ORM's flush events never see, and then
  calls ``derive_written`` itself;
- every other event is flushed by the ORM (a claim, a reminder, a migration, a new chain),
  and the factory's ``after_flush`` listener calls ``derive_written`` for it.

Per transaction a session remembers two things for derivation, in its memo
(engine/session_memo.py): which instances a timer fired for (rules ``after_timer``), and
the reads kept while deriving. A session whose notices are off (``switch_off``) derives none.
"""
from __future__ import annotations

from collections.abc import Callable
from itertools import chain

from sqlalchemy import bindparam, event, insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from . import clock
from .models import (OPEN, AuditEvent, Notification, NotificationPreference, OutboxMessage,
                     ProcessInstance, Subject, UserAccount, WorkItem)
from .notifications import NotificationPolicy, Rule, chosen_mode, format_day, due_in, link_for
from .outbox import MailSettings
from .session_memo import forget_notice_reads, memo



def switch_off(session: Session) -> Session:
    """Derive no notices from what ``session`` writes, for its whole life (a bulk import:
    the alert that fired in 2025 is not news). Returns the session."""
    memo(session).notices_off = True
    return session


class NoticeDerivation:
    """Derives and writes the notices of audit events under one policy (None: none)."""

    def __init__(self, policy: NotificationPolicy | None) -> None:
        self.policy = policy

    def listen(self, factory: sessionmaker) -> None:
        """Derive the notices of the audit events that sessions of ``factory`` flush the
        ORM's way; called once, where the factory and the runtime are wired together."""
        event.listen(factory, "after_flush", self._after_flush)
        event.listen(factory, "do_orm_execute", _forget_reads_on_dml)

    def derive_written(self, session: Session, events: list[AuditEvent], inserted: dict) -> None:
        """Write the notices of ``events``, just written with the work items ``inserted``
        ((instance id, task id) -> item), every other change of the transaction already in
        the database: from ``after_flush``, or from the save path's own flush."""
        policy = self.policy
        if policy is None or not policy.enabled:
            return
        remembered = memo(session)
        if remembered.notices_off:
            return
        deriving = _Derivation(session, policy, inserted, remembered)
        _write(session, [notice for audit_event in sorted(events, key=lambda e: e.id)
                         for notice in deriving.notices(audit_event)])

    def _after_flush(self, session: Session, _context) -> None:
        # The flush's lists still hold what it wrote. Reads kept from the rows of users or
        # their mail choices are stale once such a row is written.
        if any(isinstance(obj, _READ_FROM) for obj in chain(session.new, session.dirty,
                                                            session.deleted)):
            forget_notice_reads(session)
        # Every new event has its id now and every index row it refers to is in the
        # database; the notices are written at once, in the same flush (see _write).
        events = [obj for obj in session.new if isinstance(obj, AuditEvent)]
        if events:
            # Work items this flush inserted (tasks just made ready), found without a read.
            self.derive_written(session, events, {(obj.instance_id, obj.task_id): obj
                                                  for obj in session.new if isinstance(obj, WorkItem)})


# -- reads kept for one transaction ------------------------------------------------------
# A timer sweep fires many children in one transaction, and each alert goes to the same
# few role holders: while deriving notices (after a flush, when every change made so far
# is in the database) who holds a role in a team, an actor's name and a user's mail
# choice are read once per transaction, not once per notice. Writing those rows in the
# transaction (a flush, or an INSERT/UPDATE/DELETE through the session) drops what was kept.
_READ_FROM = (UserAccount, NotificationPreference)
_READ_TABLES = frozenset(m.__table__ for m in _READ_FROM)


def _forget_reads_on_dml(state) -> None:
    if (state.is_update or state.is_delete or state.is_insert) \
            and getattr(state.statement, "table", None) in _READ_TABLES:
        forget_notice_reads(state.session)


def _write(session: Session, notices: list[tuple[dict, dict | None]]) -> None:
    """Write the notices (and their mail) of a flush from inside it, all in one statement:
    as objects they would wait for another flush, which would cost a timer sweep a second
    unit of work and put a failure to write them on whatever flushed next."""
    if not notices:
        return
    connection = session.connection()
    ids = connection.execute(_INSERT_NOTES, [note for note, _mail in notices]).scalars().all()
    mails = [{**mail, "notification_id": note_id}
             for note_id, (_note, mail) in zip(ids, notices) if mail is not None]
    if mails:
        connection.execute(_INSERT_MAIL, mails)


# -- derivation -------------------------------------------------------------------------
class _Derivation:
    """One call's derivation: the session, the policy, the work items the flush inserted,
    and the session's memo (reads kept, timers fired)."""

    def __init__(self, session: Session, policy: NotificationPolicy, inserted: dict, remembered):
        self.session, self.policy, self.inserted, self.memo = session, policy, inserted, remembered

    def kept(self, key: tuple, read: Callable):
        reads = self.memo.notice_reads
        if key not in reads:
            reads[key] = read()
        return reads[key]

    def notices(self, event: AuditEvent) -> list[tuple[dict, dict | None]]:
        """The notices ``event`` calls for, each with its mail (or None), as rows to write."""
        policy, session = self.policy, self.session
        timers_fired = self.memo.timers_fired
        if event.event_type == policy.timer_event and event.instance_id is not None:
            timers_fired.add(event.instance_id)
        data = event.data or {}
        rules = [r for r in policy.rules if r.event == event.event_type
                 and (r.level is None or data.get("level") == r.level)
                 and (not r.after_timer or event.instance_id in timers_fired)]
        if not rules:
            return []
        item = self.work_item(event)
        subject = session.get(Subject, event.subject_id) if event.subject_id is not None else None
        mail = policy.mail_settings()
        created, seen = [], set()
        for rule in rules:
            for user in self.audience(rule, event, item, subject):
                if user.id in seen or not user.active or user.username == event.actor:
                    continue
                seen.add(user.id)
                created.append(self.notify(mail, rule.kind, event, item, subject, user))
        return created

    def work_item(self, event: AuditEvent) -> WorkItem | None:
        if event.instance_id is None or event.task_id is None:
            return None
        if (event.instance_id, event.task_id) in self.inserted:
            return self.inserted[(event.instance_id, event.task_id)]
        return self.session.scalars(select(WorkItem).where(
            WorkItem.instance_id == event.instance_id, WorkItem.task_id == event.task_id)).first()

    def role_holders(self, role: str, team: str | None) -> list[UserAccount]:
        """Active users with ``role`` whose team is ``team`` or who have none (service-wide)."""
        if not role:
            return []
        query, params = (_ACTIVE_USERS, {}) if team is None else (_ACTIVE_USERS_OF_TEAM, {"team": team})
        return list(self.kept(("holders", role, team), lambda: [
            u for u in self.session.scalars(query, params) if role in (u.roles or [])]))

    def audience(self, rule: Rule, event: AuditEvent, item: WorkItem | None,
                 subject: Subject | None) -> list[UserAccount]:
        session = self.session
        data = event.data or {}
        if rule.audience in ("assignee", "assignee_or_queue") and item is not None and item.assignee_id:
            user = session.get(UserAccount, item.assignee_id)
            return [user] if user else []
        if rule.audience in ("queue", "assignee_or_queue"):
            return self.role_holders(item.role, item.team) if item is not None else []
        if rule.audience == "previous_assignee":
            previous = data.get("from", data.get("previous_assignee"))
            user = session.get(UserAccount, previous) if isinstance(previous, int) else None
            return [user] if user else []
        if rule.audience == "escalation_role":
            team = data.get("team") or (item.team if item is not None else None)
            return self.role_holders(data.get("to_role", ""), team)
        if rule.audience == "subject_workers" and subject is not None:
            ids = set(session.scalars(select(WorkItem.assignee_id).where(
                WorkItem.subject_id == subject.id, WorkItem.status.in_(OPEN),
                WorkItem.assignee_id.is_not(None))))
            if subject.allocated_worker_id:
                ids.add(subject.allocated_worker_id)
            return [u for u in (session.get(UserAccount, i) for i in sorted(ids)) if u]
        return []

    def fields(self, event: AuditEvent, item: WorkItem | None, subject: Subject | None) -> dict:
        """Values for the wording. Only the subject's *reference* ever appears, never a name."""
        session, policy = self.session, self.policy
        data = event.data or {}
        today = clock.today()
        due = item.due_date if item is not None else None
        actor = self.kept(("actor", event.actor), lambda: session.scalar(
            _DISPLAY_NAME, {"username": event.actor}))
        values = {
            "task": item.title if item is not None else data.get("title") or data.get("task", ""),
            "reference": subject.reference if subject is not None else "",
            "due": format_day(due),
            "days_overdue": (today - due).days if due else "",
            "days_left": (due - today).days if due else "",
            "due_in": due_in(due, today),
            "role": policy.role_label(item.role) if item is not None else "",
            "to_role": policy.role_label(data.get("to_role", "")),
            "level": data.get("level", ""),
            "actor": actor or event.actor,
            "from_version": data.get("from_version", ""),
            "to_version": data.get("to_version", ""),
            "process": "",
            # Typed by a person (a reassignment's reason): shown in the app; mail, which
            # names children by reference only, says where to read it instead.
            "reason": data.get("reason") or "",
            "reason_note": f" Reason: {data['reason']}" if data.get("reason") else "",
        }
        if event.instance_id is not None and event.event_type == "instance_migrated":
            instance = session.get(ProcessInstance, event.instance_id)
            values["process"] = instance.model.name if instance is not None else ""
        return values

    def mode(self, user_id: int, kind: str) -> str:
        chosen = self.kept(("mode", user_id, kind), lambda: chosen_mode(self.session, user_id, kind))
        return chosen or self.policy.mode_default(kind)

    def notify(self, mail: MailSettings, kind: str, event: AuditEvent, item: WorkItem | None,
               subject: Subject | None, user: UserAccount) -> tuple[dict, dict | None]:
        policy = self.policy
        fields = self.fields(event, item, subject)
        title, body = policy.text(kind, fields)
        key = f"{event.chain}#{event.chain_seq}:{user.id}"
        link = link_for(policy, item, event.subject_id)
        note = {"user_id": user.id, "kind": kind, "title": title[:300], "body": body, "link": link,
                "subject_id": event.subject_id, "work_item_id": item.id if item is not None else None,
                "event_id": event.id, "created_at": clock.now(), "read_at": None, "dedupe_key": key}
        if not (mail.enabled and user.email and self.mode(user.id, kind) == "immediate"):
            return note, None
        context = {**policy.mail_context(), "user": user.display_name, "title": title,
                   "body": body, "kind": kind,
                   "url": mail.url(link) if link else mail.url("/"),
                   "notifications_url": mail.url("/notifications"),
                   "preferences_url": mail.url("/notifications/preferences"), **fields}
        if fields["reason_note"]:
            mailed = {**fields, "reason": "", "reason_note": policy.mail_reason_note}
            title, body = policy.text(kind, mailed)
            context.update(mailed, title=title, body=body)
        text, html = policy.render_mail("notice", kind, context)
        return note, {"message_id": mail.message_id(kind), "dedupe_key": key, "user_id": user.id,
                      "to_address": user.email, "subject": f"[{policy.service_name}] {title}"[:300],
                      "text_body": text, "html_body": html, "kind": kind, "status": "pending",
                      "created_at": clock.now(), "attempts": 0, "next_attempt_at": clock.now(),
                      "sent_at": None, "last_error": None}


# Reads and writes of every notice, built once (see audit.chain_lock).
_ACTIVE_USERS = select(UserAccount).where(UserAccount.active.is_(True)).order_by(UserAccount.id)
_ACTIVE_USERS_OF_TEAM = _ACTIVE_USERS.where(or_(UserAccount.team == bindparam("team"),
                                                UserAccount.team.is_(None)))
_DISPLAY_NAME = select(UserAccount.display_name).where(UserAccount.username == bindparam("username"))
# In the order given, so notices keep the order of their events.
_INSERT_NOTES = insert(Notification.__table__).returning(Notification.__table__.c.id,
                                                         sort_by_parameter_order=True)
_INSERT_MAIL = insert(OutboxMessage.__table__)
