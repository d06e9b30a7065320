"""Benchmark 4: due timers fired per second by 1 and 2 worker processes on PostgreSQL.

Children on a CSO at home wait on the "Review alert" timer (CSO_START + 18 months − 6
weeks); the generator writes thousands of them whose alert is due, then worker processes
run ``engine.sweeper.fire_due_timers`` as ``pace worker`` does (on PostgreSQL up to
``sweeper.BATCH`` children per transaction, their locks taken with SKIP LOCKED and their
rows written by one flush; on SQLite one child per transaction), each for a bounded time.
Each firing loads the workflow, fires the timer, opens "Schedule Aim 1 review" (work item,
audit events, the alert notification) and saves. Baseline: the same timer fired in memory by the engine's
runtime objects (deserialize, refresh timers, engine steps, serialize), no database.
"""
from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta

from sqlalchemy import func, select

from engine import clock, serialization, sweeper
from engine.models import Timer

from . import generator
from .common import TODAY, Context, Figure, open_database, summary, timed_loop
from .journeys import Journey, at

TARGET_PER_S = 1000.0
CSO_START = TODAY - timedelta(days=600)   # alert due about 100 days before TODAY


def cso_templates(ctx: Context) -> list:
    if "cso_waiting" not in ctx.cache:
        journey = Journey("cso", CSO_START, 1, CSO_START)
        ctx.cache["cso_waiting"] = generator.build_templates([(journey, 1.0)], workdir=ctx.workdir)
    return ctx.cache["cso_waiting"]


def _worker(url, connect_args, seconds, chunk, barrier, results):
    from workflows.app import Database
    database = Database.connect(url, connect_args=connect_args) if connect_args else Database.connect(url)
    clock.set_now(at(TODAY, 6))
    fired, errors = 0, []
    barrier.wait()
    start = time.time()
    while time.time() - start < seconds:
        report = sweeper.SweepReport()
        seen = sweeper.fire_due_timers(database.factory, database.runtime, report, limit=chunk)
        fired += report.timers_fired
        errors += report.errors
        if not seen:
            break  # nothing due any more
    end = time.time()
    database.engine.dispose()
    results.put((fired, start, end, errors[:3]))


def run_workers(bench_db, workers: int, seconds: float, chunk: int = 250) -> tuple[int, float, list]:
    # ``chunk``: children one call may try. ``pace worker`` walks every due timer in one
    # call; a bounded chunk keeps the run bounded in time, and a large one keeps each
    # worker walking forward (a new call starts again at the oldest due timer, which the
    # other worker may hold).
    bench_db.database.engine.dispose()  # no pooled connection crosses the fork
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(workers), context.Queue()
    procs = [context.Process(target=_worker, args=(bench_db.url, bench_db.connect_args, seconds,
                                                   chunk, barrier, results)) for _ in range(workers)]
    for p in procs:
        p.start()
    found = [results.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    fired = sum(f[0] for f in found)
    wall = max(f[2] for f in found) - min(f[1] for f in found)
    return fired, wall, [e for f in found for e in f[3]]


def in_memory_baseline(ctx: Context, runtime, seconds: float) -> float:
    """Timers fired per second without a database: deserialize, fire, serialize."""
    from engine import registry
    from engine.models import ProcessModel
    from workflows.vocabulary import CSO_HOME
    template = cso_templates(ctx)[0]
    state = template.rows["process_instance"][0]["state"]
    with open_database("sqlite", ctx.workdir) as bench_db:
        generator.prepare_database(bench_db.database)
        with bench_db.database.transaction() as session:
            model = session.scalars(select(ProcessModel).where(ProcessModel.process_id == CSO_HOME)
                                    .order_by(ProcessModel.version.desc())).first()
            loaded = registry.load(model)
    clock.set_now(at(TODAY, 6))
    try:
        def fire():
            wf = serialization.loads(state, loaded.spec, loaded.subprocess_specs)
            wf.script_engine = runtime.script_engine
            runtime.step(wf)
            serialization.dumps(wf)
        times = timed_loop(fire, seconds=seconds, max_runs=2000, warmup=10)
    finally:
        clock.set_now(None)
    return 1000 / summary(times)["mean"]


def run(ctx: Context) -> None:
    seconds = 3.0 if ctx.quick else 15.0
    children = 400 if ctx.quick else 20_000  # two workers must not run out within the time (860/s x 15 s)
    backends = [b for b in ctx.backends if b == "postgres"]
    plans = [("postgres", 1), ("postgres", 2)] if backends else []
    if "sqlite" in ctx.backends:
        plans.append(("sqlite", 1))
    if not backends:
        ctx.add(Figure("4 timers", "PostgreSQL workers", None, "/s", note="skipped: no PostgreSQL"))
    baseline = None
    for backend, workers in plans:
        with open_database(backend, ctx.workdir, pool_size=5) as bench_db:
            generator.prepare_database(bench_db.database)
            generator.generate(bench_db.database, cso_templates(ctx), children, seed=11,
                               teams=generator.team_codes(8), reference_prefix="W")
            if baseline is None:
                baseline = in_memory_baseline(ctx, bench_db.database.runtime, seconds / 3)
            fired, wall, errors = run_workers(bench_db, workers, seconds)
            with bench_db.database.transaction() as session:
                left = session.scalar(select(func.count()).select_from(Timer).where(
                    Timer.fire_at <= at(TODAY, 6)))
        rate = fired / wall if wall else 0.0
        per = 1 if backend == "sqlite" else sweeper.BATCH
        note = (f"{fired:,} fired in {wall:.1f} s, {left:,} still due; up to {per} "
                f"child{'ren' if per > 1 else ''} per transaction")
        if errors:
            note += f"; errors: {errors[0]}"
        ctx.add(Figure("4 timers", f"{workers} worker process{'es' if workers > 1 else ''}, {backend}",
                       rate, "/s", baseline=baseline, baseline_name="in memory, no database",
                       target=f"≥ {TARGET_PER_S:,.0f}/s" if backend == "postgres" else "",
                       met=rate >= TARGET_PER_S if backend == "postgres" else None, note=note))
