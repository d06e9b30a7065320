"""Import an existing caseload: each child placed mid-journey through the real runtime.

Every row is validated before anything is written (``caseload_csv``). Each valid child is
then registered and *played forward* like the demo does: the clock is set to each
historical date in turn, the process is started on its start date, each step the child has
been through is completed on its real date with that date in the form's date field, and
timers (the CSO review alert) fire on their own dates. So milestones carry real dates, due
dates are computed by the diagram's rules from those dates, and a task already late shows as
overdue at once.

All-or-nothing: the whole import is one database transaction, each child inside its own
savepoint. A placement that fails (a row the deployed diagram cannot represent, a
reference added meanwhile) is reported against its row; by default the transaction is then
rolled back and nothing is written; with ``skip_invalid`` only that child's savepoint is
undone and the row goes to the rejects file. A dry run plays every child and rolls back.
Why one transaction rather than "validate, then writes that cannot fail": placement runs
the real runtime, which can refuse a row validation could not foresee (its timescales live
in the deployed diagram, not here), and a half-imported caseload is worse than none.
The cost: on SQLite the import holds the write lock until it ends (readers carry on).
Re-importing the same file is a no-op: a reference already imported from the same file, or
with identical facts, is skipped and counted.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock, csv_cells, notice_derivation
from engine.errors import InvalidData
from engine.models import OPEN, ProcessInstance, Subject, Team, Timer, UserAccount, WorkItem

from workflows.caseload import csv_rows as caseload_csv
from workflows.children import records as child_records
from workflows.caseload.csv_rows import ACCOMMODATED, ChildRow, RowError
from workflows.caseload.steps import NotRecordable, Step, answers, steps as placement_steps

IMPORTED_EVENT = "child_imported"
TIMER_LAG = timedelta(minutes=1)  # a timer fires once its time has passed


class PlacementError(Exception):
    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column, self.reason = column, reason


@dataclass
class ImportResult:
    source: str
    sha256: str
    today: date
    dry_run: bool = False
    rows: int = 0                      # non-blank rows read
    imported: int = 0
    already_imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False              # True once the transaction committed
    by_status: Counter = field(default_factory=Counter)
    open_tasks: Counter = field(default_factory=Counter)   # (task_name, role) → count
    overdue: int = 0
    waiting: int = 0                   # children waiting for a timer (no task open)
    finished: int = 0                  # children whose process ended (e.g. order granted)
    steps_completed: int = 0
    timers_fired: int = 0
    seconds: float = 0.0

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        status = ", ".join(f"{n} {'accommodated' if s == ACCOMMODATED else 'on a CSO at home'}"
                           for s, n in sorted(self.by_status.items()))
        lines = [f"{self.source} (sha256 {self.sha256[:12]}): {self.rows} rows; {verb} "
                 f"{self.imported} children" + (f" ({status})" if status else "")
                 + f"; skipped {self.already_imported} already imported"
                 + f"; rejected {len(self.rejected_rows)} rows ({len(self.errors)} errors)."]
        if self.imported:
            tasks = sum(self.open_tasks.values())
            lines.append(f"Placed: {tasks} tasks open ({self.overdue} overdue), {self.waiting} "
                         f"waiting for a timer, {self.finished} finished; {self.steps_completed} "
                         f"earlier steps recorded, {self.timers_fired} timers fired "
                         f"({self.seconds:.1f}s).")
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        elif self.errors and not self.written:
            lines.append("Nothing was written: fix the rows above and import again, or use "
                         "--skip-invalid to import the valid rows and write a rejects file.")
        return "\n".join(lines)


def rows_digest(rows: Iterable[Mapping]) -> str:
    """sha256 of rows given in memory (a file is hashed as its bytes instead)."""
    canon = [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in sorted(r.items())}
             for r in rows]
    return caseload_csv.sha256(json.dumps(canon, sort_keys=True, default=str).encode())


def reference_data(session: Session) -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
    """(team code or name → code, user name → user name, user name → id), keys lower-case."""
    teams: dict[str, str] = {}
    open_teams = session.scalars(select(Team).where(Team.closed_at.is_(None))).all()  # closed: none
    for team in open_teams:
        teams[team.name.lower()] = team.code
    for team in open_teams:
        teams[team.code.lower()] = team.code
    users = list(session.scalars(select(UserAccount).where(UserAccount.active.is_(True))))
    return teams, {u.username.lower(): u.username for u in users}, {u.username: u.id for u in users}


def _existing(session: Session, references: list[str]) -> dict[str, dict]:
    found = {}
    for start in range(0, len(references), 500):
        chunk = references[start:start + 500]
        for ref, attributes in session.execute(select(Subject.reference, Subject.attributes)
                                               .where(Subject.reference.in_(chunk))):
            found[ref] = attributes or {}
    return found


def _screen_existing(children: list[ChildRow], existing: dict[str, dict], sha: str,
                     result: ImportResult) -> list[ChildRow]:
    """Drop children already imported (same file or same facts); reject other clashes."""
    fresh = []
    for child in children:
        attributes = existing.get(child.reference)
        if attributes is None:
            fresh.append(child)
            continue
        imported = attributes.get("imported") or {}
        if imported.get("sha256") == sha or imported.get("row_digest") == child.digest():
            result.already_imported += 1
        elif imported:
            result.errors.append(RowError(
                child.row, "reference", f"already in PACE Flow with different details (imported "
                f"from {imported.get('file')} on {str(imported.get('at', ''))[:10]}); change it "
                "on the child's page, not by import", child.reference))
        else:
            result.errors.append(RowError(child.row, "reference", "a child with this reference is "
                                          "already in PACE Flow", child.reference))
    return fresh


def import_moment(today: date | None = None) -> datetime:
    """The moment an import happens as of: now, or midday of an earlier ``today``."""
    return clock.now() if today is None or today == clock.today() else clock.aware(today)


def screen(session: Session, rows: list[Mapping], sha: str, today: date, source: str = "rows"
           ) -> tuple[list[ChildRow], ImportResult, dict[str, int]]:
    """Every check that needs no placement: the children to place, a result holding every
    row problem, and user name → id for allocated workers. Writes nothing."""
    teams, workers, worker_ids = reference_data(session)
    children, result = validated(rows, sha, today, source, teams, workers)
    return screen_existing(session, children, sha, result), result, worker_ids


def validated(rows: list[Mapping], sha: str, today: date, source: str, teams: dict,
              workers: dict) -> tuple[list[ChildRow], ImportResult]:
    """The rows' own checks (no database): the valid children, and a result holding every
    row problem and the number of rows."""
    result = ImportResult(source, sha, today)
    children, result.errors = caseload_csv.validate(rows, today, teams, workers)
    result.rows = len(children) + len({e.row for e in result.errors})
    return children, result


def screen_existing(session: Session, children: list[ChildRow], sha: str,
                    result: ImportResult) -> list[ChildRow]:
    """The children not in PACE Flow yet; the others are counted or reported in ``result``."""
    existing = _existing(session, [c.reference for c in children])
    return _screen_existing(children, existing, sha, result)


def import_session(database) -> Session:
    """A session for placing children. Historic steps notify nobody: the alert that fired
    in 2025 is not news. Open tasks are the queues' business from now on (reminders and
    escalation on the next sweep)."""
    return notice_derivation.switch_off(database.factory())


def place_children(session: Session, context: "ImportContext", children: list[ChildRow],
                   result: ImportResult, progress: Callable[[int, int], None] | None = None,
                   ) -> None:
    """Place each child in its own savepoint; a child that fails is undone and its row
    reported in ``result.errors``. The caller commits or rolls back."""
    with clock.frozen_at(context.moment):
        for child in children:
            counts = (result.steps_completed, result.timers_fired)
            try:
                with session.begin_nested():
                    _place(session, context, child, result)
                result.imported += 1
                result.by_status[child.legal_status] += 1
            except Exception as exc:  # noqa: BLE001 - reported against its row, never half-kept
                result.steps_completed, result.timers_fired = counts
                column, reason = (exc.column, exc.reason) if isinstance(exc, PlacementError) \
                    else ("", f"could not be placed: {exc}")
                result.errors.append(RowError(child.row, column, reason, child.reference))
            session.expunge_all()  # keep memory flat over thousands of children
            if progress:
                progress(1, len(children))


def import_file(database, path: str | Path, **options) -> ImportResult:
    """Read, hash and import a CSV file; raises caseload_csv.FileError if unreadable."""
    path = Path(path)
    data = path.read_bytes()
    rows = caseload_csv.read_csv(data)
    return import_rows(database, rows, source=path.name, sha256=caseload_csv.sha256(data),
                       **options)


def import_rows(database, rows: list[Mapping], *, source: str = "rows", sha256: str | None = None,
                today: date | None = None, imported_by: str = "system", dry_run: bool = False,
                skip_invalid: bool = False,
                progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import rows ({column: cell}, as ``caseload_csv.read_csv`` gives or built in memory).

    ``today`` is the day the caseload is imported as of (default: the clock's today); no
    milestone may be later, and timers due by then fire. Nothing is written when any row
    fails, unless ``skip_invalid``; nothing at all on a ``dry_run``. ``progress(advance,
    total)`` is called as each child is placed.
    """
    started = time.perf_counter()
    moment = import_moment(today)
    sha = sha256 or rows_digest(rows)
    with database.transaction() as session:
        children, result, worker_ids = screen(session, rows, sha, moment.date(), source)
    result.dry_run = dry_run
    if result.errors and not (skip_invalid or dry_run):
        result.errors.sort(key=lambda e: e.row)
        result.seconds = time.perf_counter() - started
        return result
    context = ImportContext(database.runtime, source, sha, imported_by, moment, worker_ids)
    session = import_session(database)
    try:
        place_children(session, context, children, result, progress)
        if dry_run or (result.errors and not skip_invalid):
            session.rollback()
        else:
            session.commit()
            result.written = True
    finally:
        session.close()
    if not result.written and not dry_run:  # rolled back: nothing was placed after all
        result.imported, result.by_status, result.open_tasks = 0, Counter(), Counter()
        result.overdue = result.waiting = result.finished = 0
        result.steps_completed = result.timers_fired = 0
    result.errors.sort(key=lambda e: e.row)  # stable: a row's problems in checking order
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class ImportContext:
    runtime: object
    source: str
    sha256: str
    imported_by: str
    moment: datetime
    worker_ids: dict[str, int]

    @property
    def actor(self) -> str:
        return f"import:{self.sha256[:8]}"

    @property
    def note(self) -> str:
        return f"Not recorded: imported from {self.source} (sha256 {self.sha256[:8]})."


def _place(session: Session, ctx: ImportContext, child: ChildRow, result: ImportResult) -> None:
    clock.set_now(child.start)
    subject = child_records.register_child(
        session, child.reference, child.name, child.team, ctx.actor,
        date_of_birth=child.date_of_birth,
        allocated_worker_id=ctx.worker_ids.get(child.worker) if child.worker else None)
    provenance = {"file": ctx.source, "sha256": ctx.sha256, "row": child.row,
                  "row_digest": child.digest(), "by": ctx.imported_by,
                  "at": ctx.moment.isoformat()}
    subject.attributes = {"imported": provenance}
    start = child_records.accommodate if child.legal_status == ACCOMMODATED \
        else child_records.place_on_cso_at_home
    instance = start(session, ctx.runtime, subject, child.start, ctx.actor)
    # The steps complete as a user no account stands behind: the import, named by its file.
    importer = UserAccount(id=None, username=ctx.actor, display_name="Caseload import", roles=[])
    steps = placement_steps(child)
    for index, step in enumerate(steps):
        later = next((s.day for s in steps[index + 1:] if s.day), None)
        item = _reach(session, ctx, instance, step, step.day or later or ctx.moment.date(), result)
        if item is None:
            continue  # an optional step the deployed version does not have
        opened = clock.aware(item.created_at).date()
        day = step.day or opened
        if day < opened:
            raise PlacementError(step.column, f"{day} is before '{item.title}' could happen: it "
                                              f"opened on {opened}")
        _advance(day)
        schema, _ = ctx.runtime.form_for(instance, item.task_name)
        try:
            data = answers(schema, day, step.answers, ctx.note, step.not_recorded)
        except NotRecordable as exc:
            raise PlacementError(exc.column, exc.reason) from None
        try:
            ctx.runtime.complete(session, item.id, data, importer)
        except InvalidData as exc:  # e.g. a date the form's date rules refuse
            raise PlacementError(step.column, "; ".join(e.message for e in exc.errors)) from None
        result.steps_completed += 1
    while (timer := _next_timer(session, instance)) is not None and \
            clock.aware(timer.fire_at) < ctx.moment:
        _fire(session, ctx, instance, timer, "", result)
    clock.set_now(max(ctx.moment, clock.now()))
    audit.record(session, IMPORTED_EVENT, ctx.imported_by, subject_id=subject.id,
                 instance_id=instance.id, data={**provenance, "reference": child.reference,
                                                "legal_status": child.legal_status,
                                                "process_id": child.process_id,
                                                "steps": [s.task for s in steps]})
    session.flush()
    _tally(session, subject.id, instance.id, result)


def _advance(moment) -> None:
    """Move the clock forward (never back) to ``moment`` (a date means midday)."""
    clock.set_now(max(clock.aware(moment), clock.now()))


def _next_timer(session: Session, instance: ProcessInstance) -> Timer | None:
    return session.scalars(select(Timer).where(Timer.instance_id == instance.id)
                           .order_by(Timer.fire_at)).first()


def _reach(session: Session, ctx: ImportContext, instance: ProcessInstance, step: Step, limit: date,
           result: ImportResult) -> WorkItem | None:
    """The open work item for the step, firing timers due by ``limit`` to get there; None
    for an optional step that is not open straight after the step before."""
    while True:
        items = list(session.scalars(select(WorkItem).where(
            WorkItem.instance_id == instance.id, WorkItem.status.in_(OPEN))))
        match = next((i for i in items if i.task_name == step.task), None)
        if match is not None:
            return match
        if step.optional:
            return None
        if step.follows:  # the diagram did not ask for it after the step before
            open_now = ", ".join(i.task_name for i in items) or "no task"
            raise PlacementError(step.column, f"the deployed diagram asks for no "
                                 f"'{step.task}' after the step before it (it has {open_now} "
                                 f"open): leave {step.column} blank")
        timer = _next_timer(session, instance)
        if timer is None or items:
            open_now = ", ".join(i.task_name for i in items) or "nothing (the process has ended)"
            raise PlacementError(step.column, f"expected the step '{step.task}' next but the "
                                              f"process has {open_now} open; the row does not "
                                              "fit the deployed diagram")
        fires = clock.aware(timer.fire_at).date()
        if fires > limit:
            if step.column == "next_review_date":
                raise PlacementError(step.column, f"the review alert for this child fires on "
                                     f"{fires}, after {limit}: a booking can be recorded once "
                                     "the alert has fired; leave this blank and book the review "
                                     "in PACE Flow then")
            raise PlacementError(step.column, f"{limit} is before the {timer.name.lower()} "
                                 f"({fires}, set by the diagram); a review held before its "
                                 "alert cannot be placed")
        _fire(session, ctx, instance, timer, step.column, result)


def _fire(session: Session, ctx: ImportContext, instance: ProcessInstance, timer: Timer, column: str,
          result: ImportResult) -> None:
    """Fire the timer just after its time, as the worker's next sweep would."""
    _advance(clock.aware(timer.fire_at) + TIMER_LAG)
    fired = ctx.runtime.fire_timers(session, instance, ctx.actor)
    if not fired:
        raise PlacementError(column, f"the {timer.name} due {timer.fire_at:%Y-%m-%d} did not fire")
    result.timers_fired += len(fired)


def _tally(session: Session, subject_id: int, instance_id: int, result: ImportResult) -> None:
    items = session.execute(select(WorkItem.task_name, WorkItem.role, WorkItem.due_date).where(
        WorkItem.subject_id == subject_id, WorkItem.status.in_(OPEN))).all()
    for task_name, role, due in items:
        result.open_tasks[(task_name, role)] += 1
        if due is not None and due < result.today:
            result.overdue += 1
    if not items:
        status = session.scalar(select(ProcessInstance.status)
                                .where(ProcessInstance.id == instance_id))
        if status == "running":
            result.waiting += 1
        else:
            result.finished += 1


def template_csv() -> str:
    """The header row: every column, in the documented order."""
    return csv_cells.to_text([], header=caseload_csv.COLUMNS, lineterminator="\r\n")


def rejects_csv(rows: list[Mapping], errors: Iterable[RowError]) -> str:
    """The rejected rows as they were read, plus the row number and every reason (cells a
    spreadsheet would run are written as text: engine/csv_cells.py)."""
    by_row: dict[int, list[str]] = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(f"{error.column}: {error.reason}"
                                                if error.column else error.reason)
    rows = [caseload_csv.canonical(r) for r in rows]
    columns = [c for c in caseload_csv.COLUMNS if any(caseload_csv.cell(r, c) for r in rows)] \
        or list(caseload_csv.REQUIRED_COLUMNS)

    def line(number: int) -> list:
        raw = rows[number - 2] if 0 <= number - 2 < len(rows) else {}
        return [caseload_csv.cell(raw, c) for c in columns] + [number, "; ".join(by_row[number])]
    return csv_cells.to_text(map(line, sorted(by_row)),
                             header=[*columns, *caseload_csv.REJECT_COLUMNS], lineterminator="\r\n")
