"""Benchmark 1: one task completion through the full stack vs bare SpiffWorkflow.

Full stack: one transaction as a request makes it — read the user, ``Runtime.complete``
(load the instance row, deserialize, validate the form, run the task and engine steps,
update work items, milestones and timers, serialize, save with the version check, append
the audit events and the notifications derived from them) and commit.

Baseline, in the same process: SpiffWorkflow alone completing the same task of the same
diagram (``bpmn/permanence_journey`` parsed with ``SpiffBpmnParser``), with a deserialize +
serialize round trip through ``BpmnWorkflowSerializer`` (the spec embedded, as SpiffWorkflow
stores it by default), timed in turns with the full stack (``interleaved``). A second,
informational baseline uses the engine's spec-less
serializer (``engine.serialization``) so the ratio can be split between "our converter" and
"everything around it".

The database's share: other completions are run through the full stack with their
statements recorded and rolled back, then those statements are sent again through the
driver's own connection (``driver_replay``), also in turns with the baseline. What that
costs is a floor no code above the driver can go under: on PostgreSQL it is each
statement's round trip to the server.
"""
from __future__ import annotations

import cProfile
import io
import json
import pstats
import random
import statistics
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine import clock, serialization
from engine.models import UserAccount, WorkItem
from workflows import sample_answers
from workflows.engine_config import BPMN_DIR

from . import generator
from .common import TODAY, Context, Figure, open_database, summary, timed_loop
from .journeys import Journey, at

TASK = "planning_meeting"
TARGET_RATIO = 1.5


def task_data() -> dict:
    schema = json.loads((BPMN_DIR / "permanence_journey" / "forms" / f"{TASK}.schema.json").read_text())
    return sample_answers.fill(schema, TODAY + timedelta(days=1), random.Random(1))


# -- baseline: SpiffWorkflow alone ---------------------------------------------------------
def bare_spiff_steps() -> dict:
    """The baseline's steps: "spiff" (SpiffWorkflow's own round trip), "engine" (the
    engine's spec-less one) and "in_memory" (a function of a fresh copy of the workflow,
    ``fresh``, completing the task with no round trip)."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_DIR / "permanence_journey" / "permanence_journey.bpmn"))
    spec = parser.get_spec("permanence_journey")
    subprocesses = parser.get_subprocess_specs("permanence_journey")
    wf = BpmnWorkflow(spec, subprocesses)
    wf.get_tasks(state=TaskState.READY)[0].data.update({"la_start": TODAY.isoformat()})
    wf.do_engine_steps()
    data = task_data()
    default = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    stored = {"spiff": default.serialize_json(wf), "engine": serialization.dumps(wf)}

    def complete(loaded):
        task = loaded.get_tasks(state=TaskState.READY, manual=True)[0]
        assert task.task_spec.bpmn_id == TASK
        task.data.update(data)
        task.run()
        loaded.do_engine_steps()
        return loaded

    def spiff_round_trip():
        default.serialize_json(complete(default.deserialize_json(stored["spiff"])))

    def engine_round_trip():
        serialization.dumps(complete(serialization.loads(stored["engine"], spec, subprocesses)))

    return {"spiff": spiff_round_trip, "engine": engine_round_trip, "in_memory": complete,
            "fresh": lambda: default.deserialize_json(stored["spiff"])}


def bare_spiff(steps: dict, seconds: float, runs: int) -> dict[str, list[float]]:
    """Each of ``bare_spiff_steps`` timed alone: milliseconds per run."""
    found = {"spiff": timed_loop(steps["spiff"], seconds=seconds, max_runs=runs, warmup=20),
             "engine": timed_loop(steps["engine"], seconds=seconds, max_runs=runs, warmup=20)}
    loaded = iter([steps["fresh"]() for _ in range(min(runs, 300))])
    found["in_memory"] = timed_loop(lambda: steps["in_memory"](next(loaded)), seconds=seconds / 2,
                                    max_runs=min(runs, 300) - 10, warmup=10)
    return found


def interleaved(full_step, base_step, runs: int, block: int = 25,
                warmup: int = 20) -> tuple[list[float], list[float], list[float]]:
    """The full stack and the baseline timed in turns of ``block`` runs each, until
    ``runs`` of the full stack: (full stack ms, baseline ms, each turn's ratio of medians).
    This machine's speed drifts by tens of percent within minutes (other tenants of the
    host), so a baseline timed once, minutes before, can move a ratio by as much as the
    work it measures; taken in turns, both see the same machine."""
    for _ in range(warmup):
        full_step()
        base_step()
    full, base, ratios = [], [], []
    while len(full) < runs:
        base_turn = timed_loop(base_step, seconds=float("inf"), max_runs=block)
        full_turn = timed_loop(full_step, seconds=float("inf"), max_runs=min(block, runs - len(full)))
        ratios.append(statistics.median(full_turn) / statistics.median(base_turn))
        full += full_turn
        base += base_turn
    return full, base, ratios


# -- the database's share: the completion's own statements through the bare driver ---------
def captured_statements(database, items: list[int], user_id: int) -> list[list[tuple]]:
    """Each item's completion run through the full stack and rolled back, as the statements
    it sent (statement, parameters, executemany?), ``BEGIN`` included where it is one."""
    data, found, listening = task_data(), [], []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if listening:
            listening[-1].append((statement, parameters, executemany))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        for item_id in items:
            listening.append([])
            session = database.factory()
            try:
                user = session.get(UserAccount, user_id)
                database.runtime.complete(session, item_id, data, user)
                session.flush()
            finally:
                session.rollback()
                session.close()
            found.append(listening.pop())
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    return found


def driver_replay(database, captured: list[list[tuple]]):
    """(step, per-statement times, close): ``step()`` sends the next captured completion's
    statements through the driver's own connection (no SQLAlchemy, no SpiffWorkflow), reads
    what they return and rolls back: what the database and its driver alone cost a
    completion (without its commit), a floor under the full stack."""
    raw = database.engine.raw_connection()
    driver = raw.driver_connection
    per_statement: dict[str, list[float]] = {}
    # Everything but sending is settled here, outside the timed step: how each statement is
    # sent (one parameter set sent the executemany way goes by execute) and its label.
    queue = iter([[(statement, parameters, many and not isinstance(parameters, dict),
                    per_statement.setdefault(" ".join(statement.split()[:4]), []))
                   for statement, parameters, many in completion] for completion in captured])

    def step():
        cursor = driver.cursor()
        try:
            for statement, parameters, many, times in next(queue):
                start = time.perf_counter()
                (cursor.executemany if many else cursor.execute)(statement, parameters)
                if cursor.description:
                    cursor.fetchall()
                times.append((time.perf_counter() - start) * 1000)
        finally:
            cursor.close()
            if database.engine.dialect.name == "sqlite":
                driver.execute("ROLLBACK")  # BEGIN IMMEDIATE was among the statements
            else:
                driver.rollback()

    return step, per_statement, raw.close


# -- the full stack ------------------------------------------------------------------------
def fresh_start_templates(ctx: Context, team: str = generator.TEMPLATE_TEAM) -> list:
    """Children accommodated "today" with their planning meeting open (one template)."""
    key = ("fresh", team)
    if key not in ctx.cache:
        journey = Journey("adoption", TODAY, 1, TODAY - timedelta(days=1))
        ctx.cache[key] = generator.build_templates([(journey, 1.0)], team=team, workdir=ctx.workdir)
    return ctx.cache[key]


def prepare(bench_db, ctx: Context, targets: int, background: int) -> tuple[list[int], int]:
    """A database with ``background`` children at every stage plus ``targets`` children whose
    planning meeting is open; returns those work item ids and the completing user's id."""
    database = bench_db.database
    generator.prepare_database(database)
    if background and "templates" in ctx.cache:
        generator.generate(database, ctx.cache["templates"], background, seed=7,
                           teams=generator.team_codes(4), analyze=False)
    made = generator.generate(database, fresh_start_templates(ctx), targets, seed=8,
                              teams=generator.team_codes(4), reference_prefix="P")
    with database.transaction() as session:
        items = list(session.scalars(select(WorkItem.id).where(
            WorkItem.subject_id.in_(made.subject_ids), WorkItem.task_name == TASK,
            WorkItem.status == "ready").order_by(WorkItem.id)))
        user_id = session.scalar(select(UserAccount.id).where(UserAccount.username == generator.BENCH_USER))
    return items, user_id


def completer(database, items: list[int], user_id: int):
    data = task_data()
    queue = iter(items)

    def step():
        item_id = next(queue)
        with database.transaction() as session:
            user = session.get(UserAccount, user_id)
            database.runtime.complete(session, item_id, data, user)
    return step


def run(ctx: Context) -> None:
    seconds, runs = (2.0, 100) if ctx.quick else (12.0, 600)
    steps = bare_spiff_steps()  # the diagram parsed once, for the figures and the turns
    bare = bare_spiff(steps, seconds / 2, runs)
    base = summary(bare["spiff"])
    ctx.add(Figure("1 completion", "bare SpiffWorkflow, in memory (no round trip)",
                   summary(bare["in_memory"])["p50"], "ms", note="p50; DESIGN.md says 0.22 ms"))
    ctx.add(Figure("1 completion", "bare SpiffWorkflow + serializer round trip (baseline), p50",
                   base["p50"], "ms", note=f"mean {base['mean']:.2f} ms; DESIGN.md says 0.92 ms"))
    ctx.add(Figure("1 completion", "bare SpiffWorkflow + engine's spec-less round trip, p50",
                   summary(bare["engine"])["p50"], "ms", baseline=base["p50"],
                   baseline_name="bare round trip"))
    floor_runs = min(runs, 200)
    for backend in ctx.backends:
        with open_database(backend, ctx.workdir) as bench_db:
            items, user_id = prepare(bench_db, ctx, runs + 40 + floor_runs + 20,
                                     0 if ctx.quick else 2000)
            full_items, floor_items = items[:runs + 40], items[runs + 40:]
            clock.set_now(at(TODAY + timedelta(days=1)))
            try:
                step = completer(bench_db.database, full_items, user_id)
                times, base_times, ratios = interleaved(step, steps["spiff"], runs)
                captured = captured_statements(bench_db.database, floor_items, user_id)
            finally:
                clock.set_now(None)
            replay, per_statement, close = driver_replay(bench_db.database, captured)
            try:
                floor, floor_base, _ = interleaved(replay, steps["spiff"], floor_runs, warmup=10)
            finally:
                close()
        # medians: other processes on the machine add spikes that a mean would carry
        s, b = summary(times), summary(base_times)
        ratio = s["p50"] / b["p50"]
        ctx.add(Figure("1 completion", f"full stack on {backend}, p50 of {s['n']}", s["p50"], "ms",
                       baseline=b["p50"], baseline_name="bare round trip p50, timed in turns",
                       target=f"≤ {TARGET_RATIO}x", met=ratio <= TARGET_RATIO,
                       note=f"mean {s['mean']:.2f} ms, p95 {s['p95']:.2f} ms, "
                            f"{1000 / s['mean']:.0f} completions/s on one core; in turns of 25 with "
                            f"the baseline: ratio per turn median {statistics.median(ratios):.2f}x "
                            f"({min(ratios):.2f}-{max(ratios):.2f}x over {len(ratios)} turns); "
                            f"against the baseline timed alone above {s['p50'] / base['p50']:.2f}x"))
        ctx.cache.setdefault("completion_ms", {})[backend] = s["mean"]
        f, fb = summary(floor), summary(floor_base)
        slowest = sorted(((statistics.median(v), k) for k, v in per_statement.items()), reverse=True)
        ctx.add(Figure("1 completion", f"its statements alone through the driver on {backend}, "
                                       f"p50 of {f['n']}", f["p50"], "ms",
                       baseline=fb["p50"], baseline_name="bare round trip p50, timed in turns",
                       note=f"{len(captured[0])} statements per completion, sent by the driver's "
                            f"own connection (no SQLAlchemy, no SpiffWorkflow) and rolled back, "
                            f"so no commit; the full stack's p50 is {s['p50'] / f['p50']:.1f}x "
                            f"this; slowest: " + "; ".join(f"{k} {ms:.2f} ms"
                                                           for ms, k in slowest[:3])))


# -- profile of the slowest path -------------------------------------------------------------
PHASES = [  # (label, file suffix, function name); cumulative time inside Runtime.complete
    ("whole transaction (complete + commit)", "bench/completion.py", "step"),
    ("Runtime.complete", "engine/runtime.py", "complete"),
    ("  get_open_with_instance: child lock, item, instance", "engine/work_items.py",
     "get_open_with_instance"),
    ("  load_workflow (row, spec cache, deserialize)", "engine/runtime.py", "load_workflow"),
    ("    serialization.loads", "engine/serialization.py", "loads"),
    ("  form_for + validate (jsonschema)", "engine/runtime.py", "validate"),
    ("  engine steps (refresh timers, do_engine_steps)", "engine/runtime.py", "step"),
    ("  save", "engine/runtime.py", "save"),
    ("    work_items.sync", "engine/work_items.py", "sync"),
    ("    milestones.sync_rows", "engine/milestones.py", "sync_rows"),
    ("    timers.sync", "engine/timers.py", "sync"),
    ("    serialization.dumps", "engine/serialization.py", "dumps"),
    ("  audit.record", "engine/audit/chain.py", "record"),
    ("  flush (engine/writer.py: the rows, by Core statements)", "engine/writer.py", "flush"),
    ("  notifications derived", "engine/notice_derivation.py", "derive_written"),
    ("commit", "sqlalchemy/orm/session.py", "commit"),
    ("SQL executed (all statements)", "sqlalchemy/engine/base.py", "_execute_context"),
]


def phase_times(stats: pstats.Stats, runs: int) -> list[tuple[str, float]]:
    found = []
    for label, suffix, name in PHASES:
        total = sum(ct for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()
                    if func == name and filename.endswith(suffix))
        found.append((label, total * 1000 / runs))
    return found


def profile(ctx: Context, backend: str, runs: int = 200) -> tuple[list[tuple[str, float]], str]:
    """cProfile of ``runs`` full-stack completions; (phases in ms per completion, top table)."""
    with open_database(backend, ctx.workdir) as bench_db:
        items, user_id = prepare(bench_db, ctx, runs + 20, 0)
        clock.set_now(at(TODAY + timedelta(days=1)))
        statements = []
        try:
            step = completer(bench_db.database, items, user_id)
            for _ in range(20):
                step()
            event.listen(bench_db.database.engine, "before_cursor_execute",
                         lambda *args: statements.append(1))
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(runs):
                step()
            profiler.disable()
        finally:
            clock.set_now(None)
    stats = pstats.Stats(profiler)
    # Counts, unlike times, do not move with the machine's load: they compare across runs.
    ctx.add(Figure("profile", f"SQL statements per completion, {backend}", len(statements) / runs,
                   "", note="through a cursor: SQLite's BEGIN IMMEDIATE counts, COMMIT does "
                        "not; the transaction also reads the user"))
    ctx.add(Figure("profile", f"Python function calls per completion, {backend}",
                   stats.total_calls / runs, "", note="cProfile's count"))
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    text = out.getvalue().replace(str(Path(__file__).resolve().parent.parent) + "/", "")
    return phase_times(stats, runs), text
