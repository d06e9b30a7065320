"""The worker's sweep (``pace worker``): due timers, reminders, escalations, then e-mail.

Timers are found from the timer index (engine/timers.py) only and fired several children
per transaction on PostgreSQL (one on SQLite, see ``BATCH``), claimed with ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL so several workers never fire the same timer; SQLite's single
writer gives the same guarantee. Anything missed while no worker ran is simply "due" and
fires on the next sweep, oldest first. Reminders and escalations are engine/escalation.py's,
the daily digests engine/digests.py's, the sending engine/outbox.py's.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import inspect, select, tuple_
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from . import audit, clock, digests, escalation, outbox, timers, writer
from .db import unit_of_work
from .models import ProcessInstance, Timer
from .runtime import INSTANCE_LOAD, Runtime

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    timers_fired: int = 0
    reminders: int = 0
    escalations: int = 0
    digests: int = 0        # daily digest mails queued
    mails_sent: int = 0
    mail_errors: int = 0    # failed send attempts (retried with back-off, see engine/outbox.py)
    errors: list[str] = field(default_factory=list)


# Children fired per transaction on PostgreSQL, where each commit waits for the disk and
# each statement is a round trip: a batch's rows of each table go in one statement, so
# per child the reads of the role holders notified, the commit and the statements cost
# less the more children share them (25 -> 50: about a tenth less CPU per timer). A user
# saving a child of the batch waits for its commit, a tenth of a second or so. On
# SQLite a commit is cheap (WAL, no flush to disk) and a transaction holds the one write
# lock that every user's request needs too, so it fires one child per transaction there.
BATCH = 50


def fire_due_timers(factory: sessionmaker, runtime: Runtime, report: SweepReport,
                    limit: int | None = None, *, batch: int | None = None) -> int:
    """Fire due timers, up to ``batch`` children per transaction; returns candidates seen.

    The children's locks (audit.lock_chains, one statement for the batch) are taken first,
    as every writer does, and a busy child is skipped (another worker or a user completing
    a task holds it): that timer stays due and the next sweep takes it. One commit per
    batch instead of one per child is most of the cost saved (a commit waits for the
    disk); one flush for the batch, writing the rows of all its children together (their
    states by one executemany, their timer rows by one statement per kind of change), is
    most of the rest. When the batch fails, the transaction is rolled back and the batch is
    done again flushing after each child, so the failure is known to be that child's; then
    the batch is done again without that child, so the others still fire and only the
    failing child waits for the next sweep (a savepoint per child would cost two more
    round trips for every child, to save work only on failure).
    Candidates are read in batches walking forward by (fire_at, id), so two workers
    spread over different children instead of chasing the same oldest timer, and a long
    catch-up after downtime stays linear. ``limit`` bounds the children tried.
    """
    after: tuple | None = None
    tried = seen = 0
    failed: set[int] = set()  # instances whose firing raised in this sweep
    per_child = False  # flush after each child: the batch failed, find out whose fault
    while limit is None or tried < limit:
        batch_start = (after, tried, seen)
        attempt = _Batch(per_child=per_child)
        try:
            with unit_of_work(factory) as session:
                if batch is None:
                    batch = 1 if session.get_bind().dialect.name == "sqlite" else BATCH
                more, after, tried, seen = _fire_batch(session, runtime, attempt, failed, batch,
                                                       limit, after, tried, seen)
        except Exception as exc:  # one bad instance must not stop the sweep
            if attempt.current is None:
                raise  # not a child's firing (e.g. the database went away)
            after, tried, seen = batch_start
            if not per_child and attempt.children > 1:
                per_child = True  # again, a child at a time
                continue
            failed.add(attempt.current)
            report.errors.append(f"instance {attempt.current}: {exc}")
            continue  # again, without it
        per_child = False
        report.timers_fired += attempt.fired
        if not more:
            return seen
    return seen


@dataclass
class _Batch:
    per_child: bool = False  # flush after each child instead of once for the batch
    fired: int = 0
    children: int = 0  # fired so far in this transaction
    current: int | None = None  # the instance being fired (or flushed, with the batch's)


def _fire_batch(session: Session, runtime: Runtime, attempt: _Batch, failed: set[int], batch: int,
                limit: int | None, after, tried: int, seen: int):
    now = clock.now()
    query = (select(Timer.id, Timer.instance_id, Timer.fire_at, ProcessInstance.subject_id)
             .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
             .where(Timer.fire_at <= now).order_by(Timer.fire_at, Timer.id).limit(batch))
    if after is not None:
        query = query.where(tuple_(Timer.fire_at, Timer.id) > after)
    candidates = session.execute(query).all()
    if not candidates:
        return False, after, tried, seen
    seen += len(candidates)
    held = audit.lock_chains(session, {c.subject_id for c in candidates
                                       if c.instance_id not in failed})
    # Read under the locks, for the whole batch in one statement: another worker may have
    # fired a timer while we looked, and then it is no longer due.
    mine = [c.id for c in candidates if c.subject_id in held and c.instance_id not in failed]
    due = dict(session.execute(
        select(Timer.id, ProcessInstance).join(Timer, Timer.instance_id == ProcessInstance.id)
        .where(Timer.id.in_(mine), Timer.fire_at <= now)
        .options(*INSTANCE_LOAD).execution_options(populate_existing=True)).all()) if mine else {}
    done: set[int] = set()  # instances fired in this transaction (all their timers)
    # Rows written for the whole batch at its end; else each child's by its own save, as
    # a completion writes them (engine/writer.py), which is cheaper for a single child.
    together = batch > 1 and not attempt.per_child
    # The fired timers' rows go with the batch's flush.
    timer_rows = timers.DeferredRows() if together else None
    for timer_id, instance_id, fire_at, subject_id in candidates:
        if limit is not None and tried >= limit:
            break
        after = (fire_at, timer_id)
        if instance_id in done or instance_id in failed or subject_id not in held:
            continue
        tried += 1
        instance = due.get(timer_id)
        if instance is None:
            continue
        done.add(instance_id)
        attempt.current = instance_id
        attempt.children += 1
        attempt.fired += len(runtime.fire_timers(session, instance, flush=not together,
                                                 timer_rows=timer_rows))
        if not together:
            attempt.current = None
    if attempt.current is not None:  # written together
        # The batch's rows; a failure here sends it round a child at a time.
        _write_states(session, {i.id: i for i in due.values() if i.id in done}.values())
        session.flush()
        timer_rows.write(session)
        attempt.current = None
    return True, after, tried, seen


# The save path's own statement for these columns (engine/writer.py), sent for many rows.
_WRITE_STATE = writer.update_statement(ProcessInstance, ("state", "version"))


def _write_states(session: Session, instances: list[ProcessInstance]) -> None:
    """Write the new state of every instance whose state is all that changed, in one
    statement for the batch (executemany: one round trip on PostgreSQL), with the version
    check the unit of work would make for each (see ProcessInstance); the unit of work then
    has nothing to write for them. Any other change (an instance that finished) is left to
    the flush."""
    pending = []
    for instance in instances:
        changed = writer.changed_columns(inspect(instance))
        if changed is not None and changed.keys() == {"state"}:
            pending.append((instance, {"w_key": instance.id, "w_version": instance.version,
                                       "v_version": instance.version + 1,
                                       "v_state": instance.state}))
    if not pending:
        return
    written = session.connection().execute(_WRITE_STATE, [row for _i, row in pending]).rowcount
    if written != len(pending):
        raise StaleDataError(f"UPDATE statement on table 'process_instance' expected to update "
                             f"{len(pending)} row(s); {written} were matched.")
    for instance, row in pending:
        set_committed_value(instance, "state", row["v_state"])
        set_committed_value(instance, "version", row["v_version"])


def sweep(factory: sessionmaker, runtime: Runtime, limit: int | None = None, *,
          mail: bool = True) -> SweepReport:
    """One pass: due timers, then reminders, then escalations, then e-mail (when configured).

    Each step runs in its own error boundary: whatever one step raises (a row no one
    foresaw, the database gone for a moment) is logged with its traceback and named in
    ``report.errors``, and the next step still runs, so one bad item can never stop the
    worker; the failed step is tried again on the next sweep."""
    report = SweepReport()
    today = clock.today()

    def reminders() -> None:
        with unit_of_work(factory) as session:
            escalation.send_reminders(session, today, report)

    def escalations() -> None:
        with unit_of_work(factory) as session:
            escalation.escalate(session, today, runtime.config.escalation_chain, report)

    steps = [("timers", lambda: fire_due_timers(factory, runtime, report, limit)),
             ("reminders", reminders), ("escalations", escalations)]
    if mail:
        steps.append(("e-mail", lambda: send_mail(factory, runtime, report)))
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - the boundary itself
            log.exception("the worker's %s step failed; the other steps go on", name)
            report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
    return report


def send_mail(factory: sessionmaker, runtime: Runtime, report: SweepReport) -> None:
    """Queue today's digests (once per user and day), then send the due outbox rows."""
    policy = runtime.config.notifications
    if policy is None:
        return
    report.digests += digests.queue_digests(factory, policy, runtime.config.escalation_chain)
    sent = outbox.send_due(factory, policy.mail_settings())
    report.mails_sent += sent.sent
    report.mail_errors += sent.failed
