"""Importing a caseload: upload and check a file, start or discard its job, read a job, and
import a file at once (the command line). Administrators only, as placing children is an
administrator's set-up task and a caseload file holds every child's name and history.

The upload page (``web/pages/imports.py``) and ``pace import`` (``web/cli/imports.py``) come
here; the checking, placing and job running are ``workflows.caseload``'s.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from engine.errors import Forbidden, NotFound
from workflows import policy
from workflows.caseload import importer, jobs
from workflows.caseload.jobs import ImportJob
from workflows.policy import Actor


def _may_import(actor: Actor) -> None:
    if not policy.can_import(actor):
        raise Forbidden("Only administrators can import a caseload.")


def upload(database, actor: Actor, file_name: str, data: bytes) -> tuple[int, bool]:
    """Check the file and keep it as a job waiting to be started: (job id, new). The same
    file uploaded again while its import is unfinished gives the existing job (new: False).
    ``UploadRefused`` (400/413) says what is wrong with the file; nothing is stored then."""
    _may_import(actor)
    return jobs.check_upload(database, file_name, data, actor.username)


def job(session: Session, actor: Actor, job_id: int) -> ImportJob:
    _may_import(actor)
    found = jobs.get(session, job_id)
    if found is None:
        raise NotFound("There is no such import.")
    return found


def recent(session: Session, actor: Actor) -> list[ImportJob]:
    _may_import(actor)
    return jobs.recent(session)


def start(session: Session, actor: Actor, job_id: int, mode: str) -> ImportJob:
    """Queue the checked job for ``pace worker`` (``mode``: all rows or the valid ones);
    ``JobRefused`` when it cannot start."""
    job(session, actor, job_id)
    return jobs.start(session, job_id, mode, actor.username)


def cancel(session: Session, actor: Actor, job_id: int) -> ImportJob | None:
    """Discard a job not yet started, or stop a running one at its next batch."""
    job(session, actor, job_id)
    return jobs.cancel(session, job_id)


def import_now(database, actor: Actor, rows: Sequence[dict], *, source: str, sha256: str,
               today: date | None, dry_run: bool, skip_invalid: bool, progress=None):
    """Import the rows in this process, all or nothing (or the valid ones): the command
    line's way, for a file on the server."""
    _may_import(actor)
    return importer.import_rows(database, rows, source=source, sha256=sha256, today=today,
                                imported_by=actor.username, dry_run=dry_run,
                                skip_invalid=skip_invalid, progress=progress)
