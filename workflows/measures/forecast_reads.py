"""Breach forecast of a whole caseload, without building every episode.

``forecast.forecast`` over ``measure_data.load_episodes`` reads every child's episode twice
over: once to measure the pace, once to forecast each clock; at 100,000 children that is
about a quarter of a minute, four tenths of it on episodes that had already ended. Here:

* the pace comes from the stages the database counts (``stage_sql.counted``:
  every completed stage, and those that ended in the window, in one reading), which is
  what ``forecast.pace`` computes from intervals;
* only the episodes that can still have an open clock are built: not ended on or before
  the measurement date (measured at a past date, an episode that ended later was open
  then), with only the milestones of the clocks' routes dated by the measurement date,
  read as the driver returns them, and of their data only what the forecast reads (the
  route of a recommendation);
* ``forecast.forecast_at`` forecasts them by the same rules.

tests/integration/test_forecast_sql.py proves both paths give the same forecasts, item for
item, on SQLite and PostgreSQL.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from engine.models import Milestone, ProcessInstance

from workflows.measures import driver_rows, forecast, stage_reads as stage_sql
from workflows.measures.aims import AimSettings
from workflows.measures.data import EMPTY, Episode, Reached, instance_rows, instances_of


def forecast_report(session: Session, settings: Mapping[int, AimSettings], on: date,
                    teams: Sequence[str] | None = None,
                    clocks: Iterable[str] = tuple(forecast.CLOCKS)) -> list[forecast.Forecast]:
    """``forecast.forecast`` of the episodes of ``teams`` (None: every team), each process
    at the pace of the same children."""
    clocks = tuple(clocks)
    by_process: dict[str, list[forecast.Clock]] = defaultdict(list)
    for code in clocks:
        by_process[forecast.CLOCKS[code].process_id].append(forecast.CLOCKS[code])
    paces, episodes = {}, {}
    with driver_rows.collector_paused():
        for process_id, wanted in by_process.items():
            paces[process_id] = pace(session, process_id, wanted[0].order, on, teams)
            episodes[process_id] = open_episodes(session, process_id, wanted, on, teams)
        return forecast.forecast_at(episodes, paces, settings, on, clocks)


def pace(session: Session, process_id: str, order: Sequence[str], on: date,
         teams: Sequence[str] | None = None) -> dict[tuple[str, str], forecast.StagePace]:
    """``forecast.pace`` of the episodes of ``teams``, from the stages the database counts."""
    found = stage_sql.counted(session, process_id, order, on, teams,
                              ended_after=forecast.window_start(on))
    return forecast.pace_of(found.every, found.recent, order)


def open_episodes(session: Session, process_id: str, clocks: Sequence[forecast.Clock], on: date,
                  teams: Sequence[str] | None = None) -> list[Episode]:
    """The episodes of ``process_id`` not ended on or before ``on``, with what the
    forecast of ``clocks`` reads of them."""
    pi, m = ProcessInstance, Milestone
    # A superset, a day wide, of "not ended by then" whatever the time zone of the stored
    # time: ``forecast_episode`` applies the exact rule to the date ``ended_on`` holds.
    still_open = or_(pi.status == "running", pi.completed_at.is_(None),
                     pi.completed_at >= datetime.combine(on - timedelta(days=1), time()))
    instances = instances_of(process_id, teams).where(still_open)
    codes = sorted({code for clock in clocks for code in clock.route})
    # Only the ADM clock reads a milestone's data: its anchor's route, read alone.
    with_route = [clock.anchor_code for clock in clocks if clock.code == "adm"]
    rows = (select(m.instance_id, m.code, m.occurrence, m.actual_date, m.model_version,
                   case((m.code.in_(with_route), m.data["route"].as_string())))
            .where(m.process_id == process_id, m.code.in_(codes), m.actual_date <= on,
                   m.instance_id.in_(instances.with_only_columns(pi.id)))
            # each milestone's occurrences in the order ``measure_data.episode`` keeps them
            .order_by(m.code, m.instance_id, m.actual_date, m.occurrence))
    connection = session.connection()
    days = driver_rows.Days()
    reached: dict[int, dict[str, list[Reached]]] = defaultdict(dict)
    for instance_id, code, occurrence, day, version, route in driver_rows.fetch(connection, rows):
        reached[instance_id].setdefault(code, []).append(_new(Reached, (
            code, days[day], occurrence, version, EMPTY if route is None else {"route": route})))
    return [Episode(instance_id, process_id, child,
                    {code: tuple(items) for code, items in reached.get(instance_id, {}).items()},
                    status, ended)
            for instance_id, child, status, ended in instance_rows(session, instances)]


_new = tuple.__new__  # a named tuple's own __new__ is a Python-level call
