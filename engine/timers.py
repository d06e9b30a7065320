"""Timer index and the sweeper that fires due timers, reminders and escalations.

The sweeper works from indexed rows only, several children per transaction on PostgreSQL
(one on SQLite, see ``BATCH``), claiming them with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL so several workers never fire the same timer;
SQLite's single writer gives the same guarantee. Anything missed while no worker ran is
simply "due" and fires on the next sweep, oldest first.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, delete, inspect, insert, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from . import audit, clock, writer
from .db import unit_of_work
from .task_maps import every_task
from .models import ProcessInstance, Timer, UserAccount, WorkItem

OPEN = ("ready", "claimed")
log = logging.getLogger(__name__)


def wanted_rows(wf) -> dict[str, tuple[str, datetime]]:
    """task id -> (name, fire at): the timer rows the workflow's waiting timers imply."""
    found = {}
    waiting = TaskState.WAITING
    for task in every_task(wf):
        if task.state != waiting:
            continue
        definition = getattr(task.task_spec, "event_definition", None)
        value = task.internal_data.get("event_value")
        if isinstance(definition, TimerEventDefinition) and isinstance(value, str):
            found[str(task.id)] = (task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                                   TimerEventDefinition.get_datetime(value))
    return found


def hold_later_interrupting(wf) -> None:
    """Of a task's interrupting boundary timers that are READY together, put all but the
    earliest back to WAITING; the task's boundary join then cancels them when the earliest
    has run. BPMN cancels a task and its other boundary events when the first interrupting
    one fires, but SpiffWorkflow 3.2 runs every one that is READY, so after downtime (or for
    a task reached after both dates) a "chase" and an "escalate" timer would both open their
    follow-up tasks. Call after ``refresh_timers`` and, as ``did_complete_task``, after each
    task the engine steps run (``after_task``). Costs nothing for diagrams without a task
    carrying two interrupting timers."""
    for workflow in (wf, *wf.subprocesses.values()):
        if _timer_splits(workflow.spec):
            for task in list(workflow.tasks.values()):
                after_task(task)


def after_task(task) -> None:
    """``did_complete_task`` of the engine steps: a task's boundary events are updated (and
    fire when due) as the split before it completes."""
    if task.task_spec.name in _timer_splits(task.workflow.spec):
        _hold(task.children)


def _timer_splits(spec) -> frozenset:
    """Names of the boundary splits in ``spec`` with two or more interrupting timers, kept on
    the parsed spec (parsed once per model version, see registry.load)."""
    found = getattr(spec, "_interrupting_timer_splits", None)
    if found is None:
        found = frozenset(name for name, task_spec in spec.task_specs.items()
                          if isinstance(task_spec, BoundaryEventSplit)
                          and sum(map(_interrupting_timer, task_spec.outputs)) > 1)
        spec._interrupting_timer_splits = found
    return found


def _interrupting_timer(task_spec) -> bool:
    return isinstance(task_spec, BoundaryEvent) and task_spec.cancel_activity \
        and isinstance(task_spec.event_definition, TimerEventDefinition)


def _hold(children) -> None:
    ready = sorted(((clock.aware(TimerEventDefinition.get_datetime(task.internal_data["event_value"])),
                     task.task_spec.bpmn_id, task) for task in children
                    if task.state == TaskState.READY and _interrupting_timer(task.task_spec)
                    and isinstance(task.internal_data.get("event_value"), str)),
                   key=lambda found: found[:2])
    for _at, _bpmn_id, task in ready[1:]:
        task._set_state(TaskState.WAITING)  # as CatchingEvent._update_hook leaves one not due
        task.workflow.top_workflow.event_manager.add_task(task)


def sync(session: Session, instance: ProcessInstance, wf, indexed: dict | None = None) -> None:
    """Make the instance's timer rows match its waiting timers (unread when ``indexed``
    says what they hold, and written only where they differ, as milestones.sync_rows)."""
    wanted = wanted_rows(wf)
    if indexed is not None:
        before = indexed["timers"]
        if before != wanted:
            deferred = session.info.get(_DEFERRED)
            if deferred is None:
                _write_changes(session.connection(), [(instance.id, before, wanted)])
            else:  # the sweeper's batch: written with the others' by write_deferred
                deferred.setdefault(instance.id, [before, wanted])[1] = wanted
            indexed["timers"] = wanted
        return
    write_deferred(session, stop=False)  # the rows read below must be the ones written so far
    rows = {t.task_id: t for t in session.scalars(select(Timer).where(Timer.instance_id == instance.id))}
    for task_id, row in rows.items():
        if task_id not in wanted:
            session.delete(row)
    for task_id, (name, fire_at) in wanted.items():
        row = rows.get(task_id)
        if row is None:
            session.add(Timer(instance_id=instance.id, task_id=task_id, name=name, fire_at=fire_at))
        elif row.fire_at != fire_at:
            row.fire_at = fire_at


def _write_changes(connection, changes) -> None:
    """Statements sent now, in the caller's transaction (see milestones._write_changes),
    for ``changes`` of (instance id, rows before, rows wanted): usually one, deleting the
    rows of the timers that fired, however many instances there are."""
    gone, added, moved = [], [], []
    for instance_id, before, wanted in changes:
        gone += [(instance_id, task_id) for task_id in sorted(before.keys() - wanted.keys())]
        for task_id, (name, fire_at) in wanted.items():
            if task_id not in before:
                added.append({"instance_id": instance_id, "task_id": task_id, "name": name,
                              "fire_at": fire_at})
            elif before[task_id][1] != fire_at:
                moved.append({"instance": instance_id, "task": task_id, "new_fire_at": fire_at})
    if gone:
        connection.execute(_DELETE, {"keys": gone})
    if moved:
        connection.execute(_UPDATE, moved)
    if added:
        connection.execute(_INSERT, added)


# session.info key: instance id -> [rows before, rows wanted] of timer rows not written yet.
_DEFERRED = "timer_rows_deferred"


def defer_writes(session: Session) -> None:
    """Keep the timer rows' changes of every instance saved from now on, to be written
    together by ``write_deferred``: a sweep's batch changes the rows of all its children
    (the fired timer's row is deleted) in one statement instead of one per child. Rows
    read by ``sync`` without ``indexed`` write what was kept first."""
    session.info.setdefault(_DEFERRED, {})


def write_deferred(session: Session, *, stop: bool = True) -> None:
    """Write the changes kept since ``defer_writes`` (from the first rows to the last
    wanted, so an instance saved twice is written once), then stop keeping them unless
    ``stop`` is false."""
    deferred = session.info.pop(_DEFERRED, None)
    if not stop and deferred is not None:
        session.info[_DEFERRED] = {}
    if deferred:
        _write_changes(session.connection(), [(instance_id, before, wanted) for
                                              instance_id, (before, wanted) in deferred.items()])


# Built once (see audit.chain_lock).
_ROWS = Timer.__table__
_DELETE = delete(_ROWS).where(tuple_(_ROWS.c.instance_id, _ROWS.c.task_id)
                              .in_(bindparam("keys", expanding=True)))
_UPDATE = update(_ROWS).where(_ROWS.c.instance_id == bindparam("instance"),
                              _ROWS.c.task_id == bindparam("task")).values(
    fire_at=bindparam("new_fire_at"))
_INSERT = insert(_ROWS)


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


def fire_due_timers(factory: sessionmaker, runtime, report: SweepReport, limit: int | None = None,
                    *, batch: int | None = None) -> int:
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


def _fire_batch(session: Session, runtime, attempt: _Batch, failed: set[int], batch: int,
                limit: int | None, after, tried: int, seen: int):
    from .runtime import INSTANCE_LOAD  # runtime imports this module
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
    if together:
        defer_writes(session)  # the fired timers' rows go with the batch's flush
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
        attempt.fired += len(runtime.fire_timers(session, instance, flush=not together))
        if not together:
            attempt.current = None
    if attempt.current is not None:  # written together
        # The batch's rows; a failure here sends it round a child at a time.
        _write_states(session, {i.id: i for i in due.values() if i.id in done}.values())
        session.flush()
        write_deferred(session)
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


def _locked_items(session: Session, query) -> list[WorkItem]:
    """Candidates first, then each child's lock (skipping busy children), then a fresh read."""
    items = []
    for item in session.scalars(query).all():
        if audit.lock_chain(session, item.subject_id, skip_locked=True):
            session.refresh(item)
            items.append(item)
    return items


def _recipient(session: Session, item: WorkItem) -> str:
    if item.assignee_id:
        user = session.get(UserAccount, item.assignee_id)
        return user.username if user else str(item.assignee_id)
    return f"{item.role} queue, team {item.team}"


def send_reminders(session: Session, today: date, report: SweepReport) -> None:
    items = _locked_items(session, select(WorkItem).where(
        WorkItem.status.in_(OPEN), WorkItem.remind_date <= today, WorkItem.reminded_at.is_(None))
        .order_by(WorkItem.subject_id, WorkItem.id))
    for item in items:
        if item.status not in OPEN or item.reminded_at is not None:
            continue
        item.reminded_at = clock.now()
        audit.record(session, "reminder_sent", "timer", subject_id=item.subject_id,
                     instance_id=item.instance_id, task_id=item.task_id,
                     data={"task": item.task_name, "due": item.due_date,
                           "to": _recipient(session, item)})
        report.reminders += 1


def chain_for(session: Session, item: WorkItem, roles) -> tuple[str, ...]:
    """The roles ``item`` escalates to, level by level. ``roles`` is one chain for every
    process, or a function from process id to chain (EngineConfig.escalation_chain) when
    a deployment's processes escalate to different roles."""
    if not callable(roles):
        return tuple(roles)
    return tuple(roles(_processes(session, [item.instance_id]).get(item.instance_id)))


def _processes(session: Session, instance_ids) -> dict[int, str]:
    """Instance id -> process id, remembered for the session (digests ask once per user)."""
    known = session.info.setdefault("process_of_instance", {})
    missing = set(instance_ids) - known.keys()
    if missing:
        with session.no_autoflush:  # a flush per item would cost more than the escalation
            known.update(session.execute(select(ProcessInstance.id, ProcessInstance.process_id)
                                         .where(ProcessInstance.id.in_(missing))).all())
    return known


def escalate(session: Session, today: date, roles, report: SweepReport) -> None:
    if not roles:
        return
    items = _locked_items(session, select(WorkItem).where(
        WorkItem.status.in_(OPEN), WorkItem.next_escalation_date <= today)
        .order_by(WorkItem.subject_id, WorkItem.id))
    if callable(roles):
        _processes(session, [item.instance_id for item in items])  # one read for them all
    for item in items:
        if item.status not in OPEN:
            continue
        chain = chain_for(session, item, roles)
        while chain and item.next_escalation_date is not None and item.next_escalation_date <= today:
            item.escalation_level += 1
            level = item.escalation_level
            to_role = chain[min(level, len(chain)) - 1]
            dates = item.escalate_dates or []
            item.next_escalation_date = date.fromisoformat(dates[level]) if level < len(dates) else None
            item.escalated_at = clock.now()
            audit.record(session, "escalated", "timer", subject_id=item.subject_id,
                         instance_id=item.instance_id, task_id=item.task_id,
                         data={"task": item.task_name, "level": level, "to_role": to_role,
                               "team": item.team, "due": item.due_date})
            report.escalations += 1


def sweep(factory: sessionmaker, runtime, limit: int | None = None, *, mail: bool = True) -> SweepReport:
    """One pass: due timers, then reminders, then escalations, then e-mail (when configured).

    Each step runs in its own error boundary: whatever one step raises (a row no one
    foresaw, the database gone for a moment) is logged with its traceback and named in
    ``report.errors``, and the next step still runs, so one bad item can never stop the
    worker; the failed step is tried again on the next sweep."""
    report = SweepReport()
    today = clock.today()

    def reminders() -> None:
        with unit_of_work(factory) as session:
            send_reminders(session, today, report)

    def escalations() -> None:
        with unit_of_work(factory) as session:
            escalate(session, today, runtime.config.escalation_chain, report)

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


def send_mail(factory: sessionmaker, runtime, report: SweepReport) -> None:
    """Queue today's digests (once per user and day), then send the due outbox rows."""
    from . import notifications, outbox
    policy = runtime.config.notifications
    if policy is None:
        return
    report.digests += notifications.queue_digests(factory, policy, runtime.config.escalation_chain)
    sent = outbox.send_due(factory, policy.mail_settings())
    report.mails_sent += sent.sent
    report.mail_errors += sent.failed
