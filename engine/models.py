"""Tables of the runtime (SQLAlchemy 2).

The serialized workflow is the truth for one instance; ``work_item``, ``timer`` and
``milestone`` are indexes derived from it in the same transaction, so queues, dashboards
and measures can be read without deserializing any workflow.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index,
                        Integer, String, Text, UniqueConstraint, event, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from . import clock


class Base(DeclarativeBase):
    pass


def _now() -> datetime:
    return clock.now()


def only_on(dialect: str, index: Index) -> Index:
    """``index`` exists on one kind of database only (its migration creates it there alone).

    ``ddl_if`` makes ``create_all`` agree. Alembic's autogenerate does not read ``ddl_if``,
    so the dialect is also kept in ``index.info["dialects"]`` for the ``include_object``
    hook the schema check runs with (``workflows/schema.py``).
    """
    index.info["dialects"] = (dialect,)
    return index.ddl_if(dialect=dialect)


class Team(Base):
    __tablename__ = "team"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # A closed team keeps its row (children's history names it) but takes no new children
    # or people; None while the team is open.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserAccount(Base):
    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject",
                                       name="uq_user_account_oidc_identity"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    # None: no local password, so the person cannot sign in with one (they use the
    # council's sign-in, or are a service user with API tokens only).
    password_hash: Mapped[str | None] = mapped_column(String(300))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    team: Mapped[str | None] = mapped_column(ForeignKey("team.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # Random, in every session cookie of this user; replaced (ending every session at once)
    # whenever the password changes or the account is deactivated, by the listeners below.
    # The cookie carries nothing derived from the password hash.
    session_epoch: Mapped[str] = mapped_column(String(32), default=lambda: new_session_epoch())
    # Who the person is at an OpenID Connect provider: its issuer and their subject there,
    # which never change (e-mail addresses and names do). Set at their first sign-in
    # through the provider; None for a person who has not signed in that way.
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))

    def has_role(self, role: str) -> bool:
        return role in (self.roles or [])


def new_session_epoch() -> str:
    return secrets.token_hex(16)


@event.listens_for(UserAccount.password_hash, "set")
def _password_changed(account: UserAccount, value, old, _initiator) -> None:
    if value != old:
        account.session_epoch = new_session_epoch()


@event.listens_for(UserAccount.active, "set")
def _deactivated(account: UserAccount, value, old, _initiator) -> None:
    if not value and old is not False:
        account.session_epoch = new_session_epoch()


class ProcessModel(Base):
    """An immutable deployed version of one process diagram and its forms."""
    __tablename__ = "process_model"
    __table_args__ = (UniqueConstraint("process_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict] = mapped_column(JSON)
    # The Word templates its tasks name (``document`` property), base64 by file name; empty
    # for versions without any (migration 0017). Deferred: only a task that names one, the
    # draft copied from it and its download read them, not every completion.
    documents: Mapped[dict | None] = mapped_column(JSON, default=dict, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    deployed_by: Mapped[str] = mapped_column(String(80))
    deployed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    reason: Mapped[str] = mapped_column(Text, default="")
    pdsa_cycle_id: Mapped[int | None] = mapped_column(Integer)


class Subject(Base):
    """The person a set of process instances is about (a child, in PACE)."""
    __tablename__ = "subject"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(ForeignKey("team.code"), index=True)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    allocated_worker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("process_model.id"))
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_event: Mapped[str | None] = mapped_column(String(100))
    parent_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))

    # For reading only: every writer sets subject_id and model_id itself, and a relationship
    # that writes would bring the subject and model tables into every flush of an instance
    # (the unit of work orders parents first, even when it has none to write).
    subject: Mapped[Subject] = relationship(lazy="joined", viewonly=True)
    model: Mapped[ProcessModel] = relationship(viewonly=True)

    # Optimistic locking: every UPDATE carries "WHERE version = <loaded>"; a concurrent
    # writer's update matches no row and SQLAlchemy raises StaleDataError.
    __mapper_args__ = {"version_id_col": version}


_OPEN = "status IN ('ready', 'claimed')"


# A work item's statuses while someone still has to act on it (the rest: completed, cancelled).
OPEN = ("ready", "claimed")


class WorkItem(Base):
    """A READY (or claimed) user task, as a queue row."""
    __tablename__ = "work_item"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id"),
        Index("ix_work_item_queue", "status", "role", "team", "due_date"),
        Index("ix_work_item_assignee", "assignee_id", "status"),
        Index("ix_work_item_remind", "status", "remind_date"),
        # Open tasks of a role by due date, for the service-wide queue (migration 0008);
        # engine/queues.py repeats the condition word for word, or SQLite would not use it.
        Index("ix_work_item_open_role_due", "role", "due_date", "id", "assignee_id",
              sqlite_where=text(_OPEN), postgresql_where=text(_OPEN)),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    team: Mapped[str] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(20), default="ready")  # ready|claimed|completed|cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    due_date: Mapped[date | None] = mapped_column(Date)
    remind_date: Mapped[date | None] = mapped_column(Date)
    escalate_dates: Mapped[list] = mapped_column(JSON, default=list)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_date: Mapped[date | None] = mapped_column(Date, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    draft: Mapped[dict | None] = mapped_column(JSON)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    completion_digest: Mapped[str | None] = mapped_column(String(64))

    subject: Mapped[Subject] = relationship(lazy="joined", viewonly=True)  # as ProcessInstance's


class Timer(Base):
    """Next fire time of one waiting timer event; the sweeper claims due rows."""
    __tablename__ = "timer"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),
                      Index("ix_timer_due", "fire_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    fire_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Milestone(Base):
    """One occurrence of a milestone for a subject: planned and actual dates."""
    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("instance_id", "code", "occurrence"),
                      Index("ix_milestone_code_actual", "code", "actual_date"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(60))
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    planned_date: Mapped[date | None] = mapped_column(Date)
    actual_date: Mapped[date | None] = mapped_column(Date)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class AuditChain(Base):
    """Head of one hash chain; updating it serialises appends to that chain."""
    __tablename__ = "audit_chain"
    chain: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """Append-only: the application never updates or deletes these rows."""
    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("chain", "chain_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain: Mapped[str] = mapped_column(String(60))
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_type: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# -- notifications (engine/notifications.py, engine/outbox.py) ---------------------------
class Notification(Base):
    """One in-app notice for one user, written in the transaction of the event behind it."""
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    work_item_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "<audit chain>#<seq>:<user>" (or a job's own key): deriving twice cannot notify twice.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)


class OutboxMessage(Base):
    """An e-mail to send; the sender claims due rows, sends, then marks them sent.

    ``message_id`` is the Message-ID header, random and stored: a resend after a crash
    between sending and marking carries the same id, so the receiving side can recognise
    the duplicate. ``dedupe_key`` says what the mail is, so it is never queued twice.
    """
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    # What this mail is ("digest:u3:2026-01-28", or the notification's key): never queued twice.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|sending|sent|failed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)

    notification: Mapped[Notification | None] = relationship()


class NotificationPreference(Base):
    """How one user wants one kind of notice by e-mail: immediate, digest or none."""
    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(20))


# -- API tokens (web/security/api_tokens.py) ------------------------------------------------------
class ApiToken(Base):
    """A personal API token. Only the sha256 of the token is stored: the token itself is
    shown once, when it is created. Revoking keeps the row (who, when) for the audit."""
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the token's first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(80))


# -- sign-in sessions (web/security/sessions.py) ------------------------------------------
class SignInSession(Base):
    """One signed-in browser session: the sha256 of the token in its cookie. The web app's
    user loader accepts a cookie only while its row exists; sign-out deletes the row."""
    __tablename__ = "sign_in_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # The ID token of a sign-in through an OpenID Connect provider, sent back to it at
    # sign-out (id_token_hint) so the provider ends its own session too.
    id_token: Mapped[str | None] = mapped_column(Text)


class SignInAttempt(Base):
    """A sign-in through an OpenID Connect provider under way: what the browser's return
    must match (state, nonce, PKCE verifier), kept on the server so each ``state`` is
    used once, whichever web worker the return reaches (web/security/oidc.py)."""
    __tablename__ = "sign_in_attempt"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# -- sign-in limits (web/security/sign_in_limits.py) ----------------------------------------------
class SignInLimit(Base):
    """Failed sign-ins counted for one client address (``kind`` "address", ``key`` the
    address or its IPv6 /64) or one account (``kind`` "account", ``key`` its id) in the
    current window, and the address's block. Shared by every web worker."""
    __tablename__ = "sign_in_limit"
    __table_args__ = (UniqueConstraint("kind", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)  # weighted, for an address
    unknown_names: Mapped[int] = mapped_column(Integer, default=0)  # failures naming no account
    refused: Mapped[int] = mapped_column(Integer, default=0)  # attempts refused while blocked
    window_started: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_ends: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    strikes: Mapped[int] = mapped_column(Integer, default=0)  # blocks in a row: each doubles


# -- worker heartbeat (engine/heartbeat.py) ----------------------------------------------
class WorkerHeartbeat(Base):
    """One row per running (or lately running) ``pace worker``: when it last finished a
    round, what the round did and how many errors it met."""
    __tablename__ = "worker_heartbeat"
    worker: Mapped[str] = mapped_column(String(120), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    interval_seconds: Mapped[float] = mapped_column(Float)
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    last_round: Mapped[dict] = mapped_column(JSON, default=dict)
    errors: Mapped[int] = mapped_column(Integer, default=0)  # in the last round
    errors_total: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
