"""Auditor's timeline of a child with a 10,000-event history: first page p50/p95.

Baseline, measured in the same run: the sign-in page (same app, no database work beyond
the session). The events are written through engine.audit.record, so the chain is real.
"""
from __future__ import annotations

from datetime import date

from engine import audit, clock
from web import create_app
from workflows.children import records as children
from workflows.demo import scotland as demo

from . import common

EVENTS = 10_000


def _app(database):
    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True, "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False})
    app.extensions["pace_db"].engine.dispose()
    app.extensions["pace_db"] = database
    return app


def run(ctx: common.Context) -> None:
    for backend in ctx.backends:
        with common.open_database(backend, ctx.workdir) as bench_db:
            database = bench_db.database
            database.migrate()
            clock.set_now(date(2026, 1, 5))
            with database.transaction() as session:
                demo.ensure_users(session, actor="bench")
                child = children.register_child(session, "H00001", "Long History", "north", "bench")
                subject_id = child.id
            for start in range(0, EVENTS, 1000):
                with database.transaction() as session:
                    for number in range(start, min(start + 1000, EVENTS)):
                        audit.record(session, "draft_saved", "sw.north", subject_id=subject_id,
                                     data={"task": "legal_referral", "fields": ["questions"],
                                           "n": number})
            clock.set_now(None)
            app = _app(database)
            client = app.test_client()
            client.post("/sign-in", data={"username": "auditor", "password": demo.DEMO_PASSWORD})
            url = f"/audit/children/{subject_id}"
            assert client.get(url).status_code == 200, "the auditor's timeline did not open"
            runs = 10 if ctx.quick else 40
            page = common.summary(common.timed_loop(lambda: client.get(url), seconds=60,
                                                    max_runs=runs, warmup=2))
            base = common.summary(common.timed_loop(lambda: client.get("/sign-in"), seconds=30,
                                                    max_runs=runs, warmup=2))
            ctx.add(common.Figure("6 audit", f"timeline first page, {EVENTS:,} events, {backend}",
                                  page["p95"], "ms", baseline=base["p95"],
                                  baseline_name="sign-in page p95", target="well under 1 s",
                                  met=page["p95"] < 1000, note=f"p50 {page['p50']:.1f} ms; "
                                  f"each view also appends a record_viewed event"))
