"""``pace worker``'s side of a caseload import job: claim it, place its children in batches.

Why batches, a lease and a rehearsal: see ``caseload_jobs`` (the job and its upload).
"""
from __future__ import annotations

import bisect
import os
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine import clock
from engine.db import unit_of_work
from engine.errors import Conflict

from workflows.caseload import csv_rows as caseload_csv, importer as caseload_import
from workflows.caseload.csv_rows import ChildRow, RowError
from workflows.caseload.jobs import ALL, IMPORTING, REHEARSING, ImportJob, error_dicts

BATCH = 50                             # children per transaction at most...
BATCH_SECONDS = 1.5                    # ...and a transaction ends once it has run this long
LEASE = timedelta(minutes=5)           # a worker silent this long is presumed dead
# SQLite: a pause after each batch longer than SQLite's longest busy-wait step (100 ms), so
# a request waiting for the database gets it. Without it the worker, writing again at once,
# kept the job page waiting 25 s (measured) though every batch lasted under 2 s.
SQLITE_PAUSE = 0.12


def _wall() -> int:
    """Leases use the machine's clock, not the injectable one: a worker run ``--now`` in
    the past must still see another worker's lease run out."""
    return int(time.time())


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class WorkReport:
    jobs_finished: list[int] = field(default_factory=list)
    batches: int = 0
    children: int = 0
    more: bool = False          # a job is still running: come back without sleeping
    errors: list[str] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        return not (self.batches or self.jobs_finished or self.errors)


def _claimable(worker: str, now: int):
    return or_(ImportJob.status == "queued",
               and_(ImportJob.status == "running",
                    or_(ImportJob.worker == worker, ImportJob.lease_expires < now)))


def claim(factory, worker: str, lease: timedelta = LEASE) -> int | None:
    """Take the oldest queued job, this worker's own running one, or one whose worker died."""
    now = _wall()
    with unit_of_work(factory) as session:
        candidates = session.scalars(select(ImportJob.id).where(_claimable(worker, now))
                                     .order_by(ImportJob.id).limit(5)).all()
        for job_id in candidates:
            taken = session.execute(
                update(ImportJob).where(ImportJob.id == job_id, _claimable(worker, now))
                .values(status="running", worker=worker,
                        lease_expires=now + int(lease.total_seconds()),
                        attempts=ImportJob.attempts + case((ImportJob.worker == worker, 0),
                                                           else_=1))
                .execution_options(synchronize_session=False)).rowcount
            if taken == 1:
                return job_id
    return None


def work(database, worker: str, seconds: float = 30.0, lease: timedelta = LEASE) -> WorkReport:
    """Run import jobs for about ``seconds`` (whole batches), then return to the caller's
    loop so timers are swept between; ``report.more`` says a job is unfinished."""
    deadline = time.monotonic() + seconds
    report = WorkReport()
    while time.monotonic() < deadline:
        job_id = claim(database.factory, worker, lease)
        if job_id is None:
            return report
        try:
            finished = _Run(database, job_id, worker, lease, report).run(deadline)
        except (OperationalError, Conflict) as exc:
            # The database was busy or briefly away: the batch rolled back, the job keeps
            # its place and this worker (or another, once the lease runs out) retries it.
            report.errors.append(f"import job {job_id}: will retry after: {exc}".splitlines()[0])
            return report
        except Exception as exc:  # noqa: BLE001 - a broken job must not stop the worker
            report.errors.append(f"import job {job_id}: {exc}")
            _fail(database, job_id, worker, f"The import stopped on an unexpected error: {exc}. "
                                            "Children imported before it are kept; upload the "
                                            "file again to import the rest.")
            continue
        if not finished:
            report.more = True
            return report
    report.more = pending(database.factory, worker)
    return report


def pending(factory, worker: str) -> bool:
    with unit_of_work(factory) as session:
        return session.scalar(select(ImportJob.id).where(_claimable(worker, _wall()))
                              .limit(1)) is not None


def _fail(database, job_id: int, worker: str, message: str, errors: list[RowError] = ()) -> None:
    with unit_of_work(database.factory) as session:
        job = session.get(ImportJob, job_id)
        if job is None or job.worker != worker or job.status != "running":
            return
        job.errors = _merge(job.errors, errors)
        job.status, job.message, job.open_key = "failed", message, None
        job.finished_at, job.lease_expires = clock.now(), None


def _merge(stored: list[dict], new: list[RowError]) -> list[dict]:
    seen = {(e["row"], e["column"], e["reason"]) for e in stored or []}
    added = [d for d in error_dicts(list(new)) if (d["row"], d["column"], d["reason"]) not in seen]
    return sorted([*(stored or []), *added], key=lambda e: e["row"])


_checked: dict[tuple, tuple[list[ChildRow], list[RowError]]] = {}


def _validated(job_id: int, sha256: str, content: bytes, as_of, teams: dict, workers: dict
               ) -> tuple[list[ChildRow], list[RowError]]:
    """The file's rows checked as of ``as_of``, kept for this worker's next turn at the same
    job while the teams and users are unchanged (re-reading 10,000 rows every turn would
    cost more than a batch)."""
    key = (job_id, sha256, as_of, tuple(sorted(teams.items())), tuple(sorted(workers.items())))
    if key not in _checked:
        _checked.clear()
        _checked[key] = caseload_csv.validate(caseload_csv.read_csv(content), as_of,
                                              teams, workers)
    return _checked[key]


class _Run:
    """One worker's turn at one job: re-check the file, then batches until done or time."""

    def __init__(self, database, job_id: int, worker: str, lease: timedelta, report: WorkReport):
        self.database, self.job_id, self.worker = database, job_id, worker
        self.lease, self.report = int(lease.total_seconds()), report

    def run(self, deadline: float) -> bool:
        with unit_of_work(self.database.factory) as session:
            job = session.get(ImportJob, self.job_id)
            if job.phase is None:
                job.as_of = clock.today()
            as_of = job.as_of
            teams, workers, worker_ids = caseload_import.reference_data(session)
            self.job = _Snapshot.of(job)
            source = (job.id, job.sha256, job.content)
        # outside the transaction: on SQLite it would keep every other writer waiting
        children, static_errors = _validated(*source, as_of, teams, workers)
        rows = [c.row for c in children]
        self.context = caseload_import.ImportContext(
            self.database.runtime, self.job.file_name, self.job.sha256, self.job.uploaded_by,
            caseload_import.import_moment(as_of), worker_ids)
        if not self._begin(children, static_errors):
            return True
        while time.monotonic() < deadline:
            first = bisect.bisect_right(rows, self.job.last_row)
            batch = children[first:first + BATCH]
            if not batch:
                if self.job.phase == REHEARSING:
                    if self._rehearsal_passed():
                        continue  # the import pass starts from the first row
                    return True
                return self._finish()
            step = self._rehearse if self.job.phase == REHEARSING else self._import
            handled = step(batch)
            if not handled:
                return True  # lost the job or it failed
            self.report.batches += 1
            self.report.children += handled
            if self.database.engine.dialect.name == "sqlite":
                time.sleep(SQLITE_PAUSE)
        return False

    # -- phases ------------------------------------------------------------------------
    def _begin(self, children: list[ChildRow], static_errors: list[RowError]) -> bool:
        """First turn: record the check as of today and choose the first phase. Later turns:
        a row that has turned invalid since (a team removed) is reported like any other."""
        job = self.job
        new = [e for e in static_errors if e.row > job.last_row]
        if job.phase is None:
            if job.mode == ALL and static_errors:
                _fail(self.database, self.job_id, self.worker,
                      f"Nothing was written: {len({e.row for e in static_errors})} row(s) have "
                      "problems as of today.", static_errors)
                return False
            phase = REHEARSING if job.mode == ALL else IMPORTING
            return self._update(phase=phase, last_row=0, done=0, to_place=len(children),
                                errors=_merge([], static_errors), imported=0,
                                already_imported=0, tally={})
        merged = _merge(job.errors, new)
        if len(merged) != len(job.errors):
            if job.mode == ALL and job.phase == IMPORTING:
                self._stop_part_way(new)
                return False
            return self._update(errors=merged)
        return True

    def _rehearsal_passed(self) -> bool:
        if self.job.errors:
            _fail(self.database, self.job_id, self.worker,
                  f"Nothing was written: {len({e['row'] for e in self.job.errors})} row(s) "
                  "could not be placed (listed below). Fix them and upload the file again, "
                  "or import with 'skip the invalid rows'.")
            return False
        return self._update(phase=IMPORTING, last_row=0, done=0)

    def _finish(self) -> bool:
        self._update(status="done", open_key=None, finished_at=clock.now(),
                     lease_expires=None, message="")
        self.report.jobs_finished.append(self.job_id)
        return True

    def _rehearse(self, batch: list[ChildRow]) -> int:
        session = caseload_import.import_session(self.database)
        try:
            result, handled = self._place(session, batch)
        finally:
            session.rollback()
            session.close()
        if not self._update(last_row=handled[-1].row, done=self.job.done + len(handled),
                            errors=_merge(self.job.errors, result.errors)):
            return 0
        return len(handled)

    def _import(self, batch: list[ChildRow]) -> int:
        """Place and commit a batch with the job's new position; 0 when the job was lost
        or stopped."""
        session = caseload_import.import_session(self.database)
        try:
            if not self._hold(session):
                session.rollback()
                return 0
            started = time.perf_counter()
            result, handled = self._place(session, batch)
            if result.errors and self.job.mode == ALL:
                session.rollback()
                self._stop_part_way(result.errors)
                return 0
            job = session.get(ImportJob, self.job_id)
            job.last_row, job.done = handled[-1].row, job.done + len(handled)
            job.imported += result.imported
            job.already_imported += result.already_imported
            job.errors = _merge(job.errors, result.errors)
            job.tally = _add_tally(job.tally, result, time.perf_counter() - started)
            session.commit()
            self.job = _Snapshot.of(job)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        return len(handled)

    def _place(self, session: Session, batch: list[ChildRow]
               ) -> tuple[caseload_import.ImportResult, list[ChildRow]]:
        """Place children of ``batch`` in order, each screened against the children already
        here in this transaction, until the batch or BATCH_SECONDS runs out. On SQLite
        every transaction waits for the writer, the job page's read included: a batch
        must stay short however slow the machine. Returns the result and the children
        handled (at least one)."""
        result = caseload_import.ImportResult(self.job.file_name, self.job.sha256,
                                              self.context.moment.date())
        started, handled = time.monotonic(), []
        for child in batch:
            kept = caseload_import.screen_existing(session, [child], self.job.sha256, result)
            caseload_import.place_children(session, self.context, kept, result)
            handled.append(child)
            if time.monotonic() - started > BATCH_SECONDS:
                break
        return result, handled

    def _stop_part_way(self, errors: list[RowError]) -> None:
        imported = self.job.imported
        _fail(self.database, self.job_id, self.worker,
              f"Stopped part-way: {imported} children were imported before a row could not "
              "be placed (listed below), though the rehearsal placed it; something changed "
              "meanwhile. Fix the row and upload the file again: the children already "
              "imported are skipped." if imported else
              "Nothing was written: a row could not be placed (listed below).", errors)

    # -- the job row --------------------------------------------------------------------
    def _hold(self, session: Session) -> bool:
        """Renew the lease, only while this worker holds the job where it left it. On
        PostgreSQL the row stays locked until the batch commits."""
        return session.execute(
            update(ImportJob).where(ImportJob.id == self.job_id, ImportJob.worker == self.worker,
                                    ImportJob.status == "running",
                                    ImportJob.last_row == self.job.last_row,
                                    ImportJob.phase == self.job.phase)
            .values(lease_expires=_wall() + self.lease)
            .execution_options(synchronize_session=False)).rowcount == 1

    def _update(self, **values) -> bool:
        with unit_of_work(self.database.factory) as session:
            if not self._hold(session):
                return False
            job = session.get(ImportJob, self.job_id)
            for key, value in values.items():
                setattr(job, key, value)
            session.flush()
            self.job = _Snapshot.of(job)
        return True


@dataclass(frozen=True)
class _Snapshot:
    """The job's row as this worker last wrote it (no ORM object outlives a transaction)."""
    file_name: str
    sha256: str
    uploaded_by: str
    mode: str
    phase: str | None
    last_row: int
    done: int
    imported: int
    errors: list

    @classmethod
    def of(cls, job: ImportJob) -> "_Snapshot":
        return cls(job.file_name, job.sha256, job.uploaded_by, job.mode, job.phase,
                   job.last_row, job.done, job.imported, list(job.errors or []))


def _add_tally(tally: dict, result: caseload_import.ImportResult, seconds: float) -> dict:
    tally = dict(tally or {})
    open_tasks = Counter(tally.get("open_tasks", {}))
    for (task, role), count in result.open_tasks.items():
        open_tasks[f"{task}|{role}"] += count
    tally["open_tasks"] = dict(open_tasks)
    for key in ("overdue", "waiting", "finished", "steps_completed", "timers_fired"):
        tally[key] = tally.get(key, 0) + getattr(result, key)
    tally["seconds"] = round(tally.get("seconds", 0.0) + seconds, 2)
    return tally
