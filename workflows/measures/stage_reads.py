"""Stage delays of a whole caseload, counted by the database.

Days per stage, journey-start month and model version, with how many children took exactly
that long (``stage_delays.StageCount``); the medians and percentiles of ``stage_delays``
read those counts as they read intervals from ``measure_data.load_episodes`` (which at
100,000 children spends seconds building episodes). "First" is the earliest date on or
before the measurement date (the occurrence number breaking ties), as
``measure_data.Episode.first`` has it; tests/integration/test_measure_sql.py proves both
paths give the same counts on SQLite and PostgreSQL.

For a whole caseload, each milestone's first occurrence per instance is read by one
aggregate per milestone code (``UNION ALL``): each reads its stretch of the covering index
``ix_milestone_reached`` in instance order, so PostgreSQL aggregates it as it streams (one
``GROUP BY code, instance_id`` over every code made it sort half a million rows by text).
Pairing consecutive milestones into stages is where the dialects part:

* PostgreSQL pairs them with window functions and counts the stages itself, sending back
  a few thousand rows instead of half a million (what psycopg spent most of the time on);
* SQLite's window functions over half a million rows cost more than they save, so SQLite
  sends the firsts in journey order and Python walks them once, instance by instance.

A team's few hundred children are found by the subject index in one aggregate and walked in
Python on both (the union and the windows would only add planning and start-up there).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from sqlalchemy import BigInteger, and_, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from engine.models import Milestone, Subject

from workflows.measures import driver_rows
from workflows.measures.stage_delays import StageCount
from workflows.vocabulary import JOURNEY_ORDER

# The earliest (date, occurrence) and the version it was reached under, as one number:
# day (``date.toordinal()``, so every key is positive and divides alike in SQL and Python)
# * 10**12 + occurrence * 10**6 + version.
_DAY, _OCCURRENCE = 10 ** 12, 10 ** 6


def stage_counts(session: Session, process_id: str, order: Sequence[str] = JOURNEY_ORDER,
                 until: date | None = None, teams: Sequence[str] | None = None,
                 started: tuple[date, date] | None = None,
                 ended_after: date | None = None) -> list[StageCount]:
    """Completed stages counted by days, journey-start month and model version, as
    ``stage_delays.counts(stage_delays.intervals(load_episodes(...), order, until))`` gives
    them; ``started``: only stages that began in that date range (``started_between``);
    ``ended_after``: only stages that ended after that day (one or the other)."""
    if started and ended_after is not None:
        raise ValueError("stage_counts takes started or ended_after, not both")
    found = counted(session, process_id, order, until, teams,
                    started=(started,) if started else (), ended_after=ended_after)
    if started:
        return found.started[0]
    return found.every if ended_after is None else found.recent


class Counted(NamedTuple):
    """One count of a caseload's stages, read several ways: every stage, those begun in
    each date range asked for (``started``, in order) and those ended after a day
    (``recent``, empty when none was asked for)."""
    every: list[StageCount]
    started: list[list[StageCount]]
    recent: list[StageCount]


def counted(session: Session, process_id: str, order: Sequence[str], until: date | None = None,
            teams: Sequence[str] | None = None, *,
            started: Sequence[tuple[date, date]] = (),
            ended_after: date | None = None) -> Counted:
    """The stages counted once and split: a comparison of two date ranges (the stage-delay
    page) or the forecast's pace (every stage and the recent ones) costs one count, not
    one per part."""
    firsts = _firsts(session, process_id, order, until, teams)
    ranges = [(low.toordinal(), high.toordinal()) for low, high in started]
    since = ended_after.toordinal() if ended_after is not None else None
    with driver_rows.collector_paused():
        if session.get_bind().dialect.name == "postgresql" and teams is None:
            rows = _paired_in_database(session, firsts, ranges, since)
        else:
            rows = _paired_here(session, firsts, ranges, since)
    months: dict[int, date] = {}  # journey start day -> its month
    parts: list[dict[tuple, int]] = [{} for _ in range(len(ranges) + 2)]  # every, recent, ranges
    every = parts[0]
    for (a, b, n_days, day, version, *flags), n in rows:
        month = months.get(day)
        if month is None:
            month = months[day] = date.fromordinal(day).replace(day=1)
        key = (a, b, n_days, month, version)
        every[key] = every.get(key, 0) + n
        for part, flag in zip(parts[1:], flags):
            if flag:
                part[key] = part.get(key, 0) + n
    every, recent, *in_ranges = ([StageCount(order[a], order[b], n_days, month, version, n)
                                  for (a, b, n_days, month, version), n in found.items()]
                                 for found in parts)
    return Counted(every, in_ranges, recent)


def _firsts(session: Session, process_id: str, order: Sequence[str], until: date | None,
            teams: Sequence[str] | None):
    """(instance_id, position of the milestone in ``order``, key of its first occurrence)."""
    m = Milestone
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":  # dates are ISO text there; julianday(0001-01-01) is 1721425.5
        day = cast(func.julianday(m.actual_date) - 1721424.5, BigInteger)
    else:
        day = m.actual_date - date(1, 1, 1) + 1
    key = func.min(day * literal(_DAY, BigInteger) + m.occurrence * literal(_OCCURRENCE, BigInteger)
                   + m.model_version, type_=BigInteger)
    conditions = [m.process_id == process_id, m.actual_date.is_not(None)]
    if until is not None:
        conditions.append(m.actual_date <= until)
    if teams is not None:  # a few hundred children, found by the subject index
        conditions.append(m.subject_id.in_(select(Subject.id).where(Subject.team.in_(list(teams)))))
        position = case({code: index for index, code in enumerate(order)}, value=m.code)
        return (select(m.instance_id, position.label("pos"), key.label("k"))
                .where(m.code.in_(list(order)), *conditions)
                .group_by(m.instance_id, m.code).subquery("firsts"))
    return union_all(*(
        select(m.instance_id, literal(position).label("pos"), key.label("k"))
        .where(m.code == code, *conditions).group_by(m.instance_id)
        for position, code in enumerate(order))).subquery("firsts")


def _paired_here(session: Session, firsts, ranges: list[tuple[int, int]],
                 since: int | None) -> list[tuple[tuple, int]]:
    """Stages counted by (kind, days, journey start, version, recent?, in each range?)."""
    rows = driver_rows.fetch(session.connection(),  # plain integers
                             select(firsts.c.instance_id, firsts.c.pos, firsts.c.k)
                             .order_by(firsts.c.instance_id, firsts.c.pos))
    counted: dict[tuple, int] = {}
    current = before = before_on = start = None
    for instance_id, step, key in rows:
        on = key // _DAY
        if instance_id != current:
            current, start = instance_id, on
        else:
            stage = (before, step, on - before_on, start, key % _OCCURRENCE,
                     since is not None and on > since)
            if ranges:  # not built per stage when none was asked for: a million stages
                stage += tuple([low <= before_on <= high for low, high in ranges])
            counted[stage] = counted.get(stage, 0) + 1
        before, before_on = step, on
    return list(counted.items())


def _paired_in_database(session: Session, firsts, ranges: list[tuple[int, int]],
                        since: int | None) -> list[tuple[tuple, int]]:
    window = {"partition_by": firsts.c.instance_id, "order_by": firsts.c.pos}
    steps = (select(firsts.c.pos, firsts.c.k,
                   func.lag(firsts.c.pos, type_=BigInteger).over(**window).label("before"),
                   func.lag(firsts.c.k, type_=BigInteger).over(**window).label("before_k"),
                   func.first_value(firsts.c.k, type_=BigInteger).over(**window).label("start_k"))
             .subquery("steps"))
    on, before_on = steps.c.k // _DAY, steps.c.before_k // _DAY
    recent = [on > since] if since is not None else []
    columns = [steps.c.before, steps.c.pos, on - before_on, steps.c.start_k // _DAY,
               steps.c.k % _OCCURRENCE, *recent,
               *(and_(before_on >= low, before_on <= high) for low, high in ranges)]
    connection = session.connection()
    # The plan's cost is in JIT's range, and compiling it takes longer than running it (a
    # quarter of a second at 100,000 children): off for the rest of this transaction, a
    # measure's reading.
    connection.exec_driver_sql("SET LOCAL jit = off")
    rows = connection.execute(
        select(*columns, func.count()).where(steps.c.before.is_not(None))
        .group_by(*columns)).all()
    if since is None:  # recent? is false for every stage
        return [((*row[:5], False, *row[5:-1]), row[-1]) for row in rows]
    return [(tuple(row[:-1]), row[-1]) for row in rows]
