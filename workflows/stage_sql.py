"""Stage delays of a whole caseload, counted by the database.

Days per stage, journey-start month and model version, with how many children took exactly
that long (``stage_delays.StageCount``); the medians and percentiles of ``stage_delays``
read those counts as they read intervals from ``measure_data.load_episodes`` (which at
100,000 children spends seconds building episodes). "First" is the earliest date on or
before the measurement date (the occurrence number breaking ties), as
``measure_data.Episode.first`` has it; tests/integration/test_measure_sql.py proves both
paths give the same counts on SQLite and PostgreSQL.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import BigInteger, cast, func, literal, select
from sqlalchemy.orm import Session

from engine.models import Milestone, Subject

from .measure_sql import collector_paused
from .stage_delays import StageCount
from .vocabulary import JOURNEY_ORDER


def stage_counts(session: Session, process_id: str, order: Sequence[str] = JOURNEY_ORDER,
                 until: date | None = None, teams: Sequence[str] | None = None,
                 started: tuple[date, date] | None = None) -> list[StageCount]:
    """Completed stages counted by days, journey-start month and model version, as
    ``stage_delays.counts(stage_delays.intervals(load_episodes(...), order, until))`` gives
    them; ``started``: only stages that began in that date range (``started_between``).

    The database picks each milestone's first occurrence per instance from the index (one
    row per instance and milestone); pairing them into stages is a walk along each
    journey, done here: window functions over half a million rows cost seconds on SQLite.
    """
    m = Milestone
    dialect = session.get_bind().dialect.name
    conditions = [m.process_id == process_id, m.code.in_(list(order)),
                  m.actual_date.is_not(None)]
    if until is not None:
        conditions.append(m.actual_date <= until)
    if teams is not None:
        conditions.append(m.subject_id.in_(select(Subject.id).where(Subject.team.in_(list(teams)))))
    # The earliest (date, occurrence) and the version it was reached under, as one number:
    # day number (days since 1970-01-01) * 10**12 + occurrence * 10**6 + version.
    first = func.min(_first_key(dialect), type_=BigInteger)
    query = select(m.instance_id, m.code, first).where(*conditions).group_by(m.code, m.instance_id)
    position = {code: index for index, code in enumerate(order)}
    journeys: dict[int, list[tuple[int, int]]] = {}
    with collector_paused():
        for instance_id, code, key in session.connection().execute(query).all():
            journeys.setdefault(instance_id, []).append((position[code], key))
    low, high = (_day_number(d) for d in started) if started else (None, None)
    counted: dict[tuple, int] = {}
    for reached in journeys.values():
        if len(reached) < 2:
            continue
        reached.sort()
        month = reached[0][1] // _DAY
        before = before_on = None
        for step, key in reached:
            on = key // _DAY
            if before is not None and (low is None or low <= before_on <= high):
                stage = (before, step, on - before_on, month, key % _OCCURRENCE)
                counted[stage] = counted.get(stage, 0) + 1
            before, before_on = step, on
    months: dict[int, date] = {}  # journey start day -> its month
    for day in {stage[3] for stage in counted}:
        months[day] = date.fromordinal(day + _EPOCH).replace(day=1)
    found: dict[tuple, int] = {}
    for (a, b, n_days, day, version), n in counted.items():
        key = (a, b, n_days, months[day], version)
        found[key] = found.get(key, 0) + n
    return [StageCount(order[a], order[b], n_days, month, version, n)
            for (a, b, n_days, month, version), n in found.items()]


_DAY, _OCCURRENCE = 10 ** 12, 10 ** 6
_EPOCH = date(1970, 1, 1).toordinal()


def _day_number(day: date) -> int:
    return day.toordinal() - _EPOCH


def _first_key(dialect: str):
    m = Milestone
    if dialect == "sqlite":  # dates are ISO text there
        days = cast(func.julianday(m.actual_date) - 2440587.5, BigInteger)
    else:
        days = m.actual_date - date(1970, 1, 1)
    return (days * literal(_DAY, BigInteger) + m.occurrence * literal(_OCCURRENCE, BigInteger)
            + m.model_version)
