"""Breach forecast: which statutory clocks each child will miss at the current pace (pure).

Why: the aims count a missed deadline only after it has passed, when nothing can be done.
A team leader needs to know *before*: which children will miss the Aim 1 review, the
30-week recommendation for permanence or the ADM decision if their journey goes on at the
pace children's journeys have recently gone.

Clocks (``CLOCKS``; deadlines are the anchor plus the aim's threshold, a council setting,
``workflows/measures/aims.py``):

- ``aim1_review``: CSO_START + Aim 1 threshold (e.g. 18 months), until the first
  AIM1_REVIEW;
- ``recommendation``: LA_START + Aim 2 threshold (e.g. 30 weeks), until the first
  PERM_RECOMMENDATION;
- ``adm``: a recommendation for permanence away from home + Aim 3 threshold (e.g. 30
  weeks from the LAR that recommended it), until the ADM decision.

**Current pace.** Each stage between consecutive milestones of a route has a pace: the
median days of that stage (``stage_delays.summarise``) over the stages completed in the
last ``WINDOW_DAYS`` before the measurement date (recent cohorts); when fewer than
``MIN_RECENT`` children completed a stage in that window, over every completed one. From
the last milestone the child reached on the route, the stage in progress is projected to
end at its start plus its median, or today if it has already run longer; every later
stage takes its median. The clock's milestone is *projected* on the date this reaches.

A clock is **forecast to be missed** when the projected date is after the deadline;
**missed** when the deadline has passed without the milestone; otherwise **on track**.
*Slack* is the deadline minus the projected date in days (negative: the days it will be
late). A route stage no child has ever completed has no pace: the projection is
**unknown** and says which stage. Children whose episode ended, or whose clock's milestone
is recorded, are not forecast. Nothing dated after the measurement date is read.
"""
from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from workflows.measures import stage_delays
from workflows.measures.aims import AimSettings, Threshold
from workflows.measures.records import Child, Episode, Reached
from workflows.measures.aim_results import AWAY_ROUTES
from workflows.vocabulary import CSO_HOME, CSO_ORDER, JOURNEY_ORDER, MILESTONES, PERMANENCE

WINDOW_DAYS = 365
MIN_RECENT = 5
MISSED, WILL_MISS, ON_TRACK, UNKNOWN = "missed", "will_miss", "on_track", "unknown"
STATUS_LABELS = {MISSED: "Deadline passed, not done", WILL_MISS: "Forecast to be missed",
                 ON_TRACK: "On track", UNKNOWN: "No pace known"}
AT_RISK = (MISSED, WILL_MISS)


@dataclass(frozen=True)
class Clock:
    code: str
    title: str
    process_id: str
    aim: int
    route: tuple[str, ...]  # the anchor milestone first, the clock's milestone last
    order: tuple[str, ...]  # journey order the stages are measured in

    @property
    def anchor_code(self) -> str:
        return self.route[0]

    @property
    def target_code(self) -> str:
        return self.route[-1]


CLOCKS: dict[str, Clock] = {
    "aim1_review": Clock("aim1_review", "Aim 1 review", CSO_HOME, 1,
                         ("CSO_START", "AIM1_REVIEW"), CSO_ORDER),
    "recommendation": Clock("recommendation", "Recommendation for permanence", PERMANENCE, 2,
                            ("LA_START", "PLANNING_MTG", "INITIAL_LAR", "INTERIM_LAR",
                             "LEGAL_REFERRAL", "LEGAL_OPINION", "PERM_RECOMMENDATION"),
                            JOURNEY_ORDER),
    "adm": Clock("adm", "ADM decision", PERMANENCE, 3,
                 ("PERM_RECOMMENDATION", "CAPR", "PANEL", "ADM"), JOURNEY_ORDER),
}


class StagePace(NamedTuple):
    start_code: str
    end_code: str
    days: int  # the median, rounded half up to whole days
    n: int
    recent: bool  # from the recent window (False: from every completed stage)


Pace = Mapping[tuple[str, str], StagePace]


def _whole_days(value: float) -> int:
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def window_start(on: date, window_days: int = WINDOW_DAYS) -> date:
    """Stages that ended after this day are recent."""
    return on - timedelta(days=min(window_days, (on - date.min).days))


def pace(episodes: Iterable[Episode], order: Sequence[str], on: date,
         window_days: int = WINDOW_DAYS,
         min_recent: int = MIN_RECENT) -> dict[tuple[str, str], StagePace]:
    """Median days of each stage: recent completions when there are enough, else all."""
    items = stage_delays.intervals(episodes, order, until=on)
    since = window_start(on, window_days)
    return pace_of(items, [i for i in items if i.end > since], order, min_recent)


def pace_of(every: Iterable[stage_delays.Interval | stage_delays.StageCount],
            recent: Iterable[stage_delays.Interval | stage_delays.StageCount],
            order: Sequence[str], min_recent: int = MIN_RECENT) -> dict[tuple[str, str], StagePace]:
    """``pace`` from the completed stages (intervals or ``stage_sql`` counts) and those of
    them that ended in the window."""
    recent = {(s.start_code, s.end_code): s for s in stage_delays.summarise(recent, order)}
    found = {}
    for stat in stage_delays.summarise(every, order):
        key = (stat.start_code, stat.end_code)
        chosen = recent.get(key)
        use_recent = chosen is not None and chosen.n >= min_recent
        chosen = chosen if use_recent else stat
        found[key] = StagePace(*key, _whole_days(chosen.median), chosen.n, use_recent)
    return found


class Forecast(NamedTuple):
    child: Child
    instance_id: int
    clock: str
    anchor: date
    deadline: date
    reached_code: str  # the last milestone of the route the child reached
    reached_on: date
    projected: date | None
    status: str
    measured_on: date
    note: str = ""  # why the projection is unknown

    @property
    def slack_days(self) -> int | None:
        return None if self.projected is None else (self.deadline - self.projected).days

    @property
    def days_left(self) -> int:
        return (self.deadline - self.measured_on).days

    @property
    def sort_key(self) -> tuple:
        slack = self.slack_days if self.slack_days is not None else self.days_left
        return (slack, self.deadline, self.child.reference, self.clock)


def project(reached_code: str, reached_on: date, clock: Clock, stages: Pace,
            on: date) -> tuple[date | None, str]:
    """The date the clock's milestone is reached at the current pace, or (None, why)."""
    route = clock.route
    position = route.index(reached_code)
    day, first = reached_on, True
    while route[position] != clock.target_code:
        step = next(((j, stages[(route[position], route[j])])
                     for j in range(position + 1, len(route))
                     if (route[position], route[j]) in stages), None)
        if step is None:
            return None, (f"no child has completed the stage after "
                          f"{MILESTONES.get(route[position], route[position]).lower()}")
        position, stat = step
        if (date.max - day).days < stat.days:
            return None, "the projected date is beyond the calendar"
        day = day + timedelta(days=stat.days)
        if first:
            day, first = max(day, on), False
    return day, ""


@functools.lru_cache(maxsize=8192)
def _deadline(threshold: Threshold, anchor: date) -> date:
    return threshold.add_to(anchor)  # children share anchor dates: each computed once


def _anchor(ep: Episode, clock: Clock, on: date) -> Reached | None:
    """The milestone that started the clock (for the ADM clock: the latest recommendation,
    when it is away from home)."""
    if clock.code == "adm":
        recommendations = ep.every(clock.anchor_code, on)
        last = recommendations[-1] if recommendations else None
        route = (last.data or {}).get("route") if last else None
        return last if route in AWAY_ROUTES else None
    return ep.first(clock.anchor_code, on)


def _reached_since(ep: Episode, code: str, since: date, on: date) -> Reached | None:
    """The first occurrence of ``code`` dated from ``since`` to ``on``."""
    for reached in ep.milestones.get(code, ()):
        if reached.on > on:
            return None
        if reached.on >= since:
            return reached
    return None


def forecast_episode(ep: Episode, clock: Clock, settings: AimSettings, stages: Pace,
                     on: date) -> Forecast | None:
    if ep.ended_on is not None and ep.ended_on <= on:
        return None
    anchor = _anchor(ep, clock, on)
    if anchor is None:
        return None
    if _reached_since(ep, clock.target_code, anchor.on, on) is not None:
        return None  # done: the aims count it
    reached_code, reached_on = clock.anchor_code, anchor.on
    for code in clock.route[1:-1]:
        found = _reached_since(ep, code, anchor.on, on)
        if found is not None:
            reached_code, reached_on = code, max(reached_on, found.on)
    deadline = _deadline(settings.threshold, anchor.on)
    projected, note = project(reached_code, reached_on, clock, stages, on)
    if deadline < on:
        status = MISSED
    elif projected is None:
        status = UNKNOWN
    else:
        status = WILL_MISS if projected > deadline else ON_TRACK
    return Forecast(ep.child, ep.instance_id, clock.code, anchor.on, deadline, reached_code,
                    reached_on, projected, status, on, note)


def forecast(episodes: Mapping[str, Sequence[Episode]], settings: Mapping[int, AimSettings],
             on: date, clocks: Iterable[str] = tuple(CLOCKS)) -> list[Forecast]:
    """Every open clock of every episode, most at risk first (least slack).

    ``episodes`` maps a process id to its episodes; the pace of each process is measured
    on those same episodes."""
    clocks = tuple(clocks)
    paces: dict[str, Pace] = {}
    for clock in (CLOCKS[code] for code in clocks):
        if clock.process_id not in paces:
            paces[clock.process_id] = pace(episodes.get(clock.process_id, ()), clock.order, on)
    return forecast_at(episodes, paces, settings, on, clocks)


def forecast_at(episodes: Mapping[str, Iterable[Episode]], paces: Mapping[str, Pace],
                settings: Mapping[int, AimSettings], on: date,
                clocks: Iterable[str] = tuple(CLOCKS)) -> list[Forecast]:
    """``forecast`` at a pace measured elsewhere (``paces``: per process id), e.g. on a
    whole council's counted stages while only the episodes still open are read."""
    found = []
    for code in clocks:
        clock = CLOCKS[code]
        for ep in episodes.get(clock.process_id, ()):
            item = forecast_episode(ep, clock, settings[clock.aim], paces[clock.process_id], on)
            if item is not None:
                found.append(item)
    return sorted(found, key=lambda f: f.sort_key)


class TeamRow(NamedTuple):
    team: str
    clock: str
    open: int
    missed: int
    will_miss: int
    on_track: int
    unknown: int


def by_team(items: Iterable[Forecast]) -> list[TeamRow]:
    """Open clocks per team and clock, by status."""
    counts: dict[tuple[str, str], Counter] = {}
    for item in items:
        counts.setdefault((item.child.team, item.clock), Counter())[item.status] += 1
    order = {code: i for i, code in enumerate(CLOCKS)}
    return [TeamRow(team, clock, sum(c.values()), c[MISSED], c[WILL_MISS], c[ON_TRACK],
                    c[UNKNOWN])
            for (team, clock), c in sorted(counts.items(), key=lambda kv: (kv[0][0],
                                                                           order[kv[0][1]]))]
