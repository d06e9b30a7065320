"""Run charts with the IHI rules (Perla, Provost & Murray, BMJ Qual Saf 2011) — pure.

- The centre line is the median of a baseline: the first ``BASELINE_POINTS`` points, or the
  points inside a chosen baseline period. It is frozen and extended across later points, so
  a change tested after the baseline shows against it.
- **Shift**: 6 or more consecutive points all above or all below the median. Points on the
  median neither break nor count towards a shift.
- **Trend**: 5 or more consecutive points all going up or all going down. When neighbouring
  points are equal, only one of them counts (they neither make nor break a trend).
- **Runs**: a run is a series of points on one side of the median (points on it ignored);
  too few or too many runs for the number of useful observations (points not on the median)
  is a signal, judged with the published table below for 10 to 60 useful observations.
- **Astronomical point**: a point everyone would agree is unusual: flagged by a user.

The x axis is the calendar (``calendar``): a month with no point (no child's deadline fell
in it) is a gap, never closed up, so the distance between points is the time between them.
The rules read the points in month order and step over a gap (it neither breaks nor
extends a shift, a trend or a run), as the IHI guidance reads a chart with a missing
observation. A point resting on fewer than ``FEW_CHILDREN`` children (its denominator; a
deployment setting) is marked: one child more or less moves it by 20 points or more, so it
is read with care, and a shift or trend made of such points is weak evidence.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

FEW_CHILDREN = 5
SHIFT_POINTS = 6
TREND_POINTS = 5
BASELINE_POINTS = 10

# Perla, Provost & Murray (2011) Table 1, adapted from Swed & Eisenhart (1943), about a 5%
# risk of failing the runs test for random data. Useful observations → (lower, upper):
# fewer runs than ``lower`` is too few; more than ``upper`` is too many.
RUNS_TABLE: dict[int, tuple[int, int]] = {
    10: (3, 9), 11: (3, 10), 12: (3, 11), 13: (4, 11), 14: (4, 12), 15: (5, 12),
    16: (5, 13), 17: (5, 13), 18: (6, 14), 19: (6, 15), 20: (6, 16), 21: (7, 16),
    22: (7, 17), 23: (7, 17), 24: (8, 18), 25: (8, 18), 26: (9, 19), 27: (10, 19),
    28: (10, 20), 29: (10, 20), 30: (11, 21), 31: (11, 22), 32: (11, 23), 33: (12, 23),
    34: (12, 24), 35: (12, 24), 36: (13, 25), 37: (13, 25), 38: (14, 26), 39: (14, 26),
    40: (15, 27), 41: (15, 27), 42: (16, 28), 43: (16, 28), 44: (17, 29), 45: (17, 30),
    46: (17, 31), 47: (18, 31), 48: (18, 32), 49: (19, 32), 50: (19, 33), 51: (20, 33),
    52: (20, 34), 53: (21, 34), 54: (21, 35), 55: (22, 35), 56: (22, 35), 57: (23, 36),
    58: (23, 37), 59: (24, 38), 60: (24, 38),
}

SHIFT, TREND, TOO_FEW_RUNS, TOO_MANY_RUNS, ASTRONOMICAL = (
    "shift", "trend", "too_few_runs", "too_many_runs", "astronomical")
RULE_LABELS = {SHIFT: "Shift", TREND: "Trend", TOO_FEW_RUNS: "Too few runs",
               TOO_MANY_RUNS: "Too many runs", ASTRONOMICAL: "Flagged as unusual"}
# Each rule in words, for the pages (a manager need not know the IHI's names).
RULE_MEANINGS = {
    SHIFT: f"{SHIFT_POINTS} or more months in a row on the same side of the median",
    TREND: f"{TREND_POINTS} or more months in a row each higher, or each lower, than the last",
    TOO_FEW_RUNS: "the line crosses the median less often than chance would explain",
    TOO_MANY_RUNS: "the line crosses the median more often than chance would explain",
    ASTRONOMICAL: "a month someone flagged as out of the ordinary"}


@dataclass(frozen=True)
class Point:
    month: date
    value: float
    numerator: int | None = None
    denominator: int | None = None


@dataclass(frozen=True)
class Signal:
    rule: str
    indices: tuple[int, ...]  # the points that make the signal (all points for runs rules)
    direction: str | None = None  # above | below | up | down
    note: str = ""

    @property
    def label(self) -> str:
        return RULE_LABELS[self.rule]


@dataclass(frozen=True)
class Annotation:
    on: date
    kind: str  # pdsa | deployment
    label: str


@dataclass
class RunChart:
    points: list[Point]
    median: float | None
    baseline: tuple[int, ...]
    provisional: bool  # fewer than BASELINE_POINTS points in the baseline
    useful: int
    runs: int
    runs_limits: tuple[int, int] | None
    signals: list[Signal]
    annotations: list[Annotation] = field(default_factory=list)
    target: float | None = None

    def signals_at(self, index: int) -> list[Signal]:
        return [s for s in self.signals if index in s.indices and s.rule not in
                (TOO_FEW_RUNS, TOO_MANY_RUNS)]

    @property
    def has_signal(self) -> bool:
        return bool(self.signals)


def calendar(points: Sequence[Point]) -> list[tuple[date, int | None]]:
    """Every calendar month from the first point's to the last's, each with the index of its
    point in ``points`` (sorted by month), or None: a month with no point, a gap."""
    if not points:
        return []
    index = {p.month.replace(day=1): i for i, p in enumerate(points)}
    month, last = points[0].month.replace(day=1), points[-1].month.replace(day=1)
    found = []
    while month <= last:
        found.append((month, index.get(month)))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return found


def rests_on_few(point: Point, few: int = FEW_CHILDREN) -> bool:
    """Whether the point's denominator is below ``few`` children (0 has no point at all)."""
    return point.denominator is not None and point.denominator < few


def on_median(value: float, median: float) -> bool:
    return math.isclose(value, median, rel_tol=0.0, abs_tol=1e-9)


def baseline_indices(points: Sequence[Point], period: tuple[date, date] | None = None,
                     size: int = BASELINE_POINTS) -> tuple[int, ...]:
    """The points the median is taken from: those in ``period`` (first and last month,
    inclusive), else the first ``size`` points (all of them when there are fewer)."""
    if period is not None:
        first, last = period
        return tuple(i for i, p in enumerate(points) if first <= p.month <= last)
    return tuple(range(min(size, len(points))))


def shifts(values: Sequence[float], median: float, length: int = SHIFT_POINTS) -> list[Signal]:
    found, side, run = [], None, []
    for index, value in enumerate(values):
        if on_median(value, median):
            continue
        here = "above" if value > median else "below"
        if here != side:
            if len(run) >= length:
                found.append(Signal(SHIFT, tuple(run), side))
            side, run = here, []
        run.append(index)
    if len(run) >= length:
        found.append(Signal(SHIFT, tuple(run), side))
    return found


def trends(values: Sequence[float], length: int = TREND_POINTS) -> list[Signal]:
    """Runs of strictly rising or falling values, equal neighbours counted once."""
    groups: list[list[int]] = []  # indices of equal neighbouring values
    for index, value in enumerate(values):
        if groups and math.isclose(values[groups[-1][0]], value, rel_tol=0.0, abs_tol=1e-9):
            groups[-1].append(index)
        else:
            groups.append([index])
    found = []
    start, direction = 0, None
    for g in range(1, len(groups) + 1):
        step = None
        if g < len(groups):
            step = "up" if values[groups[g][0]] > values[groups[g - 1][0]] else "down"
        if step != direction or g == len(groups):
            if direction is not None and g - start >= length:
                found.append(Signal(TREND, tuple(i for grp in groups[start:g] for i in grp),
                                    direction))
            start, direction = g - 1, step
    return found


def count_runs(values: Sequence[float], median: float) -> tuple[int, int]:
    """(useful observations, runs): points on the median are ignored."""
    sides = ["above" if v > median else "below" for v in values if not on_median(v, median)]
    runs = sum(1 for i, side in enumerate(sides) if i == 0 or side != sides[i - 1])
    return len(sides), runs


def runs_signal(useful: int, runs: int) -> Signal | None:
    limits = RUNS_TABLE.get(useful)
    if limits is None:
        return None
    lower, upper = limits
    if runs < lower:
        return Signal(TOO_FEW_RUNS, (), None, f"{runs} runs in {useful} useful observations; "
                                              f"fewer than {lower} is too few")
    if runs > upper:
        return Signal(TOO_MANY_RUNS, (), None, f"{runs} runs in {useful} useful observations; "
                                               f"more than {upper} is too many")
    return None


def analyse(points: Sequence[Point], *, baseline: tuple[date, date] | None = None,
            astronomical: Iterable[date] = (), annotations: Iterable[Annotation] = (),
            target: float | None = None) -> RunChart:
    points = sorted(points, key=lambda p: p.month)
    values = [float(p.value) for p in points]
    base = baseline_indices(points, baseline)
    median = statistics.median(values[i] for i in base) if base else None
    signals: list[Signal] = []
    useful = runs = 0
    limits = None
    if median is not None:
        signals += shifts(values, median)
        useful, runs = count_runs(values, median)
        limits = RUNS_TABLE.get(useful)
        runs_found = runs_signal(useful, runs)
        if runs_found:
            signals.append(runs_found)
    signals += trends(values)
    flagged = {d.replace(day=1) for d in astronomical}
    signals += [Signal(ASTRONOMICAL, (i,)) for i, p in enumerate(points) if p.month in flagged]
    return RunChart(list(points), median, base, len(base) < BASELINE_POINTS, useful, runs,
                    limits, signals, sorted(annotations, key=lambda a: a.on), target)
