"""Time to a permanence decision as a Kaplan–Meier survival curve (pure: no database).

Why a survival curve: Aims 2 and 3 count a child only once the deadline has passed, and
a median of decided children's waits leaves out everyone still waiting, so the slowest
journeys vanish from the figures exactly when drift is worst. Kaplan–Meier counts a child
who is still mid-journey (or whose episode ended without the decision) as *censored*: the
child is known to have waited at least that long, and is in the risk set until then.

The curve is the share of children still waiting for the decision after a number of days;
it is estimated by ``lifelines`` (a maintained survival-analysis library), and curves for
two or more groups (diagram versions, or date ranges) are compared with its log-rank test.

Clocks (``CLOCKS``):

- ``recommendation``: accommodation (first LA_START) to the recommendation for permanence
  (first PERM_RECOMMENDATION after it) — the decision Aim 2 times;
- ``ratification``: a recommendation for permanence away from home (PERM_RECOMMENDATION
  with route permanence order or adoption) to the ADM decision (first ADM after it) — the
  decision Aim 3 times.

Each child's journey is grouped by the diagram version its start milestone was recorded
under (the version of the process the child met). Anything dated after the measurement
date is ignored, so a past date reproduces what the curve was then. A decision dated before
the clock started is a recording error: that child is listed as left out, never dropped
silently.
"""
from __future__ import annotations

import bisect
import math
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from workflows.measures.records import Child, Episode, Reached
from workflows.measures.aim_results import AWAY_ROUTES
from workflows.measures.aim_statuses import LeftOut

RECOMMENDATION, RATIFICATION = "recommendation", "ratification"


@dataclass(frozen=True)
class Clock:
    code: str
    title: str
    start_code: str
    event_code: str
    start_label: str
    event_label: str
    aim: int  # the aim whose threshold marks the chart


CLOCKS: dict[str, Clock] = {
    RECOMMENDATION: Clock(RECOMMENDATION, "Time to the recommendation for permanence",
                          "LA_START", "PERM_RECOMMENDATION", "accommodation",
                          "recommendation for permanence", 2),
    RATIFICATION: Clock(RATIFICATION, "Time to the ADM decision",
                        "PERM_RECOMMENDATION", "ADM",
                        "recommendation for permanence away from home", "ADM decision", 3),
}
GROUPINGS = ("none", "version", "ranges")
ALL_CHILDREN = "All children"


class Observation(NamedTuple):
    """One child's clock: days from the start to the decision, or to censoring."""
    child: Child
    instance_id: int
    start: date
    end: date  # the decision, or the last day the child was seen waiting
    decided: bool
    model_version: int

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _clock_starts(ep: Episode, clock: Clock, on: date) -> list[tuple[Reached, date | None]]:
    """(start milestone, when the next start begins) for each time the clock started."""
    if clock.code == RECOMMENDATION:
        start = ep.first(clock.start_code, on)
        return [(start, None)] if start is not None else []
    recommendations = ep.every(clock.start_code, on)
    found = []
    for index, rec in enumerate(recommendations):
        if (rec.data or {}).get("route") in AWAY_ROUTES:
            following = recommendations[index + 1].on if index + 1 < len(recommendations) else None
            found.append((rec, following))
    return found


def observations(episodes: Iterable[Episode], clock: Clock | str,
                 on: date) -> tuple[list[Observation], list[LeftOut]]:
    """Each started clock as an observation at ``on``, and children left out (and why).

    A child still waiting at ``on`` is censored at ``on``; one whose episode ended before
    the decision is censored at the end of the episode (known to have waited that long)."""
    clock = CLOCKS[clock] if isinstance(clock, str) else clock
    found: list[Observation] = []
    left_out: list[LeftOut] = []
    for ep in episodes:
        for start, until in _clock_starts(ep, clock, on):
            events = [r for r in ep.every(clock.event_code, on)
                      if (clock.code == RECOMMENDATION or r.on >= start.on)
                      and (until is None or r.on < until)]
            event = events[0] if events else None
            if event is not None and event.on < start.on:
                left_out.append(LeftOut(ep.child, ep.instance_id,
                                        f"{clock.event_label} dated before {clock.start_label}"))
                continue
            if event is not None:
                found.append(Observation(ep.child, ep.instance_id, start.on, event.on, True,
                                         start.model_version))
                continue
            last_seen = on
            if until is not None:
                last_seen = until
            if ep.ended_on is not None and ep.ended_on <= on:
                last_seen = min(last_seen, ep.ended_on)
            found.append(Observation(ep.child, ep.instance_id, start.on, max(last_seen, start.on),
                                     False, start.model_version))
    return found, left_out


# -- grouping --------------------------------------------------------------------------------
def by_version(items: Iterable[Observation]) -> dict[str, list[Observation]]:
    groups: dict[int, list[Observation]] = defaultdict(list)
    for item in items:
        groups[item.model_version].append(item)
    return {f"Version {v}": groups[v] for v in sorted(groups)}


def by_start_range(items: Sequence[Observation],
                   ranges: Sequence[tuple[date, date]]) -> dict[str, list[Observation]]:
    """Children whose clock started inside each [first, last] range (ranges may overlap)."""
    return {f"Started {a:%d %b %Y} to {b:%d %b %Y}": [i for i in items if a <= i.start <= b]
            for a, b in ranges}


# -- Kaplan–Meier -----------------------------------------------------------------------------
class Step(NamedTuple):
    """The curve just after ``day``: how many were waiting then, decided and censored on it."""
    day: int
    at_risk: int
    decided: int
    censored: int
    waiting: float  # Kaplan–Meier estimate of the share still waiting after ``day``
    lower: float  # 95% confidence interval (lifelines' exponential Greenwood)
    upper: float


@dataclass
class Curve:
    label: str
    observations: list[Observation]
    steps: list[Step] = field(default_factory=list)
    median_days: float | None = None  # None: fewer than half decided so far

    @property
    def n(self) -> int:
        return len(self.observations)

    @property
    def decided(self) -> int:
        return sum(1 for o in self.observations if o.decided)

    @property
    def censored(self) -> int:
        return self.n - self.decided

    def waiting_at(self, day: float) -> float | None:
        """The estimated share still waiting ``day`` days after the start (a step function,
        right-continuous); None beyond the last observation, where nothing is known."""
        if not self.steps:
            return None
        if day > self.steps[-1].day:
            return None
        value = 1.0
        for step in self.steps:
            if step.day > day:
                break
            value = step.waiting
        return value

    def decided_by(self, day: float) -> float | None:
        """Estimated % decided within ``day`` days (100 × (1 − waiting))."""
        waiting = self.waiting_at(day)
        return None if waiting is None else 100.0 * (1.0 - waiting)


def preload() -> None:
    """Import lifelines ahead of need: it pulls in pandas and scipy (about 3 s of CPU, far
    more on a busy server), which would otherwise land on the first person to open the
    time-to-decision page."""
    import lifelines  # noqa: F401


def fit(label: str, items: Sequence[Observation]) -> Curve:
    """The Kaplan–Meier curve of one group (lifelines' KaplanMeierFitter)."""
    curve = Curve(label, list(items))
    if not items:
        return curve
    from lifelines import KaplanMeierFitter  # heavy (pandas, scipy): only when drawing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter = KaplanMeierFitter().fit([o.days for o in items], [o.decided for o in items])
    table = fitter.event_table
    estimate = fitter.survival_function_.iloc[:, 0]
    bounds = fitter.confidence_interval_survival_function_
    for day, row in table.iterrows():
        lower, upper = bounds.loc[day].iloc[0], bounds.loc[day].iloc[1]
        curve.steps.append(Step(int(day), int(row["at_risk"]), int(row["observed"]),
                                int(row["censored"]), float(estimate.loc[day]),
                                _finite(lower, 0.0), _finite(upper, 1.0)))
    median = float(fitter.median_survival_time_)
    curve.median_days = median if math.isfinite(median) else None
    return curve


def _finite(value, default: float) -> float:
    value = float(value)
    return value if math.isfinite(value) else default


@dataclass(frozen=True)
class LogRank:
    """Whether the curves differ more than chance would explain (log-rank test)."""
    groups: tuple[str, ...]
    statistic: float
    degrees_of_freedom: int
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def log_rank(curves: Sequence[Curve]) -> LogRank | None:
    """lifelines' log-rank test across the groups that have at least one child; None with
    fewer than two such groups or no decision at all (nothing to compare)."""
    usable = [c for c in curves if c.n]
    if len(usable) < 2 or not any(c.decided for c in usable):
        return None
    from lifelines.statistics import multivariate_logrank_test
    durations, groups, observed = [], [], []
    for index, curve in enumerate(usable):
        for item in curve.observations:
            durations.append(item.days)
            groups.append(index)
            observed.append(item.decided)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = multivariate_logrank_test(durations, groups, observed)
    return LogRank(tuple(c.label for c in usable), float(result.test_statistic),
                   int(result.degrees_of_freedom), float(result.p_value))


@dataclass
class Survival:
    clock: Clock
    measured_on: date
    curves: list[Curve]
    left_out: list[LeftOut]
    comparison: LogRank | None
    threshold_days: int | None = None  # the aim's threshold, for the chart's marker


def analyse(episodes: Iterable[Episode], clock: Clock | str, on: date, *,
            grouping: str = "none", ranges: Sequence[tuple[date, date]] = (),
            threshold_days: int | None = None,
            group: Callable[[list[Observation]], Mapping[str, list[Observation]]] | None = None
            ) -> Survival:
    """Curves for the clock at ``on``: one for every child (``grouping="none"``), one per
    diagram version, or one per date range of the clock's start; compared by log-rank."""
    clock = CLOCKS[clock] if isinstance(clock, str) else clock
    items, left_out = observations(episodes, clock, on)
    if group is not None:
        groups = dict(group(items))
    elif grouping == "version":
        groups = by_version(items)
    elif grouping == "ranges":
        groups = by_start_range(items, ranges)
    else:
        groups = {ALL_CHILDREN: items}
    curves = [fit(label, members) for label, members in groups.items()]
    comparison = log_rank(curves) if len(curves) > 1 else None
    return Survival(clock, on, curves, left_out, comparison, threshold_days)


def grid(curve: Curve, every: int = 28,
         until: int | None = None) -> list[tuple[int, int, int, float | None]]:
    """The curve read every ``every`` days: (day, still at risk, decided so far, % waiting),
    the shape published tables take (individual event days are not disclosed). It runs to
    the first reading on or after the last decision (the curve is flat beyond it)."""
    if not curve.observations:
        return []
    waited = sorted(o.days for o in curve.observations)
    decided = sorted(o.days for o in curve.observations if o.decided)
    if until is None:
        last = decided[-1] if decided else 0
        until = -(-last // every) * every
    rows = []
    for day in range(0, until + 1, every):
        at_risk = len(waited) - bisect.bisect_left(waited, day)
        waiting = curve.waiting_at(day)
        rows.append((day, at_risk, bisect.bisect_right(decided, day),
                     None if waiting is None else 100.0 * waiting))
    return rows
