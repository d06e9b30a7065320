"""Build 10k–100k children at realistic stages quickly, writing exactly what the runtime writes.

1. **Templates** (``bench.templates``). Every journey of :func:`bench.journeys.catalogue`
   (each route, started every few days over three years) is played through the real
   runtime in a scratch SQLite database up to "today", and everything it wrote about that
   child is captured: the ``subject`` row, its ``process_instance`` rows (serialized state
   included), ``work_item``, ``milestone`` and ``timer`` rows, its audit chain, and the
   notifications (and outbox mail, when mail is on) derived from those events.
2. **Clones.** Each generated child copies one template, chosen in proportion to the share
   of the caseload the template stands for, with new row ids, a new reference and team, and
   fresh task UUIDs (replaced consistently in the state, work items, timers and events, as
   another run of the runtime would draw new ones). Its audit chain is re-hashed event by
   event with :func:`engine.audit.compute_hash`, so ``engine.audit.verify`` passes. Rows are
   written a few thousand children per transaction: executemany on SQLite (values passed
   through SQLAlchemy's own bind processors, as its executemany does), COPY on PostgreSQL
   (psycopg turns an executemany into one INSERT per row there).

Dates are never shifted: due rules in months and working days do not move with a day
shift (31 Jan + 1m is 28 Feb, 1 Feb + 1m is 1 Mar), so a shifted clone would not be what
the runtime writes. Variety of dates comes from the many start dates of the templates.

Teams: who is notified, and who completes a task, depends on the users of the child's
team. Templates are built in a team without team-specific users (``TEMPLATE_TEAM``) and
cloned into other such teams only, where the runtime would pick exactly the same
(service-wide) users; a template built in a team with its own users is cloned into that
team only. ``generate`` refuses anything else.
"""
from __future__ import annotations

import json
import os
import random
import re
import time
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

from sqlalchemy import JSON, func, select, text

from engine import audit
from workflows.app import Database
from workflows import accounts
from workflows.demo import scotland as demo

from .templates import (BENCH_USER, CHILD_TABLES, TABLES, TEMPLATE_TEAM,  # noqa: F401
                        Template, _check_coverage, _usernames, build_templates, capture,
                        prepare_database)

__all__ = ["BENCH_USER", "TEMPLATE_TEAM", "Template", "build_templates", "capture", "clone",
           "generate", "prepare_database", "stage_mix", "team_codes"]


class _Ids:
    def __init__(self, connection):
        self.next = {name: (connection.scalar(select(func.max(TABLES[name].c.id))) or 0) + 1
                     for name in CHILD_TABLES if "id" in TABLES[name].c}

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def _uuid4s(count: int) -> list[str]:
    """Random version-4 UUIDs, as ``str(uuid.uuid4())`` gives, drawn in one call."""
    raw = os.urandom(16 * count).hex()
    out = []
    for i in range(0, 32 * count, 32):
        h = raw[i:i + 32]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}")
    return out


def _swap(value, key, ctx):
    if isinstance(value, dict):
        return {k: _swap(v, k, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, key, ctx) for v in value]
    if key == "parent_instance" and isinstance(value, int):
        return ctx.instances[value]
    if key == "team" and value == ctx.old_team:
        return ctx.team
    if isinstance(value, str):
        if value == ctx.old_reference:
            return ctx.reference
        if value in ctx.uuids:
            return ctx.uuids[value]
    return value


_LINK = re.compile(r"(/(?:tasks|children|subjects)/)(\d+)(?!\d)")
_CHAIN = re.compile(r"subject([:-])(\d+)(?!\d)")
_USER_KEY = re.compile(r":\d+$")          # notification.dedupe_key "<chain>#<seq>:<user id>"
_USER_MAIL = re.compile(r"\.u\d+@")        # outbox.message_id "<n.<chain>.<seq>.u<user id>@…>"


def _retext(value: str, ctx) -> str:
    """Notification and mail text: the child's reference, links and chain names."""
    value = value.replace(ctx.old_reference, ctx.reference)
    value = _LINK.sub(lambda m: m.group(1) + str(
        (ctx.work_items if m.group(1) == "/tasks/" else {ctx.old_subject: ctx.subject_id})
        .get(int(m.group(2)), m.group(2))), value)
    return _CHAIN.sub(lambda m: f"subject{m.group(1)}{ctx.subject_id}"
                      if int(m.group(2)) == ctx.old_subject else m.group(0), value)


def clone(template: Template, ids: _Ids, reference: str, team: str, models: dict,
          users: dict, out: dict[str, list]) -> int:
    """Append one child's rows to ``out`` (table name → rows); returns its subject id."""
    rows = template.rows
    subject_id = ids.take("subject")
    fresh = _uuid4s(len(template.uuids))
    uuids = dict(zip(template.uuids, fresh))
    instances = {row["id"]: ids.take("process_instance") for row in rows["process_instance"]}
    old = rows["subject"][0]
    ctx = SimpleNamespace(instances=instances, team=team, old_team=template.team,
                          old_reference=template.reference, reference=reference, uuids=uuids,
                          old_subject=old["id"], subject_id=subject_id, work_items={})
    out["subject"].append({**old, "id": subject_id, "reference": reference,
                           "display_name": f"Child {reference}", "team": team,
                           "allocated_worker_id": users.get(old["allocated_worker_id"])})
    for row, (parts, slots) in zip(rows["process_instance"], template.states):
        pieces = list(parts)
        pieces[1::2] = [fresh[i] for i in slots]
        out["process_instance"].append({
            **row, "id": instances[row["id"]], "subject_id": subject_id,
            "model_id": models[row["model_id"]], "state": "".join(pieces),
            "parent_instance_id": instances.get(row["parent_instance_id"])})
    for row in rows["work_item"]:
        ctx.work_items[row["id"]] = ids.take("work_item")
        out["work_item"].append({
            **row, "id": ctx.work_items[row["id"]], "instance_id": instances[row["instance_id"]],
            "subject_id": subject_id, "task_id": uuids[row["task_id"]], "team": team,
            "assignee_id": users.get(row["assignee_id"]), "completed_by": users.get(row["completed_by"])})
    for row in rows["milestone"]:
        out["milestone"].append({**row, "id": ids.take("milestone"),
                                 "instance_id": instances[row["instance_id"]], "subject_id": subject_id})
    for row in rows["timer"]:
        out["timer"].append({**row, "id": ids.take("timer"), "instance_id": instances[row["instance_id"]],
                             "task_id": uuids[row["task_id"]]})
    chain, prev, events = audit.chain_for(subject_id), audit.GENESIS, {}
    for row, swap in zip(rows["audit_event"], template.swaps):
        events[row["id"]] = ids.take("audit_event")
        event = {**row, "id": events[row["id"]], "chain": chain, "subject_id": subject_id,
                 "instance_id": instances.get(row["instance_id"], row["instance_id"]),
                 "task_id": uuids.get(row["task_id"]) if row["task_id"] else None,
                 "data": _swap(row["data"], None, ctx) if swap else row["data"], "prev_hash": prev}
        event["hash"] = prev = audit.compute_hash(prev, SimpleNamespace(**event))
        out["audit_event"].append(event)
    if rows["audit_event"]:
        out["audit_chain"].append({"chain": chain, "last_seq": rows["audit_event"][-1]["chain_seq"],
                                   "last_hash": prev})
    notes = {}
    for row in rows.get("notification", ()):
        notes[row["id"]] = ids.take("notification")
        user_id = users[row["user_id"]]
        out["notification"].append({
            **{k: _retext(v, ctx) if isinstance(v, str) else v for k, v in row.items()},
            "id": notes[row["id"]], "user_id": user_id, "subject_id": subject_id,
            "work_item_id": ctx.work_items.get(row["work_item_id"]),
            "event_id": events.get(row["event_id"]),
            "dedupe_key": _USER_KEY.sub(f":{user_id}", _retext(row["dedupe_key"], ctx))})
    for row in rows.get("outbox", ()):
        user_id = users.get(row["user_id"])
        out["outbox"].append({
            **{k: _retext(v, ctx) if isinstance(v, str) else v for k, v in row.items()},
            "id": ids.take("outbox"), "user_id": user_id,
            "message_id": _USER_MAIL.sub(f".u{user_id}@", _retext(row["message_id"], ctx)),
            "notification_id": notes.get(row["notification_id"])})
    return subject_id


def _write(connection, out: dict[str, list]) -> None:
    """Insert the batch on the caller's transaction. JSON values shared by clones (their
    template's unchanged values) are serialized once."""
    postgres = connection.dialect.name == "postgresql"
    if not connection.in_transaction():
        connection.begin()  # runs the engine's BEGIN (IMMEDIATE on SQLite) before raw cursors
    for name in CHILD_TABLES:
        if out[name]:
            (_copy if postgres else _executemany)(connection, TABLES[name], out[name])
            out[name] = []


def _memo(serialize):
    """JSON values as the ORM writes them: None is SQL NULL (``JSON.should_evaluate_none`` is
    off), anything else serialized, once per shared object."""
    texts: dict[int, object] = {}

    def convert(value):
        if value is None:
            return None
        if not isinstance(value, (dict, list)):
            return serialize(value)
        found = texts.get(id(value))
        if found is None:
            found = texts[id(value)] = serialize(value)
        return found
    return convert


def _executemany(connection, table, rows: list[dict]) -> None:
    """SQLite: one executemany, each value through the bind processor SQLAlchemy itself
    applies to that column (date and datetime text, JSON), so the stored text is the same."""
    dialect = connection.dialect
    columns = list(table.c)
    processors = []
    for column in columns:
        processor = column.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None and isinstance(column.type, JSON):
            processor = _memo(processor)
        processors.append(processor)
    names = ", ".join(f'"{c.name}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    cursor = connection.connection.dbapi_connection.cursor()
    cursor.executemany(sql, [tuple(p(row[c.name]) if p else row[c.name]
                                   for c, p in zip(columns, processors)) for row in rows])
    cursor.close()


def _copy(connection, table, rows: list[dict]) -> None:
    """PostgreSQL: COPY, since psycopg sends an executemany as one INSERT per row. JSON is
    serialized with json.dumps as SQLAlchemy's JSON type does; the ``json`` column keeps
    that text as it is."""
    columns = list(table.c)
    as_json = _memo(json.dumps)
    is_json = [isinstance(c.type, JSON) for c in columns]
    names = ", ".join(f'"{c.name}"' for c in columns)
    cursor = connection.connection.dbapi_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([as_json(row[c.name]) if j else row[c.name]
                            for c, j in zip(columns, is_json)])
    cursor.close()


def _fix_sequences(connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    for name in CHILD_TABLES:
        if "id" in TABLES[name].c:
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"))


def allocate(templates: list[Template], count: int, rng: random.Random) -> list[Template]:
    """``count`` templates in proportion to their weights (largest remainder), shuffled."""
    total = sum(t.weight for t in templates)
    exact = [t.weight / total * count for t in templates]
    counts = [int(x) for x in exact]
    for i in sorted(range(len(templates)), key=lambda i: exact[i] - counts[i],
                    reverse=True)[: count - sum(counts)]:
        counts[i] += 1
    chosen = [t for t, n in zip(templates, counts) for _ in range(n)]
    rng.shuffle(chosen)
    return chosen


def _check_teams(session, templates: list[Template], teams: list[str]) -> None:
    t = TABLES["user_account"]
    staffed = set(session.scalars(select(t.c.team).where(t.c.team.is_not(None))))
    for team in {tp.team for tp in templates}:
        for target in teams:
            if target != team and (team in staffed or target in staffed):
                raise ValueError(f"cannot clone children built in team {team!r} into team "
                                 f"{target!r}: one of them has users of its own, so the runtime "
                                 "would notify and assign different people")


@dataclass
class Generated:
    children: int
    seconds: float
    rows: dict[str, int]
    subject_ids: list[int]
    templates: list[Template]   # the template of each generated child, in the same order


def team_codes(count: int) -> list[str]:
    return [f"t{n:04d}" for n in range(1, count + 1)]


def generate(database: Database, templates: list[Template], count: int, *,
             teams: list[str] | None = None, seed: int = 1, batch: int = 2000,
             reference_prefix: str = "G", analyze: bool = True, progress=None) -> Generated:
    """Add ``count`` children cloned from ``templates`` to a prepared database."""
    _check_coverage()
    rng = random.Random(seed)
    teams = teams or [templates[0].team]
    started = time.perf_counter()
    with database.transaction() as session:
        for team in teams:
            accounts.ensure_team(session, team, demo.TEAMS.get(team, f"Team {team}"))
        _check_teams(session, templates, teams)
        t = TABLES["process_model"]
        models = {(r.process_id, r.version): r.id for r in session.execute(
            select(t.c.id, t.c.process_id, t.c.version))}
        users = {v: k for k, v in _usernames(session).items()}
    chosen = allocate(templates, count, rng)
    rows = {name: 0 for name in CHILD_TABLES}
    subject_ids = []
    with database.engine.connect() as connection:
        ids = _Ids(connection)
        connection.commit()
        out: dict[str, list] = {name: [] for name in CHILD_TABLES}
        for number, template in enumerate(chosen):
            team = teams[rng.randrange(len(teams))]
            reference = f"{reference_prefix}{ids.next['subject']:07d}"
            subject_ids.append(clone(template, ids, reference, team, models, users, out))
            if (number + 1) % batch == 0 or number + 1 == len(chosen):
                for name in CHILD_TABLES:
                    rows[name] += len(out[name])
                _write(connection, out)
                connection.commit()
                if progress:
                    progress(number + 1, len(chosen))
        _fix_sequences(connection)
        connection.commit()
        if analyze:
            connection.execute(text("ANALYZE"))
            connection.commit()
    return Generated(len(chosen), time.perf_counter() - started, rows, subject_ids, chosen)


def stage_mix(templates: list[Template]) -> dict[str, float]:
    """Share of the generated caseload at each stage."""
    total = sum(t.weight for t in templates)
    mix: dict[str, float] = {}
    for t in templates:
        mix[t.stage] = mix.get(t.stage, 0.0) + t.weight / total
    return dict(sorted(mix.items(), key=lambda kv: -kv[1]))


def today_of(templates: list[Template]) -> date:
    return templates[0].journey.today
