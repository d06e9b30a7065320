"""The measures for one scope, as the Measures pages, the JSON API and the command line
show them: aims, an aim's run chart, stage delays, time to decision, breach forecast.

A scope is the council (``Settings.council``, from ``PACE_COUNCIL``), the measurement
date and a team filter (None: every team), decided by the caller from the user's team
(``workflows.policy``); nothing here looks at who is asking.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from workflows.measures import aim_statuses, aim_store
from workflows.measures import aims as aim_settings
from workflows.measures import (forecast, forecast_reads as forecast_sql, aim_reads as measure_sql,
                                pdsa, run_charts, stage_delays,
                                stage_reads as stage_sql, survival)
from workflows.measures.aims import AIMS
from workflows.measures.data import load_deployments, load_episodes
from workflows.vocabulary import CSO_HOME, CSO_ORDER, JOURNEY_ORDER, PERMANENCE

PROCESS_ORDER = {PERMANENCE: JOURNEY_ORDER, CSO_HOME: CSO_ORDER}


def aim_results(session: Session, council: str, teams, on: date, numbers=AIMS, *,
                listed: bool = False) -> dict[int, aim_statuses.AimResult]:
    """Aims for the scope, read by aggregate queries (``measure_sql``: the same pure rules
    as ``measures.measure`` over episodes, without building every episode). The figures
    only, unless ``listed``: the drill-downs ask for the children behind them."""
    settings = aim_store.load(session, council)
    return measure_sql.aim_results(session, settings, on, teams, numbers, listed=listed)


def run_chart(session: Session, council: str, result: aim_statuses.AimResult,
              baseline: tuple[date, date] | None, denominator: str) -> run_charts.RunChart:
    """The aim's run chart over complete cohort months, annotated with PDSA cycles and
    deployments, astronomical points as flagged."""
    points = [run_charts.Point(c.month, value, c.tally.on_time if result.aim != 1
                               else c.tally.decided,
                               c.tally.decided if denominator == "decided" and result.aim != 1
                               else c.tally.due)
              for c in result.cohorts if c.complete
              for value in [result.value(c.tally, denominator)] if value is not None]
    notes = pdsa.annotations(pdsa.cycles(session, result.aim, council),
                             load_deployments(session, [pdsa.AIM_PROCESS[result.aim]]))
    flags = [f.month for f in pdsa.flagged_months(session, result.aim, council)]
    return run_charts.analyse(points, baseline=baseline, astronomical=flags, annotations=notes,
                              target=float(result.settings.target_pct))


@dataclass
class StageReport:
    process: str
    overall: list[stage_delays.StageStat]
    per_version: dict[int, list[stage_delays.StageStat]]
    per_quarter: dict[date, list[stage_delays.StageStat]]
    versions: list[int]
    comparison: list[stage_delays.Comparison] | None
    compare_label: str
    compared_versions: tuple[int, int] | None = None  # when two versions are compared
    out_of_order: int = 0  # stages left out: their later milestone is dated before the earlier


def stage_report(session: Session, process: str, teams, on: date, *, before: int | None = None,
                 after: int | None = None, ranges: tuple[date, date, date, date] | None = None
                 ) -> StageReport:
    """Stage delays, and a before/after comparison of two versions or two date ranges."""
    order = PROCESS_ORDER[process]
    versions = [d.version for d in load_deployments(session, [process])]
    # Counted by the database (stage_sql), once for the page and both ranges: a council's
    # 100,000 children in under a second, not the ten seconds and more that building every
    # episode takes.
    found = stage_sql.counted(session, process, order, on, teams,
                              started=(ranges[:2], ranges[2:]) if ranges else ())
    items, out_of_order = stage_delays.in_order(found.every)
    started = [stage_delays.in_order(part)[0] for part in found.started]
    comparison, label = None, ""
    if before is not None and after is not None:
        comparison = stage_delays.compare(stage_delays.in_version(items, before),
                                          stage_delays.in_version(items, after), order)
        label = f"version {before} and version {after}"
    elif ranges is not None:
        comparison = stage_delays.compare(*started, order)
        label = (f"stages started {ranges[0]:%d %b %Y} to {ranges[1]:%d %b %Y} and "
                 f"{ranges[2]:%d %b %Y} to {ranges[3]:%d %b %Y}")
    return StageReport(process, stage_delays.summarise(items, order),
                       stage_delays.by_version(items, order),
                       stage_delays.by_cohort(items, "quarter", order), versions, comparison,
                       label, (before, after) if before is not None and after is not None
                       else None, out_of_order)


THRESHOLD_REFERENCE = date(2001, 1, 1)


def threshold_days(threshold: aim_settings.Threshold) -> int:
    """The threshold in days, for marking a chart: 30w is 210; a threshold in months is
    counted from a fixed date (18m: 546), so the marker does not move with the date."""
    return (threshold.add_to(THRESHOLD_REFERENCE) - THRESHOLD_REFERENCE).days


def survival_report(session: Session, council: str, clock: str, teams, on: date,
                    grouping: str = "none",
                    ranges: tuple[tuple[date, date], ...] = ()) -> survival.Survival:
    spec = survival.CLOCKS[clock]
    episodes = load_episodes(session, PERMANENCE, codes=(spec.start_code, spec.event_code),
                             teams=teams)
    settings = aim_store.load(session, council)[spec.aim]
    return survival.analyse(episodes, spec, on, grouping=grouping, ranges=ranges,
                            threshold_days=threshold_days(settings.threshold))


def forecast_report(session: Session, council: str, teams, on: date,
                    clocks=tuple(forecast.CLOCKS)) -> list[forecast.Forecast]:
    """The pace from counted stages and only the episodes still open (``forecast_sql``:
    the same forecasts as ``forecast.forecast`` over every episode, in a fraction of the
    time for a whole council)."""
    settings = aim_store.load(session, council)
    return forecast_sql.forecast_report(session, settings, on, teams, clocks)
