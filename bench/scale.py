"""Benchmarks 2, 3 and part of 5 at national scale: queue page, aim measures, stored bytes.

One database per backend is grown to each size in turn (10k, then 100k children) with
the generator; children sit in teams of about 250 (a council team's caseload), so a team
queue is what one team leader sees. At each size:

* queue page: ``engine.queues.list_work`` as the web team queue calls it (role + team,
  unassigned, first page of 25, sorted by due date, with its total count), one
  transaction per request; baseline: reading one work item by primary key. Also the
  service-wide queue of a role held without a team (independent chair: every team).
* at the largest size, aim measures 1–3 (``measure_data.load_episodes`` + ``measures.measure``)
  and stage delays (``stage_delays.intervals`` + ``summarise``); baseline: fetching the same
  milestone rows as plain tuples.
* at the largest size, stored bytes per child, per instance state and per audit event.
"""
from __future__ import annotations

import importlib
import random
import time

from sqlalchemy import func, select, text

from engine.models import AuditEvent, ProcessInstance, WorkItem
from engine.queues import QueueFilter, list_work

from . import generator
from .common import TODAY, Context, Figure, open_database, summary, timed_loop

TEAM_SIZE = 250
QUEUE_TARGET_MS = 50.0
MEASURES_TARGET_S = 1.0


def sizes(ctx: Context) -> list[int]:
    return [5_000] if ctx.quick else [10_000, 100_000]


def grow(database, templates, have: int, want: int, progress=None) -> float:
    """Add children in new teams of ~250 until ``want``; returns seconds spent."""
    first, last = have // TEAM_SIZE, want // TEAM_SIZE
    teams = generator.team_codes(last)[first:]
    made = generator.generate(database, templates, want - have, teams=teams, seed=want,
                              reference_prefix=f"N{want // 1000}K", progress=progress)
    return made.seconds


def queue_bench(ctx: Context, database, backend: str, size: int) -> None:
    seconds, runs = (2.0, 100) if ctx.quick else (8.0, 400)
    rng = random.Random(size)
    teams = generator.team_codes(size // TEAM_SIZE)
    with database.transaction() as session:
        ids = list(session.scalars(select(WorkItem.id).order_by(func.random()).limit(500)))

    def team_page():
        role = rng.choice(("team_leader", "social_worker"))
        query = QueueFilter(unassigned=True, roles=(role,), teams=(rng.choice(teams),))
        with database.transaction() as session:
            list_work(session, query, TODAY, sort="due", page=1, per_page=25)

    def service_page():
        query = QueueFilter(unassigned=True, roles=("independent_chair",), teams=None)
        with database.transaction() as session:
            list_work(session, query, TODAY, sort="due", page=1, per_page=25)

    def by_key():
        with database.transaction() as session:
            session.get(WorkItem, rng.choice(ids))

    base = summary(timed_loop(by_key, seconds=seconds / 4, max_runs=runs, warmup=10))
    team = summary(timed_loop(team_page, seconds=seconds, max_runs=runs, warmup=10))
    wide = summary(timed_loop(service_page, seconds=seconds / 2, max_runs=runs // 2, warmup=3))
    with database.transaction() as session:
        open_items = session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.status.in_(("ready", "claimed"))))
        chair = list_work(session, QueueFilter(unassigned=True, roles=("independent_chair",)),
                          TODAY, per_page=1).total
    label = f"{size // 1000}k children"
    ctx.add(Figure("2 queue", f"team queue p95, {label}, {backend}", team["p95"], "ms",
                   baseline=base["p95"], baseline_name="work item by key p95",
                   target=f"p95 < {QUEUE_TARGET_MS:.0f} ms", met=team["p95"] < QUEUE_TARGET_MS,
                   note=f"p50 {team['p50']:.2f} ms; {len(teams)} teams of ~{TEAM_SIZE}; "
                        f"{open_items:,} open work items"))
    ctx.add(Figure("2 queue", f"service-wide chair queue p95, {label}, {backend}", wide["p95"], "ms",
                   baseline=base["p95"], baseline_name="work item by key p95",
                   target=f"p95 < {QUEUE_TARGET_MS:.0f} ms", met=wide["p95"] < QUEUE_TARGET_MS,
                   note=f"p50 {wide['p50']:.2f} ms; counts and sorts {chair:,} open chair tasks"))


def measures_available() -> str | None:
    for name in ("workflows.measures", "workflows.measure_data", "workflows.aims",
                 "workflows.stage_delays"):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            return f"{name} is missing ({exc})"
    return None


def measures_bench(ctx: Context, database, backend: str, size: int) -> None:
    missing = measures_available()
    if missing:
        ctx.add(Figure("3 measures", f"aims 1-3, {backend}", None, "s",
                       note=f"skipped: {missing}"))
        return
    from workflows import aims, measure_data, measures, stage_delays
    from workflows.vocabulary import CSO_HOME, PERMANENCE
    process = {1: CSO_HOME, 2: PERMANENCE, 3: PERMANENCE}
    runs = 2 if size <= 10_000 else 1
    with database.transaction() as session:
        settings = aims.load(session)

    split: dict[int, tuple[float, float]] = {}

    def one_aim(aim: int):
        start = time.perf_counter()
        with database.transaction() as session:
            episodes = measure_data.load_episodes(session, process[aim], codes=measures.AIM_CODES[aim])
        loaded = time.perf_counter()
        result = measures.measure(episodes, settings[aim], TODAY)
        split[aim] = (loaded - start, time.perf_counter() - loaded)
        return result

    def raw_rows(aim: int):
        from engine.models import Milestone
        with database.transaction() as session:
            return session.execute(select(Milestone.instance_id, Milestone.code, Milestone.occurrence,
                                          Milestone.actual_date, Milestone.model_version, Milestone.data)
                                   .where(Milestone.process_id == process[aim],
                                          Milestone.actual_date.is_not(None),
                                          Milestone.code.in_(measures.AIM_CODES[aim]))).all()

    def delays():
        with database.transaction() as session:
            episodes = measure_data.load_episodes(session, PERMANENCE)
        stages = stage_delays.intervals(episodes)
        return stage_delays.summarise(stages), stage_delays.by_cohort(stages, "month")

    def best(fn, *args):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            result = fn(*args)
            times.append(time.perf_counter() - start)
        return min(times), result

    total = 0.0
    for aim in (1, 2, 3):
        seconds, result = best(one_aim, aim)
        raw, rows = best(raw_rows, aim)
        total += seconds
        ctx.add(Figure("3 measures", f"aim {aim}, {size // 1000}k children, {backend}", seconds, "s",
                       baseline=raw, baseline_name="fetching its milestone rows",
                       target=f"< {MEASURES_TARGET_S:.0f} s", met=seconds < MEASURES_TARGET_S,
                       note=f"{len(rows):,} milestone rows; load_episodes {split[aim][0]:.2f} s + "
                            f"measure {split[aim][1]:.2f} s (last run); headline {_pct(result.headline)}"))
    ctx.add(Figure("3 measures", f"aims 1-3 together, {size // 1000}k children, {backend}", total, "s",
                   target=f"< {MEASURES_TARGET_S:.0f} s", met=total < MEASURES_TARGET_S,
                   note=f"best of {runs}" if runs > 1 else "one run"))
    seconds, (stats, _cohorts) = best(delays)
    ctx.add(Figure("3 measures", f"stage delays, {size // 1000}k children, {backend}", seconds, "s",
                   target=f"< {MEASURES_TARGET_S:.0f} s", met=seconds < MEASURES_TARGET_S,
                   note=f"{len(stats)} stages, overall and by month cohort"))


def _pct(value) -> str:
    return "none" if value is None else f"{value:.1f}%"


def storage(ctx: Context, database, backend: str, size: int) -> None:
    with database.transaction() as session:
        instances = session.scalar(select(func.count()).select_from(ProcessInstance))
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        if database.engine.dialect.name == "postgresql":
            state_raw, state_disk = session.execute(text(
                "SELECT avg(octet_length(state)), avg(pg_column_size(state)) FROM process_instance "
                "WHERE status = 'completed'")).one()
            event_row = session.scalar(text("SELECT avg(pg_column_size(a.*)) FROM audit_event a"))
            total = session.scalar(text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"))
            ctx.add(Figure("5 bytes", f"finished instance state on disk (TOAST-compressed), {backend}",
                           float(state_disk) / 1024, "KB", baseline=float(state_raw) / 1024,
                           baseline_name="its JSON text", target="≤ 30 KB",
                           met=float(state_disk) / 1024 <= 30))
            ctx.add(Figure("5 bytes", f"audit event row on disk, {backend}", float(event_row), "B",
                           note=f"{events / size:.1f} events per child"))
        else:
            total = session.scalar(text("SELECT page_count * page_size FROM pragma_page_count(), "
                                        "pragma_page_size()"))
    ctx.add(Figure("5 bytes", f"whole database per child incl. indexes, {size // 1000}k, {backend}",
                   float(total) / size / 1024, "KB",
                   note=f"{instances:,} instances, {events:,} audit events"))


def run(ctx: Context, want_queue: bool = True, want_measures: bool = True,
        want_storage: bool = True) -> None:
    templates = ctx.cache["templates"]
    for backend in ctx.backends:
        with open_database(backend, ctx.workdir) as bench_db:
            database = bench_db.database
            generator.prepare_database(database)
            have = 0
            for size in sizes(ctx):
                seconds = grow(database, templates, have, size)
                ctx.add(Figure("generator", f"grow {have // 1000}k → {size // 1000}k children, {backend}",
                               seconds, "s", note=f"{1000 * seconds / (size - have):.2f} ms per child "
                                                  "(clone, re-hash, insert, ANALYZE)"))
                have = size
                if want_queue:
                    queue_bench(ctx, database, backend, size)
            largest = sizes(ctx)[-1]
            if want_measures:
                measures_bench(ctx, database, backend, largest)
            if want_storage:
                storage(ctx, database, backend, largest)
