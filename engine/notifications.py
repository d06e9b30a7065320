"""Notifications as a domain configures them and a user reads them.

``NotificationPolicy`` is what the domain says, supplied in ``EngineConfig.notifications``:
which audit events notify whom (``Rule``: event type → kind → audience), each kind's label
and default e-mail mode (``Kind``), the wording and the mail templates. Role names come
from the events themselves (a work item's lane, an escalation's ``to_role``), so the engine
names no domain role; the defaults below are neutral. The rest of the module is what the
web layer reads and writes: a user's notices (count, list, mark read) and mail choices.

How notices come about: engine/notice_derivation.py derives them from audit events, in
the transaction that wrote the events. The daily digest is engine/digests.py's; sending,
engine/outbox.py's.

Recipients of a role are the active users holding it whose team is the work item's team,
or who have no team (service-wide). The actor of an event is never notified of it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from . import clock
from .models import OPEN, Notification, NotificationPreference, WorkItem
from .outbox import MailSettings

MODES = ("immediate", "digest", "none")
DIGEST = "digest"  # the kind under which a user turns the daily digest on or off
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
# role, to_role, level, actor, process, from_version, to_version, reason and reason_note
# (" Reason: …" when the event carries a typed reason, else empty).
DEFAULT_TEXTS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "assigned": ("Task assigned to you: {task} ({reference})",
                 "{actor} assigned you “{task}” for {reference}. It is due {due}.{reason_note}"),
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
    # In mail, instead of a reason typed by a person (which may name someone): where to read it.
    mail_reason_note: str = " Sign in to read the reason."
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


def link_for(policy: NotificationPolicy, item: WorkItem | None, subject_id: int | None) -> str | None:
    if item is not None:
        return policy.task_link.format(id=item.id)
    if subject_id is not None:
        return policy.subject_link.format(id=subject_id)
    return None


# -- a user's notices and mail choices (for the web layer) --------------------------------
# A notice about a task that is no longer open (completed, withdrawn) asks nothing more of
# anyone: it is done, neither counted nor listed as new, however long ago it came.
STILL_CURRENT = or_(Notification.work_item_id.is_(None), exists().where(
    WorkItem.id == Notification.work_item_id, WorkItem.status.in_(OPEN)))


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None), STILL_CURRENT)) or 0


def finished_tasks(session: Session, notes: Iterable[Notification]) -> set[int]:
    """The ids of the tasks these notices are about that are no longer open."""
    ids = {n.work_item_id for n in notes if n.work_item_id is not None}
    if not ids:
        return set()
    still_open = set(session.scalars(select(WorkItem.id).where(
        WorkItem.id.in_(ids), WorkItem.status.in_(OPEN))))
    return ids - still_open


def for_user(session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50,
             offset: int = 0) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None), STILL_CURRENT)
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


def chosen_mode(session: Session, user_id: int, kind: str) -> str | None:
    """The e-mail mode the user chose for ``kind``, or None when they chose none."""
    return session.scalar(_MODE, {"user": user_id, "kind": kind})


def mode_for(session: Session, policy: NotificationPolicy, user_id: int, kind: str) -> str:
    """The user's e-mail mode for ``kind``: their choice, else the kind's default."""
    return chosen_mode(session, user_id, kind) or policy.mode_default(kind)


# Built once (see audit.chain_lock).
_MODE = select(NotificationPreference.mode).where(NotificationPreference.user_id == bindparam("user"),
                                                  NotificationPreference.kind == bindparam("kind"))
