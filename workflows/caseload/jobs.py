"""Caseload imports run as background jobs by ``pace worker`` (docs/caseload-import.md).

This module holds the job and what the upload page does with it; ``caseload_job_runner``
is the worker's side.

An upload is checked at once (every row problem, nothing written) and stored with its
sha256 as an ``ImportJob``. Placing 10,000 children takes minutes, longer than a web
request may, so "Import" only queues the job; any ``pace worker`` claims it with a lease
and places the children in batches, each batch one transaction that also moves the job's
progress on. Why batches rather than the command line's single transaction: a worker can
die mid-job and the next one resumes from the last committed batch, progress is visible to
the status page as it happens, and on SQLite other writers (people completing tasks, the
timer sweep) get the database between batches instead of waiting out the whole import.

All-or-nothing is kept by a rehearsal: every child is placed and rolled back first, batch
by batch, and the real pass starts only when every row placed cleanly. Only a change made
between the two passes (the same reference added by hand, a diagram redeployed) can stop
the real pass part-way; the job then says how far it got, and uploading the file again
imports the rest (children already imported from the same file are skipped).

Two workers never run the same job: a batch renews the lease with a conditional UPDATE on
the job row (holder, position) in the batch's own transaction; a worker that lost the job
matches no row and rolls its batch back. A lease that runs out (the worker was killed) lets
another worker take over. Uploading a file already checked, queued or running shows that
job again (a unique ``open_key`` holds its sha256 until the job ends), so a double submit
never queues it twice.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Integer, LargeBinary, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import clock
from engine.models import Base, _now

from workflows.caseload import csv_rows as caseload_csv, importer as caseload_import
from workflows.caseload.csv_rows import RowError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024   # about 50,000 rows of a typical caseload file
ALL, SKIP_INVALID = "all", "skip_invalid"
MODES = (ALL, SKIP_INVALID)
OPEN_STATUSES = ("checked", "queued", "running")
REHEARSING, IMPORTING = "rehearsing", "importing"


class ImportJob(Base):
    """One uploaded caseload file: its check, then its import as a background job."""
    __tablename__ = "import_job"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # checked → queued → running → done | failed; checked → cancelled
    status: Mapped[str] = mapped_column(String(20), default="checked", index=True)
    # sha256 while the job is open, NULL after: a unique index refuses a second open job
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    mode: Mapped[str | None] = mapped_column(String(20))
    started_by: Mapped[str | None] = mapped_column(String(80))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    as_of: Mapped[date | None] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer, default=0)          # non-blank rows in the file
    to_place: Mapped[int] = mapped_column(Integer, default=0)      # rows valid when checked
    phase: Mapped[str | None] = mapped_column(String(20))          # rehearsing | importing
    last_row: Mapped[int] = mapped_column(Integer, default=0)      # spreadsheet row done up to
    done: Mapped[int] = mapped_column(Integer, default=0)          # children handled this phase
    imported: Mapped[int] = mapped_column(Integer, default=0)
    already_imported: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)       # [{row, column, reason, reference}]
    tally: Mapped[dict] = mapped_column(JSON, default=dict)        # where the children landed
    message: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str | None] = mapped_column(String(120))
    lease_expires: Mapped[int | None] = mapped_column(Integer)     # epoch seconds (wall clock)
    attempts: Mapped[int] = mapped_column(Integer, default=0)      # workers that took it on

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def row_errors(self) -> list[RowError]:
        return [RowError(e["row"], e["column"], e["reason"], e.get("reference"))
                for e in self.errors or []]

    @property
    def rejected(self) -> int:
        return len({e["row"] for e in self.errors or []})

    @property
    def valid(self) -> int:
        """Rows that would import, as checked (already imported ones are not counted)."""
        return max(0, self.to_place - self.tally.get("checked_already", 0))

    @property
    def total(self) -> int:
        return self.to_place


class UploadRefused(ValueError):
    """The upload cannot be read as a caseload file; nothing was stored."""


class JobRefused(ValueError):
    """The job cannot do what was asked (already started, nothing to import...)."""


def error_dicts(errors: list[RowError]) -> list[dict]:
    return [{"row": e.row, "column": e.column, "reason": e.reason, "reference": e.reference}
            for e in errors]


# -- upload and check ---------------------------------------------------------------------
def check_upload(database, file_name: str, data: bytes, uploaded_by: str,
                 today: date | None = None) -> tuple[int, bool]:
    """Store and check an upload. Returns (job id, True) for a new one, or the id of the job
    already open for the same file and False. Raises UploadRefused for an unreadable file.

    Parsing and checking 10,000 rows takes seconds; they run between two short transactions,
    never inside one (on SQLite a transaction holds every other writer back)."""
    file_name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1][:255]
    if not file_name.lower().endswith((".csv", ".txt")):
        raise UploadRefused(f"{file_name or 'The file'} is not a CSV file: save the caseload "
                            "from the spreadsheet as 'CSV UTF-8 (comma delimited)' and upload "
                            "the .csv file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: "
                            "split it into several files and upload each")
    if not data.strip():
        raise UploadRefused("The file is empty: the first row must name the columns "
                            "(download the template)")
    try:
        rows = caseload_csv.read_csv(data)
    except caseload_csv.FileError as exc:
        raise UploadRefused(f"{file_name}: {exc}") from None
    sha = caseload_csv.sha256(data)
    with database.transaction() as session:
        found = _open_job(session, sha)
        if found is not None:
            return found, False
        teams, workers, _ = caseload_import.reference_data(session)
    today = today or clock.today()
    children, result = caseload_import.validated(rows, sha, today, file_name, teams, workers)
    with database.transaction() as session:
        kept = caseload_import.screen_existing(session, children, sha, result)
        result.errors.sort(key=lambda e: e.row)
        job = ImportJob(file_name=file_name, sha256=sha, content=data, uploaded_by=uploaded_by,
                        status="checked", open_key=sha, rows=result.rows, as_of=today,
                        to_place=len(kept) + result.already_imported,
                        already_imported=result.already_imported,
                        errors=error_dicts(result.errors),
                        tally={"checked_already": result.already_imported})
        try:
            with session.begin_nested():
                session.add(job)
        except IntegrityError:  # the same file uploaded at the same moment: show that one
            found = _open_job(session, sha)
            if found is None:
                raise
            return found, False
        session.flush()
        return job.id, True


def _open_job(session: Session, sha: str) -> int | None:
    return session.scalar(select(ImportJob.id).where(ImportJob.open_key == sha))


def get(session: Session, job_id: int) -> ImportJob | None:
    return session.get(ImportJob, job_id)


def recent(session: Session, limit: int = 20) -> list[ImportJob]:
    return list(session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def start(session: Session, job_id: int, mode: str, by: str) -> ImportJob:
    """Queue a checked job. Pressing "Import" twice queues it once: a job already queued,
    running or finished is returned unchanged."""
    job = session.get(ImportJob, job_id)
    if job is None:
        raise JobRefused("There is no such upload")
    if job.status != "checked":
        return job
    if mode not in MODES:
        raise JobRefused("Choose how to import: all or nothing, or skip the invalid rows")
    if job.valid == 0 and not job.errors and job.already_imported:
        raise JobRefused("Every child in this file is already in PACE Flow, imported from "
                         "this file or with the same details: there is nothing to import")
    if job.valid == 0:
        raise JobRefused("No row of this file can be imported: fix the rows listed and upload "
                         "the file again")
    if mode == ALL and job.errors:
        raise JobRefused(f"{job.rejected} row(s) have problems, so an all-or-nothing import "
                         "would write nothing: fix them and upload the file again, or skip "
                         "the invalid rows")
    queued = session.execute(update(ImportJob).where(ImportJob.id == job_id,
                                                     ImportJob.status == "checked")
                             .values(status="queued", mode=mode, started_by=by,
                                     queued_at=clock.now())
                             .execution_options(synchronize_session=False)).rowcount
    session.refresh(job)
    if queued != 1 and job.status == "checked":
        raise JobRefused("The upload changed while you looked at it; reload the page")
    return job


def cancel(session: Session, job_id: int) -> ImportJob | None:
    """Discard a checked upload that will not be imported (frees its file for a new upload)."""
    session.execute(update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == "checked")
                    .values(status="cancelled", open_key=None, finished_at=clock.now(),
                            content=b"")
                    .execution_options(synchronize_session=False))
    job = session.get(ImportJob, job_id)
    if job is not None:
        session.refresh(job)
    return job


def rejects_csv(job: ImportJob) -> str:
    rows = caseload_csv.read_csv(job.content) if job.content else []
    return caseload_import.rejects_csv(rows, job.row_errors)


def open_tasks(job: ImportJob) -> list[tuple[str, str, int]]:
    """(task name, role, count) of the tasks the import left open, most first."""
    found = []
    for key, count in (job.tally or {}).get("open_tasks", {}).items():
        task, _, role = key.partition("|")
        found.append((task, role, count))
    return sorted(found, key=lambda t: (-t[2], t[0]))
