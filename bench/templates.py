"""Generator templates: journeys played through the real runtime, and what they wrote.

Every journey (see ``bench.journeys``) is played in a scratch SQLite database up to its
"today", and every row the runtime wrote about that child is captured: the ``subject``
row, its ``process_instance`` rows (serialized state included), ``work_item``,
``milestone`` and ``timer`` rows, its audit chain, and the notifications (and outbox mail,
when mail is on) derived from those events. ``bench.generator`` clones them.

Journeys are independent, so ``build_templates`` can play them in several processes, each
with its own scratch database.
"""
from __future__ import annotations

import multiprocessing
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from engine import audit, clock
from engine.models import Base
from workflows.app import Database
from workflows import accounts
from workflows.demo import scotland as demo
from workflows.process_models.bundled import deploy_bundled
from workflows.vocabulary import QUEUE_ROLES

from . import journeys
from .journeys import Journey

UUID_RE = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
TABLES = Base.metadata.tables
# Rows about one child, in foreign-key order (tables missing from this build are skipped).
CHILD_TABLES = tuple(t for t in ("subject", "process_instance", "work_item", "milestone",
                                 "timer", "audit_event", "audit_chain", "notification", "outbox")
                     if t in TABLES)
# Rows the journeys write none of: what only a worker types (case notes, attachments) and
# the documents the task service makes on completion (the journeys complete tasks through the
# runtime). A generated child has none; capture() refuses a template that holds any.
NOT_WRITTEN_BY_JOURNEYS = ("case_note", "attachment", "generated_document")
TEMPLATE_TEAM = "bench"
BENCH_USER = "bench.worker"  # service-wide holder of every queue role


def _check_coverage() -> None:
    """Refuse to generate incomplete children when the engine grows a per-child table."""
    for table in Base.metadata.sorted_tables:
        if table.name in CHILD_TABLES or table.name in NOT_WRITTEN_BY_JOURNEYS:
            continue
        targets = {fk.column.table.name for fk in table.foreign_keys}
        if targets & set(CHILD_TABLES) or "subject_id" in table.c or "instance_id" in table.c:
            raise RuntimeError(f"table {table.name} holds rows about a child; "
                               "bench/generator.py does not clone it yet")


def _aware(value):
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


@dataclass
class Template:
    journey: Journey
    weight: float
    team: str
    stage: str
    reference: str
    rows: dict[str, list[dict]]                        # table name → captured rows
    uuids: list[str] = field(default_factory=list)     # distinct, in order of appearance
    states: list[tuple[list[str], list[int]]] = field(default_factory=list)
    swaps: list[bool] = field(default_factory=list)    # event data naming the child or ids

    def prepare(self) -> None:
        """Split each state at its UUIDs so that a clone is a join with fresh ones."""
        index: dict[str, int] = {}

        def slot(value: str) -> int:
            return index.setdefault(value, len(index))

        self.states = []
        for row in self.rows["process_instance"]:
            parts = UUID_RE.split(row["state"])
            self.states.append((parts, [slot(p) for p in parts[1::2]]))
        for name in ("work_item", "timer", "audit_event"):
            for row in self.rows[name]:
                if row.get("task_id"):
                    slot(row["task_id"])
        self.uuids = list(index)
        self.swaps = [_mentions(e["data"], self) for e in self.rows["audit_event"]]


def _mentions(value, template: Template, key=None) -> bool:
    """Whether event data holds anything a clone changes (reference, team, ids, task UUIDs)."""
    if isinstance(value, dict):
        return any(_mentions(v, template, k) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(v, template, key) for v in value)
    if key in ("parent_instance", "team"):
        return value is not None
    return isinstance(value, str) and (value == template.reference or bool(UUID_RE.search(value)))


def _select(session, name: str, *where, order: str = "id") -> list[dict]:
    table = TABLES[name]
    return [{k: _aware(v) for k, v in m.items()} for m in session.execute(
        select(table).where(*where).order_by(table.c[order])).mappings()]


def capture(session, subject_id: int, journey: Journey, weight: float) -> Template:
    """Everything the runtime wrote about one child. Model and user ids are replaced by
    (process, version) and usernames, so templates move between databases."""
    models = {r.id: (r.process_id, r.version) for r in session.execute(
        select(TABLES["process_model"].c.id, TABLES["process_model"].c.process_id,
               TABLES["process_model"].c.version))}
    users = _usernames(session)
    c = {name: TABLES[name].c for name in CHILD_TABLES}
    rows = {"subject": _select(session, "subject", c["subject"].id == subject_id)}
    rows["process_instance"] = _select(session, "process_instance",
                                       c["process_instance"].subject_id == subject_id)
    for row in rows["process_instance"]:
        row["model_id"] = models[row["model_id"]]
    ids = [r["id"] for r in rows["process_instance"]]
    rows["work_item"] = _select(session, "work_item", c["work_item"].subject_id == subject_id)
    rows["milestone"] = _select(session, "milestone", c["milestone"].subject_id == subject_id)
    rows["timer"] = _select(session, "timer", c["timer"].instance_id.in_(ids))
    rows["audit_event"] = _select(session, "audit_event",
                                  c["audit_event"].chain == audit.chain_for(subject_id),
                                  order="chain_seq")
    rows["audit_chain"] = []  # rebuilt from the re-hashed events
    for name in (n for n in NOT_WRITTEN_BY_JOURNEYS if n in TABLES):
        if _select(session, name, TABLES[name].c.subject_id == subject_id):
            raise RuntimeError(f"the {journey.route} journey wrote {name} rows; "
                               "bench/generator.py does not clone them yet")
    if "notification" in c:
        rows["notification"] = _select(session, "notification",
                                       c["notification"].subject_id == subject_id)
    if "outbox" in c:
        rows["outbox"] = _select(session, "outbox", c["outbox"].notification_id.in_(
            [n["id"] for n in rows.get("notification", [])]))
    for name in CHILD_TABLES:
        for row in rows[name]:
            for key in ("assignee_id", "completed_by", "user_id", "allocated_worker_id"):
                if key in row:
                    row[key] = users.get(row[key])
    subject = rows["subject"][0]
    template = Template(journey=journey, weight=weight, team=subject["team"],
                        stage=journeys.stage_of(session, subject_id),
                        reference=subject["reference"], rows=rows)
    template.prepare()
    return template


def _usernames(session) -> dict:
    t = TABLES["user_account"]
    return {r.id: r.username for r in session.execute(select(t.c.id, t.c.username))}


def prepare_database(database: Database) -> None:
    """Schema, the shipped diagrams, the demo users and a service-wide bench worker."""
    database.migrate()
    with database.transaction() as session:
        deploy_bundled(session)
        demo.ensure_users(session, actor="bench")
        accounts.ensure_team(session, TEMPLATE_TEAM, "Bench template team")
        if accounts.find_user(session, BENCH_USER) is None:
            accounts.create_user(session, BENCH_USER, "Bench Worker", demo.DEMO_PASSWORD,
                                 sorted(QUEUE_ROLES), None, actor="bench",
                                 password_hash=demo._demo_password_hash())


def _build(catalogue: list[tuple[Journey, float]], team: str, workdir, first: int) -> list[Template]:
    tmp = tempfile.TemporaryDirectory(prefix="pace-templates-", dir=workdir)
    database = Database.connect(f"sqlite:///{tmp.name}/templates.db")
    try:
        prepare_database(database)
        templates = []
        for number, (journey, weight) in enumerate(catalogue, start=first):
            subject_id = journeys.build_child(database, journey, f"T{number:06d}", team)
            with database.transaction() as session:
                templates.append(capture(session, subject_id, journey, weight))
        return templates
    finally:
        clock.set_now(None)
        database.engine.dispose()
        tmp.cleanup()


def build_templates(catalogue: list[tuple[Journey, float]], *, team: str = TEMPLATE_TEAM,
                    workdir: Path | None = None, processes: int = 1) -> list[Template]:
    """Play every journey through the runtime and capture it, in ``processes`` forked
    processes (each with its own scratch database); templates come back in catalogue order."""
    _check_coverage()
    if processes <= 1 or len(catalogue) < 4 * processes:
        return _build(catalogue, team, workdir, 0)
    parts = [catalogue[i::processes] for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        built = pool.starmap(_build, [(part, team, workdir, i * len(catalogue))
                                      for i, part in enumerate(parts)])
    found: list[Template] = [None] * len(catalogue)  # type: ignore[list-item]
    for i, part in enumerate(built):
        found[i::processes] = part
    return found
