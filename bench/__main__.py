"""``python -m bench`` (``make bench``): every benchmark, each bounded in time; results to
bench/RESULTS.md. ``--quick`` for a smaller run (5k children, about two minutes on an idle
2-core machine), ``--only`` to pick.

Benchmarks: completion (1), queue (2), measures (3), timers (4), bytes (5), http (6),
profile (where the time of a completion goes), import (caseload CSV import job), slow (slow
clients against gunicorn, alone and behind nginx: bench/slow_clients.py), models (check and
deploy of the largest diagram a process owner may upload: bench/model_checks.py). Each prints its figures with a ratio
against a baseline measured in the same run.
"""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import common

BENCHES = ("completion", "queue", "measures", "timers", "bytes", "http", "audit", "profile",
           "import", "slow", "models")
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
# Benchmarks that take only the context, run in this order:
# (name, module in bench/, figure label, heading).
SIMPLE = (("timers", "timers", "4 timers", "4 timer sweep"),
          ("http", "web_load", "6 http", "6 HTTP under concurrent clients (gunicorn, PostgreSQL)"),
          ("audit", "audit_history", "6 audit", "auditor's timeline of a 10,000-event history"),
          ("import", "imports", "import",
           "caseload import: 10,000 rows (quick: 1,000) through the background job"),
          ("slow", "slow_clients", "slow clients",
           "slow clients: 4 connections sending a byte a second (gunicorn, nginx)"),
          ("models", "model_checks", "models",
           "check and deploy of the largest allowed diagram"))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smaller, shorter runs: 10k children only, fewer repetitions")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHES)}")
    parser.add_argument("--backends", default="sqlite,postgres",
                        help="sqlite, postgres or both (default both)")
    parser.add_argument("--results", default=str(RESULTS),
                        help="where to write the results table ('-' for nowhere)")
    args = parser.parse_args(argv)
    args.only = [b.strip() for b in args.only.split(",") if b.strip()] or list(BENCHES)
    unknown = [b for b in args.only if b not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    return args


def templates(ctx: common.Context) -> None:
    """Templates for the generator: every route, started every 14 (quick: 84) days."""
    from . import generator, journeys
    step = 84 if ctx.quick else 14
    catalogue = journeys.catalogue(common.TODAY, step_days=step)
    start = time.perf_counter()
    ctx.cache["templates"] = generator.build_templates(catalogue, workdir=ctx.workdir,
                                                       processes=os.cpu_count() or 1)
    seconds = time.perf_counter() - start
    mix = generator.stage_mix(ctx.cache["templates"])
    ctx.add(common.Figure("generator", f"templates through the runtime ({len(catalogue)} journeys)",
                          seconds, "s", note=f"{1000 * seconds / len(catalogue):.0f} ms per journey; "
                                             f"{len(mix)} distinct stages"))
    top = ", ".join(f"{stage} {share:.0%}" for stage, share in list(mix.items())[:8])
    ctx.note(f"caseload stage mix (top 8): {top}")


def _stop(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    # SIGTERM (and SIGINT, even when started in the background with it ignored) unwinds
    # normally, so PostgreSQL schemas and temporary files are dropped on the way out.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.perf_counter()
    problem = common.pg_problem() if "postgres" in args.backends else None
    workdir = Path(tempfile.mkdtemp(prefix="pace-bench-"))
    ctx = common.Context(quick=args.quick, backends=list(args.backends), workdir=workdir)
    if problem:
        ctx.backends.remove("postgres")
        ctx.note(f"PostgreSQL not reachable, its benchmarks are skipped: {problem}")
    print(f"PACE Flow benchmarks ({'quick' if args.quick else 'full'}): {', '.join(args.only)} "
          f"on {', '.join(ctx.backends)}; load average {common.load()}", flush=True)
    load_before = common.load()
    profile_result = None
    finished = False
    try:
        if set(args.only) & {"completion", "queue", "measures", "bytes", "http", "profile"}:
            section("templates for the generator")
            attempt(ctx, "generator", templates, ctx)
        if "completion" in args.only:
            from . import completion
            section("1 task completion: full stack vs bare SpiffWorkflow")
            attempt(ctx, "1 completion", completion.run, ctx)
        if set(args.only) & {"queue", "measures", "bytes"}:
            from . import scale
            section("2, 3, 5 at scale: queue page, aim measures, stored bytes")
            attempt(ctx, "2 queue", scale.run, ctx, want_queue="queue" in args.only,
                    want_measures="measures" in args.only, want_storage="bytes" in args.only)
        if "bytes" in args.only:
            from . import storage
            section("5 stored bytes of finished journeys")
            attempt(ctx, "5 bytes", storage.run, ctx)
        for name, module_name, label, title in SIMPLE:
            if name in args.only:
                module = importlib.import_module(f".{module_name}", __package__)
                section(title)
                attempt(ctx, label, module.run, ctx)
        if "profile" in args.only:
            from . import completion
            section("profile: where a full-stack completion spends its time")
            profile_result = {}
            for backend in ctx.backends:
                found = attempt(ctx, "profile", completion.profile, ctx, backend,
                                40 if args.quick else 200)
                if found:
                    profile_result[backend] = found
                    for label, ms in found[0]:
                        print(f"  {backend:8s} {label:55s} {ms:8.2f} ms", flush=True)
        finished = True
    finally:
        elapsed = time.perf_counter() - started
        print(f"\n{'Done' if finished else 'Stopped'} after {elapsed:.0f} s; load average "
              f"{common.load()}", flush=True)
        if finished and args.results != "-":
            from .report import write
            write(Path(args.results), ctx, args, argv, elapsed, load_before, profile_result)
            print(f"Results written to {args.results}")
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def attempt(ctx: common.Context, bench: str, fn, *args, **kwargs):
    """Run one benchmark; a failure is reported as a figure and the others still run."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - shown in the results, with its type
        traceback.print_exc()
        ctx.add(common.Figure(bench, "FAILED", None, "", note=f"{type(exc).__name__}: {exc}"[:300]))
        return None


_STARTED = time.perf_counter()


def section(title: str) -> None:
    print(f"\n== {title} (at {time.perf_counter() - _STARTED:.0f} s)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
