"""The worker's heartbeat: proof that ``pace worker`` is alive, for monitoring.

After each round a worker writes its row of ``worker_heartbeat`` (one per worker process,
named host:pid:random): when it finished, how often it means to come back, what the
round did and how many errors it met. A worker not seen for ``STALE_AFTER`` of its own
intervals is presumed dead (``pace doctor`` exits 1). Times are wall-clock times, not the
injectable business clock (``pace worker --now`` does not fake its heartbeat). Rows of
workers not seen for ``FORGET_AFTER`` are deleted by the next beat of any worker.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from . import clock
from .db import unit_of_work
from .models import WorkerHeartbeat

STALE_AFTER = 3  # intervals
FORGET_AFTER = timedelta(days=7)


def now() -> datetime:
    return datetime.now(timezone.utc)


def beat(factory: sessionmaker, worker: str, *, started_at: datetime, interval: float,
         did: Mapping[str, int], errors: Sequence[str], at: datetime | None = None) -> None:
    """Record one finished round of ``worker``."""
    at = at or now()
    with unit_of_work(factory) as session:
        row = session.get(WorkerHeartbeat, worker)
        if row is None:
            row = WorkerHeartbeat(worker=worker[:120], started_at=started_at, rounds=0,
                                  errors_total=0)
            session.add(row)
        row.last_seen_at, row.interval_seconds = at, float(interval)
        row.rounds += 1
        row.last_round = {key: int(value) for key, value in did.items()}
        row.errors = len(errors)
        row.errors_total += len(errors)
        if errors:
            row.last_error = errors[-1][:1000]
        session.execute(delete(WorkerHeartbeat).where(
            WorkerHeartbeat.last_seen_at < at - FORGET_AFTER,
            WorkerHeartbeat.worker != row.worker).execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Seen:
    worker: str
    last_seen_at: datetime
    interval: timedelta
    started_at: datetime
    rounds: int
    last_round: dict
    errors: int
    errors_total: int
    last_error: str | None

    def age(self, at: datetime) -> timedelta:
        return at - self.last_seen_at

    def fresh(self, at: datetime) -> bool:
        return self.age(at) <= self.interval * STALE_AFTER


def seen(session: Session) -> list[Seen]:
    """Every worker with a heartbeat, the most recently seen first."""
    rows = session.scalars(select(WorkerHeartbeat)
                           .order_by(WorkerHeartbeat.last_seen_at.desc())).all()
    return [Seen(r.worker, clock.aware(r.last_seen_at), timedelta(seconds=r.interval_seconds),
                 clock.aware(r.started_at), r.rounds, dict(r.last_round or {}), r.errors,
                 r.errors_total, r.last_error) for r in rows]
