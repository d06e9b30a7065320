"""Send queued e-mail (the ``outbox`` table) over SMTP: at least once, made idempotent.

Rows are written by ``engine.notice_derivation`` (and ``engine.digests``) in the transaction
of the event behind them, so no mail is lost when a process dies. The sender works in three
short steps, so no database transaction is held open while talking to the mail server:

1. *claim* due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's single writer
   serialises the same step): status ``sending``, one more attempt, and a lease — the row
   is not due again until the lease runs out;
2. *send* each one with ``smtplib``; the Message-ID header is the row's ``message_id``;
3. *mark* it ``sent`` — or, on failure, record ``last_error`` and retry after an
   exponential back-off, until ``max_attempts`` (or a permanent 5xx answer) makes it
   ``failed``, which stays visible to administrators.

A worker that dies between 2 and 3 leaves the row ``sending``; when the lease ends another
worker sends it again with the *same* Message-ID, so the receiving side sees one message.

Settings come from the environment (``PACE_SMTP_HOST``, ``_PORT``, ``_USER``,
``_PASSWORD``, ``_TLS`` = starttls | ssl | none, ``_FROM``; ``PACE_BASE_URL`` for links).
Without a host, mail is off: one log line says so and nothing is queued or sent.
"""
from __future__ import annotations

import email.policy
import logging
import os
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from . import clock
from .db import unit_of_work
from .plain_text import one_line
from .models import OutboxMessage

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class MailSettings:
    host: str | None = None
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: str = "starttls"  # starttls | ssl | none
    sender: str = "Workflow service <noreply@localhost>"
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, prefix: str = "PACE_") -> "MailSettings":
        """Settings from the environment; a setting that makes no sense turns mail off with
        an error in the log (never an exception: events must not fail over mail settings)."""
        env = os.environ if env is None else env
        tls = (env.get(f"{prefix}SMTP_TLS") or "").strip().lower()
        port_text = (env.get(f"{prefix}SMTP_PORT") or "").strip()
        if tls in ("", "auto"):
            tls = "ssl" if port_text == "465" else "starttls"
        tls = {"true": "starttls", "yes": "starttls", "1": "starttls", "tls": "starttls",
               "false": "none", "no": "none", "0": "none", "off": "none"}.get(tls, tls)
        host = (env.get(f"{prefix}SMTP_HOST") or "").strip() or None
        problem = None
        if tls not in ("starttls", "ssl", "none"):
            problem = f"{prefix}SMTP_TLS must be starttls, ssl or none, not {tls!r}"
        elif port_text and not port_text.isdigit():
            problem = f"{prefix}SMTP_PORT must be a number, not {port_text!r}"
        if problem and host:
            _say_once(f"E-mail is off: {problem}.", logging.ERROR)
            host, tls = None, "none"
        port = int(port_text) if port_text.isdigit() else {"ssl": 465, "none": 25}.get(tls, 587)
        return cls(host=host, port=port, user=env.get(f"{prefix}SMTP_USER") or None,
                   password=env.get(f"{prefix}SMTP_PASSWORD") or None, tls=tls,
                   sender=env.get(f"{prefix}SMTP_FROM") or cls.sender,
                   base_url=(env.get(f"{prefix}BASE_URL") or DEFAULT_BASE_URL).rstrip("/"))

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @property
    def domain(self) -> str:
        address = parseaddr(self.sender)[1]
        return address.rpartition("@")[2] or "localhost"

    def message_id(self, kind: str = "mail") -> str:
        """A new globally unique Message-ID; stored with the row, reused for any resend."""
        return f"<{uuid.uuid4().hex}.{kind}@{self.domain}>"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.tls}{', as ' + self.user if self.user else ''})"


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0       # attempts that failed this pass (retried later unless given up)
    given_up: int = 0     # rows that reached ``failed``
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Claimed:
    id: int
    message_id: str
    to_address: str
    subject: str
    text_body: str
    html_body: str | None
    attempts: int
    kind: str = ""


_said: set[str] = set()


def _say_once(message: str, level: int = logging.WARNING) -> None:
    if message not in _said:
        _said.add(message)
        log.log(level, message)


def _say_mail_off() -> None:
    _say_once("E-mail is off: set PACE_SMTP_HOST (and PACE_SMTP_PORT, PACE_SMTP_TLS, "
              "PACE_SMTP_USER, PACE_SMTP_PASSWORD, PACE_SMTP_FROM) to send notifications "
              "by e-mail. In-app notifications work without it.")


def backoff(attempts: int, base: timedelta = timedelta(minutes=1),
            cap: timedelta = timedelta(hours=6)) -> timedelta:
    """1, 2, 4, 8 … minutes after the 1st, 2nd, 3rd … failed attempt, at most ``cap``."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


def claim(factory: sessionmaker, limit: int = 50, lease: timedelta = timedelta(minutes=10),
          max_age: timedelta | None = timedelta(hours=72)) -> list[Claimed]:
    """Claim due rows for this worker. Rows queued more than ``max_age`` before any worker
    tried them (a caseload imported with historic dates, mail switched on after a long
    pause) are not sent but marked failed, for an administrator to retry if still wanted."""
    now = clock.now()
    with unit_of_work(factory) as session:
        if max_age is not None:
            session.execute(update(OutboxMessage).where(
                OutboxMessage.status == "pending", OutboxMessage.attempts == 0,
                OutboxMessage.created_at < now - max_age).values(
                status="failed", next_attempt_at=None,
                last_error=f"not sent: queued more than {max_age} before a worker could send it")
                .execution_options(synchronize_session=False))
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.status.in_(("pending", "sending")),
                                        OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
            .with_for_update(skip_locked=True)).all()
        claimed = []
        for row in rows:
            row.status, row.attempts, row.next_attempt_at = "sending", row.attempts + 1, now + lease
            claimed.append(Claimed(row.id, row.message_id, row.to_address, row.subject,
                                   row.text_body, row.html_body, row.attempts, row.kind))
    return claimed


def build_message(row: Claimed, settings: MailSettings) -> EmailMessage:
    """The message for ``row``. The subject is folded onto one line (it names a reference,
    and one stored before references were checked may hold a line break); any other header
    value that could break the header block (an address with a line break) makes the
    e-mail library's policy raise ``ValueError``, and the row is parked (``_send_one``)."""
    message = EmailMessage(policy=email.policy.default)  # refuses CR/LF in headers
    message["From"] = settings.sender
    message["To"] = row.to_address
    message["Subject"] = one_line(row.subject)
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = row.message_id
    message["Auto-Submitted"] = "auto-generated"
    if row.kind:
        message["X-Notification-Kind"] = row.kind  # lets mail rules sort notices
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


def connect(settings: MailSettings) -> smtplib.SMTP:
    if settings.tls == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if settings.user:
        smtp.login(settings.user, settings.password or "")
    return smtp


def mark_sent(factory: sessionmaker, row: Claimed) -> None:
    now = clock.now()
    with unit_of_work(factory) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id,
                                                    OutboxMessage.status != "sent")
                        .values(status="sent", sent_at=now, next_attempt_at=None, last_error=None)
                        .execution_options(synchronize_session=False))


def mark_failed(factory: sessionmaker, row: Claimed, error: str, *, permanent: bool,
                max_attempts: int) -> bool:
    """Record a failed attempt; True when the row is given up (``failed``)."""
    now = clock.now()
    give_up = permanent or row.attempts >= max_attempts
    values = {"last_error": error[:2000]}
    if give_up:
        values.update(status="failed", next_attempt_at=None)
    else:
        values.update(status="pending", next_attempt_at=now + backoff(row.attempts))
    with unit_of_work(factory) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id,
                                                    OutboxMessage.status != "sent")
                        .values(**values).execution_options(synchronize_session=False))
    return give_up


def not_sent(session, limit: int = 100, *, failed_only: bool = False) -> tuple[dict[str, int], list]:
    """Counts of rows by status, and the newest rows not sent (failed first): what an
    administrator reads on the outbox page and an operator with ``pace worker failures``."""
    counts = dict(session.execute(select(OutboxMessage.status, func.count())
                                  .group_by(OutboxMessage.status)).all())
    wanted = (OutboxMessage.status == "failed") if failed_only else (OutboxMessage.status != "sent")
    rows = session.scalars(select(OutboxMessage).where(wanted)
                           .order_by(OutboxMessage.status, OutboxMessage.id.desc())
                           .limit(limit)).all()
    return counts, list(rows)


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500 and not isinstance(exc, smtplib.SMTPServerDisconnected)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def send_due(factory: sessionmaker, settings: MailSettings | None = None, *, limit: int = 50,
             lease: timedelta = timedelta(minutes=10), max_attempts: int = 10,
             batches: int = 20, max_age: timedelta | None = timedelta(hours=72)) -> SendReport:
    """Send what is due (up to ``batches`` × ``limit`` rows); never raises for SMTP trouble."""
    settings = settings or MailSettings.from_env()
    report = SendReport()
    if not settings.enabled:
        _say_mail_off()
        return report
    for _ in range(batches):
        rows = claim(factory, limit, lease, max_age)
        if not rows:
            break
        _send_batch(factory, settings, rows, report, max_attempts)
        if len(rows) < limit:
            break
    return report


def _send_batch(factory, settings: MailSettings, rows: list[Claimed], report: SendReport,
                max_attempts: int) -> None:
    smtp = None
    try:
        smtp = connect(settings)
    except (smtplib.SMTPException, OSError) as exc:
        message = f"cannot reach the mail server {settings.describe()}: {_describe(exc)}"
        log.error(message)
        report.errors.append(message)
        for row in rows:
            report.failed += 1
            report.given_up += mark_failed(factory, row, message, permanent=False,
                                           max_attempts=max_attempts)
        return
    try:
        for index, row in enumerate(rows):
            smtp = _send_one(factory, settings, smtp, row, report, max_attempts)
            if smtp is None:  # the server went away and cannot be reached again
                for rest in rows[index + 1:]:
                    report.failed += 1
                    report.given_up += mark_failed(factory, rest, "the mail server went away "
                                                   "during the batch", permanent=False,
                                                   max_attempts=max_attempts)
                break
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass


def _send_one(factory, settings: MailSettings, smtp: smtplib.SMTP, row: Claimed,
              report: SendReport, max_attempts: int) -> smtplib.SMTP | None:
    """Send one row inside its own error boundary, so no row can stop the batch or the
    worker: a row that cannot become a message is parked at once (``failed``, shown to
    administrators on the outbox page and by ``pace worker failures``); a send that fails
    is retried with back-off. Returns the connection to go on with (None: unreachable)."""
    try:
        message = build_message(row, settings)
    except Exception as exc:  # noqa: BLE001 - whatever the row holds, the rest go on
        error = f"cannot build the message: {_describe(exc)}"
        log.error("outbox row %s parked: %s", row.id, error)
        report.failed += 1
        report.errors.append(f"{row.message_id}: {error}")
        report.given_up += mark_failed(factory, row, error, permanent=True,
                                       max_attempts=max_attempts)
        return smtp
    try:
        smtp.send_message(message)
    except Exception as exc:  # noqa: BLE001 - SMTP, network or anything the library raises
        report.failed += 1
        report.errors.append(f"{row.message_id}: {_describe(exc)}")
        log.warning("sending %s to %s failed (attempt %d): %s", row.message_id,
                    row.to_address, row.attempts, _describe(exc))
        report.given_up += mark_failed(factory, row, _describe(exc), permanent=_permanent(exc),
                                       max_attempts=max_attempts)
        if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
            try:
                return connect(settings)
            except (smtplib.SMTPException, OSError):
                return None
        return smtp
    # Sent: a crash before the next line means a resend with the same Message-ID.
    mark_sent(factory, row)
    report.sent += 1
    return smtp
