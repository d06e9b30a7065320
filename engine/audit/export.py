"""Audit exports that can be verified offline, without the database.

An export carries every field that goes into an event's hash, so anyone holding the file
can recompute each chain link (``pace audit verify-export``). CSV cells that a spreadsheet
would run as a formula are prefixed with an apostrophe (engine/csv_cells.py, the writer of
every CSV); verification undoes exactly that prefix before hashing.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import csv_cells
from .chain import Break, _utc_text, compute_hash
from ..models import AuditEvent

FIELDS = ("id", "chain", "chain_seq", "at", "event_type", "actor", "subject_id", "instance_id",
          "task_id", "data", "prev_hash", "hash")


def rows(session: Session, *, subject_id: int | None = None, start: datetime | None = None,
         end: datetime | None = None) -> list[dict]:
    query = select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.chain_seq)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    if start is not None:
        query = query.where(AuditEvent.at >= start)
    if end is not None:
        query = query.where(AuditEvent.at < end)
    return [{"id": e.id, "chain": e.chain, "chain_seq": e.chain_seq, "at": _utc_text(e.at),
             "event_type": e.event_type, "actor": e.actor, "subject_id": e.subject_id,
             "instance_id": e.instance_id, "task_id": e.task_id, "data": e.data,
             "prev_hash": e.prev_hash, "hash": e.hash} for e in session.scalars(query)]


def to_json(export_rows: list[dict]) -> str:
    return json.dumps({"format": "pace-audit-export/1", "events": export_rows}, indent=1,
                      ensure_ascii=False)


def _text(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False) \
        if isinstance(value, (dict, list)) else value


def to_csv(export_rows: list[dict]) -> str:
    return csv_cells.to_text(([_text(row[f]) for f in FIELDS] for row in export_rows),
                             header=FIELDS)


def read_export(text: str) -> list[dict]:
    """Rows from a JSON or CSV export, typed as they were hashed."""
    if text.lstrip().startswith("{"):
        return json.loads(text)["events"]
    found = []
    for raw in csv.DictReader(io.StringIO(text)):
        row = {k: csv_cells.uncell(v) for k, v in raw.items()}
        for key in ("id", "chain_seq", "subject_id", "instance_id"):
            row[key] = int(row[key]) if row[key] not in ("", None) else None
        row["task_id"] = row["task_id"] or None
        row["data"] = json.loads(row["data"]) if row["data"] else {}
        found.append(row)
    return found


def verify_rows(export_rows: list[dict]) -> Break | None:
    """Check each chain in an export: consecutive numbers, links and hashes.

    An export of a date range may start part-way along a chain; its first event's link is
    then taken as given, and everything after it must follow.
    """
    previous: dict[str, tuple[int, str]] = {}
    for row in sorted(export_rows, key=lambda r: (r["chain"], r["chain_seq"])):
        event = SimpleNamespace(chain=row["chain"], chain_seq=row["chain_seq"],
                                at=datetime.fromisoformat(row["at"].replace("Z", "+00:00")),
                                event_type=row["event_type"], actor=row["actor"],
                                subject_id=row["subject_id"], instance_id=row["instance_id"],
                                task_id=row["task_id"], data=row["data"])
        if row["chain"] in previous:
            seq, prev_hash = previous[row["chain"]]
            if row["chain_seq"] != seq + 1:
                return Break(row["chain"], row["id"], row["chain_seq"],
                             f"expected event #{seq + 1} next; events are missing or reordered")
            if row["prev_hash"] != prev_hash:
                return Break(row["chain"], row["id"], row["chain_seq"],
                             "its link to the previous event does not match")
        if compute_hash(row["prev_hash"], event) != row["hash"]:
            return Break(row["chain"], row["id"], row["chain_seq"],
                         "its content does not match its hash (the row was edited)")
        previous[row["chain"]] = (row["chain_seq"], row["hash"])
    return None
