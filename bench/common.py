"""What every benchmark shares: databases of its own, timing, figures and the machine."""
from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from engine import scratch_db
from workflows.app import Database

PG_URL = os.environ.get("PACE_BENCH_PG_URL",
                        os.environ.get("PACE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
TODAY = date(2026, 11, 2)  # the bench caseload's "today": fixed, so runs compare
# A folder where the scale benchmarks keep their largest generated database between runs
# (a SQLite file there; a PostgreSQL schema ``bench_keep_<size>``), so that re-running the
# measures benchmark does not spend minutes generating 100k children again. Unset: every
# run starts from an empty database, and drops it after.
KEEP = os.environ.get("PACE_BENCH_KEEP") or None


@dataclass
class Figure:
    bench: str
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def line(self) -> str:
        value = "—" if self.value is None else f"{fmt(self.value)} {self.unit}"
        parts = [f"[{self.bench}] {self.name}: {value}"]
        if self.baseline is not None:
            parts.append(f"baseline {self.baseline_name} {fmt(self.baseline)} {self.unit}")
        if self.ratio is not None:
            parts.append(f"ratio {self.ratio:.2f}x")
        if self.target:
            parts.append(f"target {self.target}: " + {True: "met", False: "NOT met", None: "-"}[self.met])
        if self.note:
            parts.append(self.note)
        return " | ".join(parts)


def fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3f}"


@dataclass
class Context:
    quick: bool
    backends: list[str]
    workdir: Path
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cache: dict = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print("  " + figure.line(), flush=True)
        return figure

    def note(self, text_: str) -> None:
        self.notes.append(text_)
        print(f"  note: {text_}", flush=True)


def pg_problem() -> str | None:
    return scratch_db.pg_problem(PG_URL)


@dataclass
class BenchDatabase:
    backend: str
    database: Database
    url: str
    connect_args: dict

    def connect_again(self, **kwargs) -> Database:
        """A new engine on the same database (for another process or thread pool)."""
        return Database.connect(self.url, connect_args=self.connect_args, **kwargs) \
            if self.connect_args else Database.connect(self.url, **kwargs)


@contextlib.contextmanager
def open_database(backend: str, workdir: Path, **engine_kwargs):
    """A fresh, empty database: a SQLite file, or a schema bench_<random> dropped after.
    Commits wait for the disk, as in production (tests' databases do not)."""
    folder = Path(tempfile.mkdtemp(prefix="sqlite-", dir=workdir)) if backend == "sqlite" else workdir
    with scratch_db.scratch_database(backend, folder, PG_URL, prefix="bench") as where:
        database = Database.connect(where.url, **where.engine_kwargs(), **engine_kwargs)
        try:
            yield BenchDatabase(backend, database, where.url, where.connect_args)
        finally:
            database.engine.dispose()


@contextlib.contextmanager
def kept_database(backend: str, name: str):
    """A database kept under ``KEEP`` between runs (created empty the first time)."""
    if backend == "sqlite":
        folder = Path(KEEP)
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder}/{name}.db"
        database = Database.connect(url)
        try:
            yield BenchDatabase(backend, database, url, {})
        finally:
            database.engine.dispose()
        return
    schema = f"bench_keep_{name}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    args = {"options": f"-csearch_path={schema}"}
    database = Database.connect(PG_URL, connect_args=args)
    try:
        yield BenchDatabase(backend, database, PG_URL, args)
    finally:
        database.engine.dispose()


def forget_kept(backend: str, name: str) -> None:
    """Drop a kept database (a half-generated one is rebuilt from empty)."""
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(KEEP, f"{name}.db{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "bench_keep_{name}" CASCADE'))
    admin.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: list[float]) -> dict:
    return {"n": len(values), "mean": statistics.fmean(values), "p50": percentile(values, 50),
            "p95": percentile(values, 95), "max": max(values)}


def timed_loop(step, *, seconds: float, max_runs: int, warmup: int = 0) -> list[float]:
    """Run ``step()`` until the time or count bound; return each run's milliseconds."""
    for _ in range(warmup):
        step()
    times = []
    deadline = time.perf_counter() + seconds
    while len(times) < max_runs and time.perf_counter() < deadline:
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return times


def machine() -> dict:
    info = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
            "platform": platform.platform()}
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        info["ram"] = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        info["ram"] = "?"
    try:
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                           if line.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "?"
    import sqlite3

    import SpiffWorkflow
    import sqlalchemy
    info["sqlite"] = sqlite3.sqlite_version
    info["sqlalchemy"] = sqlalchemy.__version__
    info["spiffworkflow"] = getattr(SpiffWorkflow, "__version__", None) or _dist_version("SpiffWorkflow")
    info["postgresql"] = _pg_version()
    info["commit"] = _git("rev-parse", "--short", "HEAD") or "?"
    # What the run measured beyond the commit: changed files, bar the results it rewrites.
    changed = [line for line in (_git("status", "--porcelain") or "").splitlines()
               if not line.endswith("bench/RESULTS.md")]
    if changed:
        info["commit"] += f" plus uncommitted changes to {len(changed)} file{'s' * (len(changed) > 1)}"
    return info


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _pg_version() -> str:
    if pg_problem():
        return "not reachable"
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("show server_version"))
    finally:
        engine.dispose()


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"
