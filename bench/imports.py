"""Caseload import: 10,000 rows (quick: 1,000) through the background job the upload page
queues, on each backend, as ``pace worker`` runs it.

Baselines, measured in the same run on the same database: the check alone (parse, validate
and screen every row: what the upload page does before anything is written), and starting
one child on its process through the runtime (register + start, no earlier steps), the
least any import of a child can cost. The big run uses "skip the invalid rows" (one pass);
a smaller all-or-nothing run shows what its rehearsal adds.
"""
from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

from engine import clock
from workflows.caseload import (job_runner as caseload_job_runner, jobs as caseload_jobs,
                                sample as caseload_sample)
from workflows.children import records as children
from workflows.demo import scotland as demo
from workflows.process_models.bundled import deploy_bundled

from . import common

ROWS, QUICK_ROWS = 10_000, 1_000
# Bounds on the import job's time (about 8 minutes for 10,000 rows on an idle 2-core
# machine); a run stopped by its bound reports the rows it reached and their rate.
BOUND, QUICK_BOUND = 45 * 60, 8 * 60
REHEARSED, QUICK_REHEARSED = 300, 100
STARTS = 100


def _file(rows: list[dict]) -> bytes:
    columns = sorted({c for row in rows for c in row})
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _run_job(database, data: bytes, name: str, mode: str, bound: float
             ) -> tuple[float, float, dict]:
    """(seconds to check, seconds to import, job figures) for one upload."""
    started = time.perf_counter()
    job_id, _ = caseload_jobs.check_upload(database, name, data, "admin")
    checked = time.perf_counter() - started
    with database.transaction() as session:
        caseload_jobs.start(session, job_id, mode, "admin")
    started = time.perf_counter()
    while time.perf_counter() - started < bound:
        report = caseload_job_runner.work(database, "bench-worker", seconds=30)
        if report.errors:
            raise RuntimeError("; ".join(report.errors))
        if not report.more:
            break
    seconds = time.perf_counter() - started
    with database.transaction() as session:
        job = caseload_jobs.get(session, job_id)
        figures = {"status": job.status, "imported": job.imported, "rejected": job.rejected,
                   "done": job.done, "phase": job.phase, "to_place": job.to_place,
                   "message": job.message, "tally": dict(job.tally)}
    if figures["status"] not in ("done", "running"):
        raise RuntimeError(f"the import job ended {figures['status']}: {figures['message']}")
    return checked, seconds, figures


def _start_children(database, count: int) -> float:
    """Milliseconds per child registered and started (no earlier steps), committed each."""
    start = common.TODAY - timedelta(days=30)
    times = []
    for number in range(count):
        clock.set_now(start)
        began = time.perf_counter()
        with database.transaction() as session:
            child = children.register_child(session, f"B{number:06d}", "Baseline Child", "north",
                                            "bench")
            children.accommodate(session, database.runtime, child, start, "bench")
        times.append((time.perf_counter() - began) * 1000)
    clock.set_now(None)
    return common.summary(times)["p50"]


def run(ctx: common.Context) -> None:
    rows_wanted = QUICK_ROWS if ctx.quick else ROWS
    rehearsed = QUICK_REHEARSED if ctx.quick else REHEARSED
    bound = QUICK_BOUND if ctx.quick else BOUND
    for backend in ctx.backends:
        with common.open_database(backend, ctx.workdir) as bench_db:
            database = bench_db.database
            database.migrate()
            with database.transaction() as session:
                deploy_bundled(session)
                demo.ensure_users(session, actor="bench")
            clock.set_now(common.TODAY)
            try:
                big = _file(caseload_sample.sample_rows(rows_wanted, common.TODAY, prefix="I"))
                small = _file(caseload_sample.sample_rows(rehearsed, common.TODAY, prefix="R",
                                                          seed=7))
                checked, seconds, job = _run_job(database, big, "caseload.csv", "skip_invalid",
                                                 bound)
                check_r, seconds_r, job_r = _run_job(database, small, "small.csv", "all", bound)
            finally:
                clock.set_now(None)
            start_ms = _start_children(database, STARTS)
            per_child = 1000 * seconds / max(1, job["done"])
            finished = job["status"] == "done"
            ctx.add(common.Figure(
                "import", f"{rows_wanted:,} rows imported by the job, {backend}"
                + ("" if finished else f" (stopped at the {bound // 60} min bound after "
                                       f"{job['done']:,} rows)"), seconds, "s",
                target="10,000 rows in well under an hour",
                met=finished and seconds < 3600 * rows_wanted / ROWS,
                note=f"{job['done'] / seconds:.1f} rows/s; {job['imported']} imported, "
                     f"{job['rejected']} rejected; {job['tally'].get('steps_completed', 0)} "
                     f"earlier steps and {job['tally'].get('timers_fired', 0)} timers replayed"))
            ctx.add(common.Figure(
                "import", f"per child imported, {backend}", per_child, "ms",
                baseline=start_ms, baseline_name="start one child (register + start, p50)",
                note=f"{job['tally'].get('steps_completed', 0) / max(1, job['imported']):.1f} "
                     "steps per child"))
            ctx.add(common.Figure(
                "import", f"check of {rows_wanted:,} rows before import, {backend}",
                rows_wanted / checked, "rows/s", baseline=job["done"] / seconds,
                baseline_name="import rows/s",
                note=f"{checked:.1f} s: the upload page's wait (read, validate, screen)"))
            ctx.add(common.Figure(
                "import", f"all-or-nothing (rehearsal + import) of {rehearsed} rows, {backend}",
                1000 * seconds_r / max(1, job_r["imported"] or job_r["done"]), "ms/child",
                baseline=per_child, baseline_name="skip-invalid ms/child",
                note=f"{seconds_r:.1f} s; the rehearsal places every child once and rolls back"))
