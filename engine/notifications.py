"""Who hears about an event, and how: in-app notifications and e-mail outbox rows.

Notifications are *derived from audit events* by a session listener, so they are written
in the same transaction as the change that caused them: a rolled-back claim or escalation
leaves no notice behind, and a committed one always has its notice (and, when the user
wants mail now, its outbox row). Nothing here calls SMTP; ``engine.outbox`` sends later.

What is derived is data (``Rule``: event type → kind → audience) supplied by the domain in
``EngineConfig.notifications``; role names come from the events themselves (a work item's
lane, an escalation's ``to_role``), so the engine names no domain role. Wording is the
domain's too (``NotificationPolicy.texts`` and its mail template folders); the defaults
below are neutral.

Recipients of a role are the active users holding it whose team is the work item's team,
or who have no team (service-wide). The actor of an event is never notified of it.
One policy per process: the runtime installs the domain's with ``install``.
"""
from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import event as sa_event
from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, sessionmaker

from . import clock
from .db import unit_of_work
from .models import (AuditEvent, Notification, NotificationPreference, OutboxMessage,
                     ProcessInstance, Subject, UserAccount, WorkItem)
from .outbox import MailSettings

log = logging.getLogger(__name__)

MODES = ("immediate", "digest", "none")
DIGEST = "digest"  # the kind under which a user turns the daily digest on or off
OPEN = ("ready", "claimed")
ENGINE_TEMPLATES = Path(__file__).resolve().parent / "templates" / "mail"

# Audiences a rule may name.
AUDIENCES = frozenset({
    "assignee",            # whoever holds the work item now
    "previous_assignee",   # who held it before a reassignment or release (data from/previous_assignee)
    "queue",               # holders of the work item's role in its team (or service-wide)
    "assignee_or_queue",   # the holder, else the queue
    "escalation_role",     # holders of data["to_role"] in the item's team (or service-wide)
    "subject_workers",     # holders of open work on the subject, and its allocated worker
})


@dataclass(frozen=True)
class Rule:
    """Notify ``audience`` with a notice of ``kind`` when an audit event of ``event`` is written."""
    event: str
    kind: str
    audience: str
    level: int | None = None    # escalation events: only this level
    after_timer: bool = False   # only when a timer fired earlier in the same transaction

    def __post_init__(self):
        if self.audience not in AUDIENCES:
            raise ValueError(f"unknown audience {self.audience!r}; known: {sorted(AUDIENCES)}")


@dataclass(frozen=True)
class Kind:
    label: str
    mode: str = "immediate"           # default e-mail mode for users without a preference
    hint: str = ""
    choices: tuple[str, ...] = MODES


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("task_reassigned", "assigned", "assignee"),
    Rule("task_reassigned", "unassigned", "previous_assignee"),
    Rule("task_released", "unassigned", "previous_assignee"),
    Rule("reminder_sent", "reminder", "assignee_or_queue"),
    Rule("escalated", "escalation", "escalation_role"),
    Rule("escalated", "overdue", "assignee_or_queue", level=1),
    Rule("task_ready", "alert", "queue", after_timer=True),
    Rule("instance_migrated", "migrated", "subject_workers"),
)

DEFAULT_KINDS: Mapping[str, Kind] = MappingProxyType({
    "assigned": Kind("A task is assigned to you"),
    "unassigned": Kind("A task you held is moved to someone else"),
    "reminder": Kind("Reminder before a task is due"),
    "overdue": Kind("A task is overdue", mode="digest"),
    "escalation": Kind("An overdue task is escalated to you"),
    "alert": Kind("A scheduled date brings a task to your queue"),
    "migrated": Kind("A process you work on moves to a new version", mode="digest"),
    DIGEST: Kind("Daily summary of tasks due this week and overdue", mode="digest",
                 choices=("digest", "none")),
})

# (title, body) per kind; str.format fields: task, reference, due, days_overdue, days_left,
# role, to_role, level, actor, process, from_version, to_version.
DEFAULT_TEXTS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "assigned": ("Task assigned to you: {task} ({reference})",
                 "{actor} assigned you “{task}” for {reference}. It is due {due}."),
    "unassigned": ("Task moved away from you: {task} ({reference})",
                   "{actor} moved “{task}” for {reference} away from you."),
    "reminder": ("Reminder: {task} ({reference}) is due {due}",
                 "“{task}” for {reference} is due {due}."),
    "overdue": ("Overdue: {task} ({reference}) was due {due}",
                "“{task}” for {reference} was due {due} and is now escalated to the {to_role}."),
    "escalation": ("Escalated to you: {task} ({reference}) is {days_overdue} days overdue",
                   "“{task}” for {reference} was due {due}. It is escalated to you as {to_role} "
                   "(escalation level {level})."),
    "alert": ("Scheduled: {task} ({reference}) is due {due}",
              "A scheduled date has passed: “{task}” for {reference} is in your queue, due {due}."),
    "migrated": ("Process updated for {reference}",
                 "The {process} for {reference} moved from version {from_version} to "
                 "{to_version}; due dates of open tasks were recomputed."),
})


def _label(code: str) -> str:
    return (code or "").replace("_", " ")


@dataclass
class NotificationPolicy:
    """What a domain says about notifications; every field has a neutral default."""
    rules: tuple[Rule, ...] = DEFAULT_RULES
    kinds: Mapping[str, Kind] = field(default_factory=lambda: DEFAULT_KINDS)
    texts: Mapping[str, tuple[str, str]] = field(default_factory=lambda: DEFAULT_TEXTS)
    role_label: Callable[[str], str] = field(default=_label)
    service_name: str = "Workflow service"
    reference_label: str = "Reference"      # how mail headings introduce a subject's reference
    mail_footer: str = ""
    task_link: str = "/tasks/{id}"
    subject_link: str = "/subjects/{id}"
    template_dirs: tuple[Path, ...] = ()     # searched before the engine's own mail templates
    timer_event: str = "timer_fired"
    digest_hour: int = 6                     # first sweep at or after this hour (UTC) queues digests
    digest_days: int = 7                     # "due this week": due within this many days
    mail_settings: Callable[[], MailSettings] = field(default=MailSettings.from_env)
    enabled: bool = True
    _env: Environment | None = field(default=None, init=False, repr=False, compare=False)

    def mode_default(self, kind: str) -> str:
        found = self.kinds.get(kind)
        return found.mode if found else "none"

    def text(self, kind: str, fields: Mapping) -> tuple[str, str]:
        title, body = self.texts.get(kind, ("{task} ({reference})", ""))
        values = _Blank(fields)
        return title.format_map(values), body.format_map(values)

    @property
    def mail(self) -> Environment:
        if self._env is None:
            loaders = [FileSystemLoader(str(d)) for d in self.template_dirs]
            loaders.append(FileSystemLoader(str(ENGINE_TEMPLATES)))
            self._env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                                    autoescape=select_autoescape(["html"]), trim_blocks=True,
                                    lstrip_blocks=True, keep_trailing_newline=True)
        return self._env

    def mail_context(self) -> dict:
        return {"service_name": self.service_name, "reference_label": self.reference_label,
                "footer": self.mail_footer}

    def render_mail(self, name: str, kind: str, context: Mapping) -> tuple[str, str]:
        """(plain text, HTML) of mail template ``name`` (a kind-specific one when present)."""
        env = self.mail
        text = env.select_template([f"{name}_{kind}.txt", f"{name}.txt"]).render(context)
        html = env.select_template([f"{name}_{kind}.html", f"{name}.html"]).render(context)
        return text, html


class _Blank(dict):
    def __missing__(self, key):
        return ""


def format_day(day: date | None) -> str:
    return f"{day.day} {day:%b %Y}" if day else "no date"


def due_in(due: date | None, today: date) -> str:
    if due is None:
        return "no due date"
    days = (due - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


# -- installation -----------------------------------------------------------------------
_policy: NotificationPolicy | None = None
_installed = False
POLICY_KEY = "notification_policy"     # session.info override (None switches derivation off)
_TIMERS_KEY = "notification_timer_instances"


def install(policy: NotificationPolicy | None) -> None:
    """Make ``policy`` the process's policy and listen to every ORM session (idempotent)."""
    global _policy, _installed
    _policy = policy
    if not _installed:
        sa_event.listen(Session, "after_flush", _after_flush)
        sa_event.listen(Session, "after_commit", _forget_timers)
        sa_event.listen(Session, "after_rollback", _forget_timers)
        sa_event.listen(Session, "after_transaction_end", _forget_reads_at_end)
        sa_event.listen(Session, "after_soft_rollback", _forget_reads)
        sa_event.listen(Session, "do_orm_execute", _forget_reads_on_dml)
        for mapped in _READ_FROM:
            for name in ("after_insert", "after_update", "after_delete"):
                sa_event.listen(mapped, name, _forget_reads_of_row)
        _installed = True


def current_policy(session: Session | None = None) -> NotificationPolicy | None:
    if session is not None and POLICY_KEY in session.info:
        return session.info[POLICY_KEY]
    return _policy


def _forget_timers(session: Session) -> None:
    session.info.pop(_TIMERS_KEY, None)


# -- reads kept for one transaction ------------------------------------------------------
# A timer sweep fires many children in one transaction, and each alert goes to the same
# few role holders: while deriving notices (after a flush, when every change made so far
# is in the database) who holds a role in a team, an actor's name and a user's mail
# choice are read once per transaction, not once per notice. Writing those rows in the
# transaction (a flush, or an INSERT/UPDATE/DELETE through the session) drops what was kept.
_READS_KEY = "notification_reads"
_DERIVING = "notification_deriving"
_READ_FROM = (UserAccount, NotificationPreference)
_READ_TABLES = frozenset(m.__table__ for m in _READ_FROM)


def _kept(session: Session, key: tuple, read: Callable):
    if _DERIVING not in session.info:
        return read()  # a change not flushed yet would not be in a kept read
    reads = session.info.setdefault(_READS_KEY, {})
    if key not in reads:
        reads[key] = read()
    return reads[key]


def _forget_reads(session: Session, *_args) -> None:
    session.info.pop(_READS_KEY, None)


def _forget_reads_at_end(session: Session, transaction) -> None:
    # The transaction's end, or a savepoint's (its rollback may take back a user's
    # change); not the inner transaction every flush opens and closes.
    if transaction.parent is None or transaction.nested:
        _forget_reads(session)


def _forget_reads_of_row(_mapper, _connection, target) -> None:
    session = object_session(target)
    if session is not None:
        _forget_reads(session)


def _forget_reads_on_dml(state) -> None:
    if (state.is_update or state.is_delete or state.is_insert) \
            and getattr(state.statement, "table", None) in _READ_TABLES:
        _forget_reads(state.session)


def _after_flush(session: Session, _context) -> None:
    # After the flush every new event has its id and every index row it refers to is in the
    # database; the notices are written at once, in the same flush (see _write).
    events = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if events:
        # Work items this flush inserted (tasks just made ready), found without a read.
        derive_written(session, events, {(obj.instance_id, obj.task_id): obj
                                         for obj in session.new if isinstance(obj, WorkItem)})


def derive_written(session: Session, events: list[AuditEvent], inserted: dict) -> None:
    """Write the notices of ``events``, just written with the work items ``inserted``
    ((instance id, task id) -> item), every other change of the transaction already in
    the database: from ``_after_flush``, or from the save path's own flush
    (engine/writer.py), whose rows the ORM's flush events never see."""
    policy = current_policy(session)
    if policy is None or not policy.enabled:
        return
    session.info[_DERIVING] = inserted
    try:
        notices = [notice for audit_event in sorted(events, key=lambda e: e.id)
                   for notice in derive(session, policy, audit_event)]
    finally:
        del session.info[_DERIVING]
    _write(session, notices)


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
def derive(session: Session, policy: NotificationPolicy,
           event: AuditEvent) -> list[tuple[dict, dict | None]]:
    """The notices ``event`` calls for, each with its mail (or None), as rows to write."""
    if event.event_type == policy.timer_event and event.instance_id is not None:
        session.info.setdefault(_TIMERS_KEY, set()).add(event.instance_id)
    data = event.data or {}
    timers_fired = session.info.get(_TIMERS_KEY, ())
    rules = [r for r in policy.rules if r.event == event.event_type
             and (r.level is None or data.get("level") == r.level)
             and (not r.after_timer or event.instance_id in timers_fired)]
    if not rules:
        return []
    item = _work_item(session, event)
    subject = session.get(Subject, event.subject_id) if event.subject_id is not None else None
    mail = policy.mail_settings()
    created, seen = [], set()
    for rule in rules:
        for user in audience(session, rule, event, item, subject):
            if user.id in seen or not user.active or user.username == event.actor:
                continue
            seen.add(user.id)
            created.append(_notify(session, policy, mail, rule.kind, event, item, subject, user))
    return created


def _work_item(session: Session, event: AuditEvent) -> WorkItem | None:
    if event.instance_id is None or event.task_id is None:
        return None
    inserted = session.info.get(_DERIVING) or {}
    if (event.instance_id, event.task_id) in inserted:
        return inserted[(event.instance_id, event.task_id)]
    return session.scalars(select(WorkItem).where(WorkItem.instance_id == event.instance_id,
                                                  WorkItem.task_id == event.task_id)).first()


def role_holders(session: Session, role: str, team: str | None) -> list[UserAccount]:
    """Active users with ``role`` whose team is ``team`` or who have none (service-wide)."""
    if not role:
        return []
    query, params = (_ACTIVE_USERS, {}) if team is None else (_ACTIVE_USERS_OF_TEAM, {"team": team})
    return list(_kept(session, ("holders", role, team), lambda: [
        u for u in session.scalars(query, params) if role in (u.roles or [])]))


# Reads of every notice, built once (see audit.chain_lock).
_ACTIVE_USERS = select(UserAccount).where(UserAccount.active.is_(True)).order_by(UserAccount.id)
_ACTIVE_USERS_OF_TEAM = _ACTIVE_USERS.where(or_(UserAccount.team == bindparam("team"),
                                                UserAccount.team.is_(None)))
_DISPLAY_NAME = select(UserAccount.display_name).where(UserAccount.username == bindparam("username"))
_MODE = select(NotificationPreference.mode).where(NotificationPreference.user_id == bindparam("user"),
                                                  NotificationPreference.kind == bindparam("kind"))


def audience(session: Session, rule: Rule, event: AuditEvent, item: WorkItem | None,
             subject: Subject | None) -> list[UserAccount]:
    data = event.data or {}
    if rule.audience in ("assignee", "assignee_or_queue") and item is not None and item.assignee_id:
        user = session.get(UserAccount, item.assignee_id)
        return [user] if user else []
    if rule.audience in ("queue", "assignee_or_queue"):
        return role_holders(session, item.role, item.team) if item is not None else []
    if rule.audience == "previous_assignee":
        previous = data.get("from", data.get("previous_assignee"))
        user = session.get(UserAccount, previous) if isinstance(previous, int) else None
        return [user] if user else []
    if rule.audience == "escalation_role":
        team = data.get("team") or (item.team if item is not None else None)
        return role_holders(session, data.get("to_role", ""), team)
    if rule.audience == "subject_workers" and subject is not None:
        ids = set(session.scalars(select(WorkItem.assignee_id).where(
            WorkItem.subject_id == subject.id, WorkItem.status.in_(OPEN),
            WorkItem.assignee_id.is_not(None))))
        if subject.allocated_worker_id:
            ids.add(subject.allocated_worker_id)
        return [u for u in (session.get(UserAccount, i) for i in sorted(ids)) if u]
    return []


def _fields(session: Session, policy: NotificationPolicy, event: AuditEvent,
            item: WorkItem | None, subject: Subject | None) -> dict:
    """Values for the wording. Only the subject's *reference* ever appears, never a name."""
    data = event.data or {}
    today = clock.today()
    due = item.due_date if item is not None else None
    actor = _kept(session, ("actor", event.actor), lambda: session.scalar(
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
    }
    if event.instance_id is not None and event.event_type == "instance_migrated":
        instance = session.get(ProcessInstance, event.instance_id)
        values["process"] = instance.model.name if instance is not None else ""
    return values


def link_for(policy: NotificationPolicy, item: WorkItem | None, subject_id: int | None) -> str | None:
    if item is not None:
        return policy.task_link.format(id=item.id)
    if subject_id is not None:
        return policy.subject_link.format(id=subject_id)
    return None


def mode_for(session: Session, policy: NotificationPolicy, user_id: int, kind: str) -> str:
    chosen = _kept(session, ("mode", user_id, kind), lambda: session.scalar(
        _MODE, {"user": user_id, "kind": kind}))
    return chosen or policy.mode_default(kind)


def _notify(session: Session, policy: NotificationPolicy, mail: MailSettings, kind: str,
            event: AuditEvent, item: WorkItem | None, subject: Subject | None,
            user: UserAccount) -> tuple[dict, dict | None]:
    fields = _fields(session, policy, event, item, subject)
    title, body = policy.text(kind, fields)
    key = f"{event.chain}#{event.chain_seq}:{user.id}"
    link = link_for(policy, item, event.subject_id)
    note = {"user_id": user.id, "kind": kind, "title": title[:300], "body": body, "link": link,
            "subject_id": event.subject_id, "work_item_id": item.id if item is not None else None,
            "event_id": event.id, "created_at": clock.now(), "read_at": None, "dedupe_key": key}
    if not (mail.enabled and user.email and mode_for(session, policy, user.id, kind) == "immediate"):
        return note, None
    context = {**policy.mail_context(), "user": user.display_name, "title": title,
               "body": body, "kind": kind,
               "url": mail.url(link) if link else mail.url("/"),
               "notifications_url": mail.url("/notifications"),
               "preferences_url": mail.url("/notifications/preferences"), **fields}
    text, html = policy.render_mail("notice", kind, context)
    return note, {"message_id": mail.message_id(kind), "dedupe_key": key, "user_id": user.id,
                  "to_address": user.email, "subject": f"[{policy.service_name}] {title}"[:300],
                  "text_body": text, "html_body": html, "kind": kind, "status": "pending",
                  "created_at": clock.now(), "attempts": 0, "next_attempt_at": clock.now(),
                  "sent_at": None, "last_error": None}


# In the order given, so notices keep the order of their events.
_INSERT_NOTES = insert(Notification.__table__).returning(Notification.__table__.c.id,
                                                         sort_by_parameter_order=True)
_INSERT_MAIL = insert(OutboxMessage.__table__)


# -- reading and marking (for the web layer) --------------------------------------------
def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def for_user(session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50,
             offset: int = 0) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                                .limit(limit).offset(offset)))


def mark_read(session: Session, user_id: int, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications (these ids, or all) read; returns how many changed."""
    query = select(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    rows = session.scalars(query).all()
    for row in rows:
        row.read_at = clock.now()
    return len(rows)


def preferences(session: Session, policy: NotificationPolicy, user_id: int) -> dict[str, str]:
    chosen = dict(session.execute(select(NotificationPreference.kind, NotificationPreference.mode)
                                  .where(NotificationPreference.user_id == user_id)).all())
    return {kind: chosen.get(kind, info.mode) for kind, info in policy.kinds.items()}


def set_preference(session: Session, policy: NotificationPolicy, user_id: int, kind: str,
                   mode: str) -> None:
    info = policy.kinds.get(kind)
    if info is None or mode not in info.choices:
        raise ValueError(f"{mode!r} is not a choice for {kind!r}")
    row = session.scalar(select(NotificationPreference).where(
        NotificationPreference.user_id == user_id, NotificationPreference.kind == kind))
    if row is None:
        session.add(NotificationPreference(user_id=user_id, kind=kind, mode=mode))
    else:
        row.mode = mode


# -- daily digest -----------------------------------------------------------------------
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


def _responsible(user: UserAccount, item: WorkItem, escalation_roles,
                 session: Session | None = None) -> str | None:
    """Why ``item`` belongs in ``user``'s digest, or None. ``escalation_roles`` is one chain,
    or a function from process id to chain (see engine/escalation.EscalationChains)."""
    in_team = user.team is None or user.team == item.team
    if item.assignee_id == user.id:
        return "assigned to you"
    roles = set(user.roles or ())
    if item.assignee_id is None and item.role in roles and in_team:
        return "in your queue"
    level = item.escalation_level or 0
    if level and in_team:
        from .escalation import EscalationChains
        if roles & set(EscalationChains(session, escalation_roles).of(item)[:level]):
            return "escalated to you"
    return None


def digest_groups(session: Session, policy: NotificationPolicy, user: UserAccount, today: date,
                  escalation_roles: tuple[str, ...], mail: MailSettings,
                  items: list[WorkItem] | None = None) -> list[DigestGroup]:
    """The user's digest: open tasks overdue or due within ``digest_days`` that are theirs
    (held, in their queue, or escalated to them) and unread digest-mode notices of the
    last day, grouped by subject reference."""
    if items is None:
        items = _digest_items(session, policy, today)
    groups: dict[int, DigestGroup] = {}

    def group(subject_id: int) -> DigestGroup:
        if subject_id not in groups:
            reference = session.scalar(select(Subject.reference).where(Subject.id == subject_id))
            groups[subject_id] = DigestGroup(reference or "", mail.url(
                policy.subject_link.format(id=subject_id)))
        return groups[subject_id]

    for item in items:
        why = _responsible(user, item, escalation_roles, session)
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
        for key, user in wanted.items():
            if key in done or mode_for(session, policy, user.id, DIGEST) == "none":
                continue
            groups = digest_groups(session, policy, user, today, escalation_roles, mail, items)
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
