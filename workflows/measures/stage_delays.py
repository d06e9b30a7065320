"""Stage delays: days between consecutive milestones, to show where drift happens (pure).

For each episode the milestones it reached (first occurrence of each, actual dates) are put
in journey order (``vocabulary.JOURNEY_ORDER``, or ``CSO_ORDER``); each consecutive pair is
one stage, e.g. INTERIM_LAR → LEGAL_REFERRAL, or PERM_RECOMMENDATION → CAPR for a child
whose route skips the return home. Stages are summarised by median and 90th percentile
days (Excel's PERCENTILE.INC, which councils' spreadsheets use), per cohort (month or
quarter of the episode's first milestone) and per model version (the diagram version the
stage was completed under), and compared before/after a change.

Stages come either as intervals (one per child and stage, from episodes) or as
``StageCount`` rows (how many children took exactly so many days, per stage, journey-start
month and version: what ``stage_sql.stage_counts`` reads from the database for a whole
council); every summary below reads both alike, each interval counting once.

A stage whose later milestone is dated before its earlier one (a recording error) would
count negative days and drag the median below zero: ``in_order`` leaves it out, and the
pages say how many were left out (the Data quality page names the children).

Only completed stages are measured: a child still waiting at a stage is not in its
figures, so a stage with many children waiting looks shorter than it is; read the aims'
overdue counts beside these.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from workflows.measures.records import Child, Episode
from workflows.vocabulary import JOURNEY_ORDER, MILESTONES


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

    @property
    def n(self) -> int:
        return 1


@dataclass(frozen=True, slots=True, order=True)
class StageCount:
    """``n`` completed stages of one kind that took ``days``, in journeys that started in
    ``journey_month``, completed under ``model_version``."""
    start_code: str
    end_code: str
    days: int
    journey_month: date
    model_version: int
    n: int

    @property
    def stage(self) -> tuple[str, str]:
        return (self.start_code, self.end_code)

    @property
    def journey_start(self) -> date:
        return self.journey_month


def counts(items: Iterable[Interval | StageCount]) -> list[StageCount]:
    """Intervals counted as the database counts them (sorted, for comparing)."""
    found: Counter = Counter()
    for item in items:
        found[(item.start_code, item.end_code, item.days, item.journey_start.replace(day=1),
               item.model_version)] += item.n
    return [StageCount(*key, n) for key, n in sorted(found.items())]


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


def percentile_of_counts(counted: Counter, p: float) -> float | None:
    """``percentile`` of the values a Counter holds, each as many times as it is counted."""
    total = sum(counted.values())
    if not total:
        return None
    rank = (total - 1) * p
    low = math.floor(rank)
    high = min(low + 1, total - 1)
    at_low = at_high = None
    seen = 0
    for value in sorted(counted):
        seen += counted[value]
        if at_low is None and seen > low:
            at_low = value
        if seen > high:
            at_high = value
            break
    return at_low + (at_high - at_low) * (rank - low)


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


def in_order(items: Iterable[Interval | StageCount]) -> tuple[list, int]:
    """(the stages that end on or after they begin, how many stages were left out because
    they end before they begin: milestones recorded out of order)."""
    kept, left_out = [], 0
    for item in items:
        if item.days < 0:
            left_out += item.n
        else:
            kept.append(item)
    return kept, left_out


def summarise(items: Iterable[Interval | StageCount],
              order: Sequence[str] = JOURNEY_ORDER) -> list[StageStat]:
    """Median and 90th percentile days per stage, stages in journey order."""
    position = {code: i for i, code in enumerate(order)}
    days: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for item in items:
        days[item.stage][item.days] += item.n
    stages = sorted(days, key=lambda s: (position.get(s[0], 99), position.get(s[1], 99)))
    return [StageStat(a, b, sum(days[(a, b)].values()), percentile_of_counts(days[(a, b)], 0.5),
                      percentile_of_counts(days[(a, b)], 0.9)) for a, b in stages]


def cohort_of(day: date, period: str = "month") -> date:
    if period == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if period == "year":
        return date(day.year, 1, 1)
    return day.replace(day=1)


def grouped(items: Iterable[Interval | StageCount],
            key: Callable[[Interval | StageCount], object], order: Sequence[str] = JOURNEY_ORDER) -> dict[object, list[StageStat]]:
    groups: dict[object, list] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return {k: summarise(groups[k], order) for k in sorted(groups)}


def by_cohort(items: Iterable[Interval | StageCount], period: str = "month",
              order: Sequence[str] = JOURNEY_ORDER) -> dict[date, list[StageStat]]:
    return grouped(items, lambda i: cohort_of(i.journey_start, period), order)


def by_version(items: Iterable[Interval | StageCount],
               order: Sequence[str] = JOURNEY_ORDER) -> dict[int, list[StageStat]]:
    return grouped(items, lambda i: i.model_version, order)


def in_version(items: Iterable[Interval | StageCount], version: int) -> list:
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
