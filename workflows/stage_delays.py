"""Stage delays: days between consecutive milestones, to show where drift happens (pure).

For each episode the milestones it reached (first occurrence of each, actual dates) are put
in journey order (``vocabulary.JOURNEY_ORDER``, or ``CSO_ORDER``); each consecutive pair is
one stage, e.g. INTERIM_LAR → LEGAL_REFERRAL, or PERM_RECOMMENDATION → CAPR for a child
whose route skips the return home. Stages are summarised by median and 90th percentile
days (Excel's PERCENTILE.INC, which councils' spreadsheets use), per cohort (month or
quarter of the episode's first milestone) and per model version (the diagram version the
stage was completed under), and compared before/after a change.

Only completed stages are measured: a child still waiting at a stage is not in its
figures, so a stage with many children waiting looks shorter than it is; read the aims'
overdue counts beside these.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from .measure_data import Child, Episode
from .vocabulary import JOURNEY_ORDER, MILESTONES


@dataclass(frozen=True, slots=True)
class Interval:
    child: Child
    instance_id: int
    start_code: str
    end_code: str
    start: date
    end: date
    model_version: int
    journey_start: date

    @property
    def stage(self) -> tuple[str, str]:
        return (self.start_code, self.end_code)

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class StageStat:
    start_code: str
    end_code: str
    n: int
    median: float | None
    p90: float | None

    @property
    def label(self) -> str:
        return f"{MILESTONES.get(self.start_code, self.start_code)} → " \
               f"{MILESTONES.get(self.end_code, self.end_code)}"


@dataclass(frozen=True)
class Comparison:
    before: StageStat
    after: StageStat

    @property
    def median_change(self) -> float | None:
        if self.before.median is None or self.after.median is None:
            return None
        return self.after.median - self.before.median

    @property
    def p90_change(self) -> float | None:
        if self.before.p90 is None or self.after.p90 is None:
            return None
        return self.after.p90 - self.before.p90


def percentile(values: Sequence[float], p: float) -> float | None:
    """Inclusive linear interpolation between closest ranks (Excel PERCENTILE.INC)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def intervals(episodes: Iterable[Episode], order: Sequence[str] = JOURNEY_ORDER,
              until: date | None = None) -> list[Interval]:
    """The completed stages of each episode (milestones after ``until`` are ignored)."""
    position = {code: i for i, code in enumerate(order)}
    found = []
    for ep in episodes:
        reached = [ep.first(code, until) for code in order]
        reached = sorted((r for r in reached if r is not None),
                         key=lambda r: position[r.code])
        if len(reached) < 2:
            continue
        journey_start = reached[0].on
        for a, b in zip(reached, reached[1:]):
            found.append(Interval(ep.child, ep.instance_id, a.code, b.code, a.on, b.on,
                                  b.model_version, journey_start))
    return found


def summarise(items: Iterable[Interval], order: Sequence[str] = JOURNEY_ORDER) -> list[StageStat]:
    """Median and 90th percentile days per stage, stages in journey order."""
    position = {code: i for i, code in enumerate(order)}
    days: dict[tuple[str, str], list[int]] = defaultdict(list)
    for item in items:
        days[item.stage].append(item.days)
    stages = sorted(days, key=lambda s: (position.get(s[0], 99), position.get(s[1], 99)))
    return [StageStat(a, b, len(days[(a, b)]), percentile(days[(a, b)], 0.5),
                      percentile(days[(a, b)], 0.9)) for a, b in stages]


def cohort_of(day: date, period: str = "month") -> date:
    if period == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if period == "year":
        return date(day.year, 1, 1)
    return day.replace(day=1)


def grouped(items: Iterable[Interval], key: Callable[[Interval], object],
            order: Sequence[str] = JOURNEY_ORDER) -> dict[object, list[StageStat]]:
    groups: dict[object, list[Interval]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return {k: summarise(groups[k], order) for k in sorted(groups)}


def by_cohort(items: Iterable[Interval], period: str = "month",
              order: Sequence[str] = JOURNEY_ORDER) -> dict[date, list[StageStat]]:
    return grouped(items, lambda i: cohort_of(i.journey_start, period), order)


def by_version(items: Iterable[Interval], order: Sequence[str] = JOURNEY_ORDER) -> dict[int, list[StageStat]]:
    return grouped(items, lambda i: i.model_version, order)


def in_version(items: Iterable[Interval], version: int) -> list[Interval]:
    return [i for i in items if i.model_version == version]


def started_between(items: Iterable[Interval], first: date, last: date) -> list[Interval]:
    """Stages that began in [first, last]: the children who met the process of that time."""
    return [i for i in items if first <= i.start <= last]


def compare(before: Iterable[Interval], after: Iterable[Interval],
            order: Sequence[str] = JOURNEY_ORDER) -> list[Comparison]:
    """Stage by stage, before and after a change (two versions or two date ranges)."""
    a = {(s.start_code, s.end_code): s for s in summarise(before, order)}
    b = {(s.start_code, s.end_code): s for s in summarise(after, order)}
    position = {code: i for i, code in enumerate(order)}
    stages = sorted(set(a) | set(b), key=lambda s: (position.get(s[0], 99), position.get(s[1], 99)))
    empty = lambda s: StageStat(s[0], s[1], 0, None, None)  # noqa: E731
    return [Comparison(a.get(s) or empty(s), b.get(s) or empty(s)) for s in stages]
