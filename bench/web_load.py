"""Benchmark 6: requests per second and p95 for "open queue" and "complete task" over HTTP.

gunicorn (sync workers, 2 per core) serves ``web:create_app()`` on 127.0.0.1 from a
PostgreSQL schema of its own holding a realistic caseload plus children of team "north"
whose planning meeting is open. Concurrent clients (threads of this process, keep-alive
connections, each signed in as the north team leader with its own session) then:

* open the team queue: ``GET /team-queue`` (page 1, sorted by due date);
* complete a task: ``POST /tasks/<id>`` with the planning meeting form (claim + complete in
  one transaction, answered by a redirect), each client on tasks of its own.

Each phase is bounded in time and in requests. Baseline: ``GET /sign-in`` (a page rendered
without touching the database) with the same clients. The client threads share the two
cores with the server, so the figures are a floor for a real deployment.
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from sqlalchemy import select

from engine.models import WorkItem

from . import generator
from .common import TODAY, Context, Figure, open_database, summary
from .completion import fresh_start_templates

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
USER, PASSWORD = "tl.north", "pace-demo-2026"


class Client:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def sign_in(self) -> None:
        _, page = self.request("GET", "/sign-in")
        status, _ = self.request("POST", "/sign-in", {"csrf_token": CSRF.search(page).group(1),
                                                      "username": USER, "password": PASSWORD})
        assert status == 302, f"sign-in answered {status}"

    def token(self, path: str) -> str:
        status, page = self.request("GET", path)
        found = CSRF.search(page)
        assert status == 200 and found, f"GET {path} answered {status} without a form"
        return found.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(bench_db, workers: int) -> tuple[subprocess.Popen, int]:
    schema = bench_db.connect_args["options"].split("=", 1)[1]
    return serve(f"{bench_db.url}?options=-csearch_path%3D{schema}", workers,
                 PACE_SECRET_KEY="bench-" + schema)


def serve(database_url: str, workers: int, **environ: str) -> tuple[subprocess.Popen, int]:
    """gunicorn serving the app on ``database_url`` at a free local port, once it listens.

    Also used by the web crash tests (tests/integration/test_web_crash.py), which pass
    their fault-point variables in ``environ``."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACE_SMTP", "PACE_TEST_"))}
    env.update(PACE_DATABASE_URL=database_url, PACE_DEMO="0", **environ)
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    proc = subprocess.Popen([gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}",
                             "--access-logfile", "-", "--log-level", "warning", "web:create_app()"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited: " + proc.stderr.read().decode()[-2000:])
            time.sleep(0.2)
    return proc, port


def stop(server: subprocess.Popen) -> None:
    """Graceful shutdown, or kill after 30 s (gunicorn waits for running requests)."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def load(clients: list[Client], make_request, seconds: float, max_requests: int) -> dict:
    """Run every client in its own thread until the time or request bound."""
    times, errors, lock = [], [], threading.Lock()
    budget = iter(range(max_requests))
    stop = time.perf_counter() + seconds

    def drive(index: int, client: Client):
        while time.perf_counter() < stop:
            with lock:
                if next(budget, None) is None:
                    return
            start = time.perf_counter()
            try:
                ok = make_request(index, client)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 - counted, shown in the report
                ok = f"{type(exc).__name__}: {exc}"
            took = (time.perf_counter() - start) * 1000
            with lock:
                times.append(took)
                if ok is not True:
                    errors.append(ok)

    threads = [threading.Thread(target=drive, args=(i, c)) for i, c in enumerate(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    found = summary(times) if times else {"n": 0, "p50": 0, "p95": 0, "mean": 0}
    found.update(rps=len(times) / wall if wall else 0, errors=errors)
    return found


def run(ctx: Context) -> None:
    if "postgres" not in ctx.backends:
        ctx.add(Figure("6 http", "gunicorn on PostgreSQL", None, "req/s", note="skipped: no PostgreSQL"))
        return
    seconds, cap = (3.0, 300) if ctx.quick else (10.0, 3000)
    concurrency, workers = 8, 2 * (os.cpu_count() or 1)
    with open_database("postgres", ctx.workdir) as bench_db:
        database = bench_db.database
        generator.prepare_database(database)
        if "templates" in ctx.cache:
            generator.generate(database, ctx.cache["templates"], 1000 if ctx.quick else 10_000,
                               teams=generator.team_codes(4 if ctx.quick else 40), seed=21)
        # enough open planning meetings for the completion phase, no more: the team queue
        # page counts them all, and a real team holds a few hundred children
        made = generator.generate(database, fresh_start_templates(ctx, team="north"),
                                  (200 if ctx.quick else 800) + concurrency, teams=["north"],
                                  seed=22, reference_prefix="Q")
        with database.transaction() as session:
            items = list(session.scalars(select(WorkItem.id).where(
                WorkItem.subject_id.in_(made.subject_ids), WorkItem.status == "ready")
                .order_by(WorkItem.id)))
        database.engine.dispose()
        server, port = start_server(bench_db, workers)
        try:
            clients = [Client(port) for _ in range(concurrency)]
            anonymous = [Client(port) for _ in range(concurrency)]
            for client in clients:
                client.sign_in()
            shares = [iter(items[i::concurrency]) for i in range(concurrency)]
            tokens = [c.token(f"/tasks/{items[i]}") for i, c in enumerate(clients)]
            day = TODAY.isoformat().split("-")
            form = {"date_held.year": day[0], "date_held.month": day[1], "date_held.day": day[2],
                    "chair": "A. Reid", "actions_agreed": "Agreed actions recorded.",
                    "attendees.count": "0", "action": "complete"}

            def floor(_i, client):
                return client.request("GET", "/sign-in")[0] == 200 or "status"

            def queue(_i, client):
                status, page = client.request("GET", "/team-queue")
                return status == 200 or f"status {status}"

            def complete(i, client):
                item = next(shares[i])
                status, _ = client.request("POST", f"/tasks/{item}", {**form, "csrf_token": tokens[i]})
                return status == 302 or f"status {status}"

            base = load(anonymous, floor, seconds / 2, cap)
            for name, fn in (("open team queue (GET /team-queue)", queue),
                             ("complete task (POST /tasks/<id>)", complete)):
                found = load(clients, fn, seconds, cap)
                note = (f"{found['n']:,} requests, {concurrency} clients, {workers} gunicorn workers, "
                        f"p50 {found['p50']:.0f} ms, p95 {found['p95']:.0f} ms")
                if found["errors"]:
                    note += f"; {len(found['errors'])} failed, e.g. {found['errors'][0]}"
                ctx.add(Figure("6 http", f"{name}: requests/s", found["rps"], "req/s",
                               baseline=base["rps"], baseline_name="GET /sign-in (no database)",
                               note=note))
                ctx.add(Figure("6 http", f"{name}: p95", found["p95"], "ms",
                               baseline=base["p95"], baseline_name="GET /sign-in p95"))
        finally:
            stop(server)
