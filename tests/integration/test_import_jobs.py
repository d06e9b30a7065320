"""Caseload import jobs run by ``pace worker``: placement, all-or-nothing by rehearsal, two
workers on one job, a worker killed mid-job; on SQLite and PostgreSQL."""
from __future__ import annotations

import contextvars
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import audit, clock
from engine.models import AuditEvent, Subject
from workflows.caseload import (csv_rows as caseload_csv, job_runner as caseload_job_runner,
                                jobs as caseload_jobs, sample as caseload_sample)
from workflows.demo import scotland as demo
from workflows.caseload.jobs import ImportJob

from .caseload import url_with_search_path
from .caseload_example import EXAMPLE, EXPECTED, TODAY, counts, placement


@pytest.fixture
def db(database):
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    return database


def upload(db, data: bytes, name: str = "caseload.csv", by: str = "admin") -> int:
    job_id, _new = caseload_jobs.check_upload(db, name, data, by)
    return job_id


def start(db, job_id: int, mode: str = caseload_jobs.ALL, by: str = "admin") -> None:
    with db.transaction() as session:
        caseload_jobs.start(session, job_id, mode, by)


def run_to_end(db, worker: str = "worker-1", **options) -> list[caseload_job_runner.WorkReport]:
    reports = []
    for _ in range(200):
        reports.append(caseload_job_runner.work(db, worker, seconds=30, **options))
        assert reports[-1].errors == []
        if not reports[-1].more:
            return reports
    raise AssertionError("the job never finished")


def job(db, job_id: int) -> ImportJob:
    with db.transaction() as session:
        return caseload_jobs.get(session, job_id)


def sample_file(count: int, prefix: str = "J") -> bytes:
    rows = caseload_sample.sample_rows(count, TODAY, prefix=prefix)
    columns = list(caseload_csv.COLUMNS)
    lines = [",".join(columns)] + [",".join(row.get(c, "") for c in columns) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_an_upload_is_checked_then_imported_by_the_worker_with_its_uploader_in_history(db, at):
    at(TODAY)
    data = EXAMPLE.read_bytes()
    job_id = upload(db, data, "caseload-example.csv", by="admin")
    checked = job(db, job_id)
    assert (checked.status, checked.rows, checked.valid, checked.errors) == ("checked", 26, 26, [])
    assert counts(db)["Subject"] == 0  # checking writes no child
    start(db, job_id, by="admin")
    run_to_end(db)
    done = job(db, job_id)
    assert (done.status, done.phase, done.imported, done.rejected, done.open_key) == \
        ("done", "importing", 26, 0, None)
    assert (done.tally["overdue"], done.tally["waiting"], done.tally["finished"]) == (23, 2, 1)
    assert placement(db) == EXPECTED
    sha = caseload_csv.sha256(data)
    with db.transaction() as session:
        imported = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "child_imported")).all()
        assert audit.verify(session) is None
    assert len(imported) == 26
    assert {(e.actor, e.data["file"], e.data["sha256"], e.data["by"]) for e in imported} == \
        {("admin", "caseload-example.csv", sha, "admin")}


def test_all_or_nothing_rehearses_and_writes_nothing_when_the_diagram_refuses_a_row(db, at):
    at(TODAY)
    rows = EXAMPLE.read_bytes().decode().splitlines()
    columns = rows[0].split(",")
    cells = dict.fromkeys(columns, "") | {"reference": "EARLY", "name": "Early Review",
                                          "team": "north", "legal_status": "cso_home",
                                          "CSO_START": "2024-01-10", "AIM1_REVIEW": "2024-03-08",
                                          "aim1_recommendation": "vary"}
    early = ",".join(cells[c] for c in columns)
    data = ("\r\n".join(rows[:6] + [early]) + "\r\n").encode()
    job_id = upload(db, data, "mixed.csv")
    assert job(db, job_id).errors == []  # no static check can see it: the diagram's timescale
    start(db, job_id)
    before = counts(db)
    run_to_end(db)
    failed = job(db, job_id)
    assert (failed.status, failed.phase, failed.imported, failed.open_key) == \
        ("failed", "rehearsing", 0, None)
    assert [(e.row, e.column) for e in failed.row_errors] == [(7, "AIM1_REVIEW")]
    assert "Nothing was written" in failed.message
    assert counts(db) == before
    assert "EARLY" in caseload_jobs.rejects_csv(failed).splitlines()[1]
    # the same file may now be uploaded again (the failed job no longer holds it)
    assert upload(db, data, "mixed.csv") != job_id


def test_skip_invalid_imports_the_valid_rows_and_keeps_the_rejects(db, at):
    at(TODAY)
    data = (b"reference,name,team,legal_status,LA_START\r\nK1,Kept,north,accommodated,2026-10-01\r\n"
            b"K2,Bad Team,east,accommodated,2026-10-01\r\n")
    job_id = upload(db, data, "two.csv")
    checked = job(db, job_id)
    assert (checked.valid, checked.rejected) == (1, 1)
    with pytest.raises(caseload_jobs.JobRefused, match="all-or-nothing import would write nothing"):
        start(db, job_id, caseload_jobs.ALL)
    start(db, job_id, caseload_jobs.SKIP_INVALID)
    run_to_end(db)
    done = job(db, job_id)
    assert (done.status, done.imported, done.rejected) == ("done", 1, 1)
    assert caseload_jobs.rejects_csv(done).splitlines()[1].startswith("K2,Bad Team,east")
    with db.transaction() as session:
        assert session.scalars(select(Subject.reference)).all() == ["K1"]


def test_double_submit_queues_one_job_and_reimport_is_a_no_op(db, at):
    at(TODAY)
    data = EXAMPLE.read_bytes()
    first = upload(db, data)
    assert upload(db, data, "renamed.csv") == first  # the same bytes: the open job again
    start(db, first)
    start(db, first)  # pressed twice
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ImportJob)) == 1
        assert caseload_jobs.get(session, first).status == "queued"
    run_to_end(db)
    before = counts(db)
    again = upload(db, data)  # finished: a new upload of the same file is checked afresh
    assert again != first
    checked = job(db, again)
    assert (checked.valid, checked.already_imported, checked.errors) == (0, 26, [])
    with pytest.raises(caseload_jobs.JobRefused, match="already in PACE Flow"):
        start(db, again)
    assert counts(db) == before


def test_two_workers_share_out_jobs_and_never_place_a_child_twice(db, monkeypatch):
    monkeypatch.setattr(caseload_job_runner, "BATCH", 10)
    today = clock.today()
    files = [sample_file(30, prefix=p) for p in ("P", "Q")]
    ids = [upload(db, data, f"{n}.csv") for n, data in enumerate(files)]
    for job_id in ids:
        start(db, job_id, caseload_jobs.SKIP_INVALID)
    failures = []

    def worker(name):
        try:
            for _ in range(100):
                report = caseload_job_runner.work(db, name, seconds=0.5)
                failures.extend(report.errors)
                if not report.more and not caseload_job_runner.pending(db.factory, name):
                    return
                time.sleep(0.01)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            failures.append(repr(exc))

    threads = [threading.Thread(target=contextvars.copy_context().run, args=(worker, name))
               for name in ("worker-a", "worker-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert failures == []
    jobs = [job(db, job_id) for job_id in ids]
    assert [j.status for j in jobs] == ["done", "done"]
    assert sum(j.imported for j in jobs) + sum(j.rejected for j in jobs) == 60
    with db.transaction() as session:
        references = session.scalars(select(Subject.reference)).all()
        events = session.scalars(select(AuditEvent.subject_id).where(
            AuditEvent.event_type == "child_imported")).all()
    assert len(references) == len(set(references)) == sum(j.imported for j in jobs)
    assert len(events) == len(set(events)) == len(references)
    assert {j.worker for j in jobs} <= {"worker-a", "worker-b"}
    assert today == clock.today()


def test_a_worker_that_lost_its_lease_cannot_commit_a_batch(db, at):
    at(TODAY)
    job_id = upload(db, sample_file(12, prefix="L"))
    start(db, job_id, caseload_jobs.SKIP_INVALID)
    assert caseload_job_runner.claim(db.factory, "slow", lease=timedelta(seconds=-1)) == job_id
    assert caseload_job_runner.claim(db.factory, "fast") == job_id  # the slow one's lease ran out
    assert caseload_job_runner.claim(db.factory, "slow") is None    # and the fast one holds it now
    late = caseload_job_runner.WorkReport()  # the slow worker wakes up and carries on regardless
    assert caseload_job_runner._Run(db, job_id, "slow", caseload_job_runner.LEASE, late).run(
        time.monotonic() + 30) is True
    assert (late.batches, counts(db)["Subject"], job(db, job_id).worker) == (0, 0, "fast")
    run_to_end(db, "fast")
    done = job(db, job_id)
    assert (done.status, done.worker, done.attempts) == ("done", "fast", 2)
    assert done.imported + done.rejected == 12 and counts(db)["Subject"] == done.imported


def test_worker_killed_mid_import_resumes_without_duplicating_children(db):
    """kill -9 ``pace worker`` once the import has committed a batch; a second worker takes
    the job over when the lease runs out and finishes it."""
    count = 120
    job_id = upload(db, sample_file(count, prefix="C"))
    start(db, job_id, caseload_jobs.ALL)
    env = dict(os.environ, PACE_DATABASE_URL=url_with_search_path(db))
    command = [sys.executable, "-m", "web.cli.main", "worker", "--once", "--interval", "5",
               "--import-lease", "2"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            state = job(db, job_id)
            if state.phase == "importing" and state.imported > 0:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1].decode()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    killed = job(db, job_id)
    assert killed.status == "running" and 0 < killed.imported < count
    assert counts(db)["Subject"] == killed.imported  # exactly the committed batches
    time.sleep(2.5)  # real: a killed process's lease runs out on the wall clock (job_runner._wall)
    run_to_end(db, "second-worker")
    done = job(db, job_id)
    assert (done.status, done.worker, done.imported, done.rejected) == \
        ("done", "second-worker", count, 0)
    assert done.attempts == 2
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Subject)) == count
        imported = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event_type == "child_imported"))
        assert audit.verify(session) is None
    assert imported == count
