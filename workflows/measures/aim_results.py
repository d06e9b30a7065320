"""PACE Aims 1–3 by cohort month of the deadline (pure: no database, no Flask): each aim's
rule turns episodes (``measure_records.Episode``) into entries, one child (or, for Aim 3, one
recommendation) with an anchor date, a deadline (anchor + the aim's threshold) and the date
the required step happened, if it has; ``aim_statuses`` classifies them (on time, late,
overdue, pending, ended) and tallies them. Anything dated after the measurement date is
ignored, so a past date reproduces what the figures were then.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from operator import attrgetter, itemgetter
from typing import NamedTuple

from workflows.measures import disclosure
from workflows.measures.aim_statuses import (AimResult, Cohort, Entry, LeftOut, Tally, classify,
                                             pct, rounded)
from workflows.measures.aims import AimSettings, Threshold
from workflows.measures.records import Child, Episode, Reached

# Version 2: the same definitions in plain words (milestones by name, not by code).
DEFINITIONS_VERSION = "2"
DEFINITIONS = {
    1: "Children on a Compulsory Supervision Order at home whose order has lasted longer than "
       "the threshold (from the date the order started at home) at the measurement date, or "
       "who were reviewed before then: % with a completed Aim 1 review. Cohort: month the "
       "threshold is reached. Children reviewed before the aim's start date, and orders that "
       "ended before the threshold without a review, are not counted.",
    2: "Children looked after and accommodated on or after the aim's start date: % with a "
       "recommendation for permanence (the first one, any route) within the threshold. "
       "Cohort: month of the deadline (date accommodated + threshold). Undecided children "
       "are counted once the deadline has passed.",
    3: "Recommendations for permanence away from home (route permanence order or adoption) "
       "made on or after the aim's start date: % ratified by "
       "the Agency Decision Maker (ADM) within the threshold of the review that recommended "
       "it. Cohort: month of the deadline. Undecided recommendations count once the deadline "
       "has passed.",
}
DONE_WORDS = {1: "reviewed", 2: "recommendation made", 3: "ratified by the ADM"}

AWAY_ROUTES = frozenset({"permanence_order", "adoption"})
AWAY_EVIDENCE = ("CAPR", "PANEL", "ADM")
# Milestones each aim reads (the loader fetches only these).
AIM_CODES = {1: ("CSO_START", "AIM1_REVIEW"),
             2: ("LA_START", "PERM_RECOMMENDATION"),
             3: ("LA_START", "PERM_RECOMMENDATION", "CAPR", "PANEL", "ADM")}
# Aims 1 and 2: (milestone that starts the clock, milestone that stops it, its detail field).
AIM_CLOCKS = {1: ("CSO_START", "AIM1_REVIEW", "recommendation"),
              2: ("LA_START", "PERM_RECOMMENDATION", "route")}


class _Deadlines(dict):
    """anchor date -> deadline, each computed once (children share anchor dates)."""

    def __init__(self, threshold: Threshold):
        super().__init__()
        self.threshold = threshold

    def __missing__(self, anchor: date) -> date:
        found = self[anchor] = self.threshold.add_to(anchor)
        return found


def reads_children(settings: AimSettings) -> bool:
    """Whether the aim's population is decided by a child's team or age."""
    return _exclusion(settings) is not None


def _exclusion(settings: AimSettings):
    """The population's test, or None when it takes every child (not called per child)."""
    population = settings.population
    return population.reason_excluded if population.teams or population.needs_age else None


_WITHIN_A_DAY = itemgetter(1, 2)  # instance_id, anchor
# Entries are built with tuple.__new__: a named tuple's own __new__ is a Python-level call,
# and a council's aims build hundreds of thousands of them.
_new = tuple.__new__


def _result(settings: AimSettings, measured_on: date, entries: list[Entry],
            left_out: list[LeftOut]) -> AimResult:
    """Entries in order of deadline, then instance and anchor. They share a few thousand
    deadlines: grouping by deadline and sorting only within a day costs a tenth of
    sorting a council's entries as one list."""
    by_day: dict[date, list[Entry]] = {}
    for entry in entries:
        same_day = by_day.get(entry[3])
        if same_day is None:
            by_day[entry[3]] = [entry]
        else:
            same_day.append(entry)
    by_month: dict[tuple[int, int], list[Entry]] = {}
    for deadline in sorted(by_day):
        items = by_day[deadline]
        if len(items) > 1:
            items.sort(key=_WITHIN_A_DAY)
        month = by_month.get((deadline.year, deadline.month))
        if month is None:
            by_month[(deadline.year, deadline.month)] = items
        else:
            month.extend(items)
    cohorts = [Cohort(month, Tally(items), _month_end(month) < measured_on)
               for month, items in ((date(y, m, 1), items)
                                    for (y, m), items in sorted(by_month.items()))]
    left_out.sort(key=attrgetter("instance_id"))  # stable: an episode's own order is kept
    return AimResult(settings, measured_on, Tally([e for c in cohorts for e in c.tally.entries]),
                     cohorts, left_out)


def _month_end(month: date) -> date:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


class _Listing:
    """Where a rule puts its entries when they are listed: each child named, for the
    drill-downs."""

    def __init__(self):
        self.entries: list[Entry] = []

    def add(self, *fields) -> None:
        self.entries.append(_new(Entry, fields))

    def result(self, settings: AimSettings, measured_on: date,
               left_out: list[LeftOut]) -> AimResult:
        return _result(settings, measured_on, self.entries, left_out)


class _Counting:
    """Where a rule puts its entries when only the figures are wanted (the dashboard, the
    aim pages and exports, the aims API): how many fall on each (deadline, status, detail),
    without building an entry per child (the three aims at 100,000 children on SQLite:
    0.73 s against 0.92 s listed, timed in turns)."""

    def __init__(self):
        self.counts: dict[tuple, int] = {}

    def add(self, _child, _instance_id, _anchor, deadline, _done_on, status, detail) -> None:
        key = (deadline, status, detail)
        self.counts[key] = self.counts.get(key, 0) + 1

    def result(self, settings: AimSettings, measured_on: date,
               left_out: list[LeftOut]) -> AimResult:
        months: dict[date, dict[tuple, int]] = {}
        total: dict[tuple, int] = {}
        for (deadline, status, detail), n in self.counts.items():
            month = months.setdefault(deadline.replace(day=1), {})
            key = (status, detail)
            month[key] = month.get(key, 0) + n
            total[key] = total.get(key, 0) + n
        cohorts = [Cohort(month, Tally(None, months[month]), _month_end(month) < measured_on)
                   for month in sorted(months)]
        left_out.sort(key=attrgetter("instance_id"))
        return AimResult(settings, measured_on, Tally(None, total), cohorts, left_out)


def _rule_start(settings: AimSettings, listed: bool):
    """What each aim's rule starts from: where its entries go (listed or counted), the
    children left out, the deadlines, the population's test."""
    return (_Listing() if listed else _Counting()), [], _Deadlines(settings.threshold), \
        _exclusion(settings)


class Clock(NamedTuple):
    """What Aims 1 and 2 read from one episode at the measurement date: the date its clock
    started (first anchor milestone), the first date the required step was done, with the
    detail recorded with it, and when the episode ended. ``measure_sql`` reads the same
    from the database in one query; the aims' rules below never see which source it was."""
    child: Child
    instance_id: int
    anchor: date
    done_on: date | None
    detail: str | None
    ended_on: date | None


class Recommendation(NamedTuple):
    """What Aim 3 reads about one recommendation for permanence at the measurement date:
    its route (None: not recorded), whether a CAPR, panel or ADM followed it before the next
    recommendation, the first ADM in that span, and the episode's accommodation and end."""
    child: Child
    instance_id: int
    made_on: date
    route: str | None
    away_evidence: bool
    adm_on: date | None
    accommodated_on: date | None
    ended_on: date | None


def left_out_placement(settings: AimSettings) -> str | None:
    """The placement whose children an aim's population leaves out altogether: Aim 1
    without ``kinship`` leaves out children on a CSO in kinship care (the CSO_START
    milestone's ``placement``; a child recorded without one is at home)."""
    return "kinship" if settings.aim == 1 and not settings.population.kinship else None


def clocks(episodes: Iterable[Episode], anchor_code: str, done_code: str, detail: str,
           measured_on: date, left_out: str | None = None) -> Iterator[Clock]:
    """Aims 1 and 2's reading of episodes (first occurrences on or before ``measured_on``);
    ``left_out``: a placement (``left_out_placement``) whose episodes are not read."""
    for ep in episodes:
        start = ep.first(anchor_code, measured_on)
        if start is None or (left_out and _field(start, "placement") == left_out):
            continue
        done = ep.first(done_code, measured_on)
        yield Clock(ep.child, ep.instance_id, start.on, done.on if done else None,
                    _field(done, detail), ep.ended_on)


def recommendations(episodes: Iterable[Episode], measured_on: date) -> Iterator[Recommendation]:
    """Aim 3's reading of episodes: each recommendation with what followed it."""
    for ep in episodes:
        made = ep.every("PERM_RECOMMENDATION", measured_on)
        if not made:
            continue
        accommodated = ep.first("LA_START", measured_on)
        for index, rec in enumerate(made):
            until = made[index + 1].on if index + 1 < len(made) else None
            route = _field(rec, "route")
            evidence = route is None and any(_between(ep.every(code, measured_on), rec.on, until)
                                              for code in AWAY_EVIDENCE)
            adm = next(iter(_between(ep.every("ADM", measured_on), rec.on, until)), None)
            yield Recommendation(ep.child, ep.instance_id, rec.on, route, evidence,
                                 adm.on if adm else None,
                                 accommodated.on if accommodated else None, ep.ended_on)


# A step dated before the clock it ends started is a recording error (the Data quality
# page lists it): counted, it would be "on time" by a negative number of days.
DATED_BEFORE_START = {1: "review dated before the order started (a date to correct)",
                      2: "recommendation dated before the child was accommodated "
                         "(a date to correct)"}


def aim1(episodes: Iterable[Episode], settings: AimSettings, measured_on: date) -> AimResult:
    """Aim 1: Aim 1 reviews of children on a CSO at home beyond the threshold."""
    return aim1_of(clocks(episodes, *AIM_CLOCKS[1], measured_on, left_out_placement(settings)),
                   settings, measured_on)


def aim1_of(items: Iterable[Clock], settings: AimSettings, measured_on: date,
            listed: bool = True) -> AimResult:
    """``listed=False``: the figures only (``_Counting``); the rules are the same."""
    found, left_out, deadlines, excluded = _rule_start(settings, listed)
    add, start_date = found.add, settings.start_date
    for item in items:
        child, anchor, done_on, ended_on = item.child, item.anchor, item.done_on, item.ended_on
        reason = excluded(child.team, child.date_of_birth, anchor) if excluded else None
        if reason is None and done_on is not None and done_on < anchor:
            reason = DATED_BEFORE_START[1]
        if reason is None and start_date:
            if done_on is not None and done_on < start_date:
                reason = "reviewed before the aim started"
            elif ended_on is not None and ended_on < start_date:
                reason = "order ended before the aim started"
        if reason:
            left_out.append(LeftOut(child, item.instance_id, reason))
            continue
        deadline = deadlines[anchor]
        add(child, item.instance_id, anchor, deadline, done_on,
            classify(deadline, done_on, measured_on, ended_on), item.detail)
    return found.result(settings, measured_on, left_out)


def aim2(episodes: Iterable[Episode], settings: AimSettings, measured_on: date) -> AimResult:
    """Aim 2: a recommendation for permanence within the threshold of accommodation."""
    return aim2_of(clocks(episodes, *AIM_CLOCKS[2], measured_on), settings, measured_on)


def aim2_of(items: Iterable[Clock], settings: AimSettings, measured_on: date,
            listed: bool = True) -> AimResult:
    found, left_out, deadlines, excluded = _rule_start(settings, listed)
    add, start_date = found.add, settings.start_date
    for item in items:
        child, anchor = item.child, item.anchor
        if start_date and anchor < start_date:
            continue  # accommodated before the aim: never part of it
        reason = excluded(child.team, child.date_of_birth, anchor) if excluded else None
        if reason is None and item.done_on is not None and item.done_on < anchor:
            reason = DATED_BEFORE_START[2]
        if reason:
            left_out.append(LeftOut(child, item.instance_id, reason))
            continue
        deadline = deadlines[anchor]
        add(child, item.instance_id, anchor, deadline, item.done_on,
            classify(deadline, item.done_on, measured_on, item.ended_on), item.detail)
    return found.result(settings, measured_on, left_out)


def aim3(episodes: Iterable[Episode], settings: AimSettings, measured_on: date) -> AimResult:
    """Aim 3: ADM ratification within the threshold of a recommendation away from home.

    Each away-from-home recommendation is one entry; its ADM decision is the first ADM
    milestone (recorded only when ratified) on or after it and before the next
    recommendation. A recommendation whose route was not recorded counts as away from home
    when a CAPR, panel or ADM followed it, and is otherwise listed as left out.
    """
    return aim3_of(recommendations(episodes, measured_on), settings, measured_on)


def aim3_of(items: Iterable[Recommendation], settings: AimSettings,
            measured_on: date, listed: bool = True) -> AimResult:
    found, left_out, deadlines, excluded = _rule_start(settings, listed)
    add, start_date = found.add, settings.start_date
    for rec in items:
        route = rec.route
        if route is None:
            if not rec.away_evidence:
                left_out.append(LeftOut(rec.child, rec.instance_id, "route not recorded"))
                continue
            route = "away (route not recorded)"
        elif route not in AWAY_ROUTES:
            continue
        if start_date and rec.made_on < start_date:
            continue
        reason = excluded(rec.child.team, rec.child.date_of_birth,
                          rec.accommodated_on or rec.made_on) if excluded else None
        if reason:
            left_out.append(LeftOut(rec.child, rec.instance_id, reason))
            continue
        deadline = deadlines[rec.made_on]
        add(rec.child, rec.instance_id, rec.made_on, deadline, rec.adm_on,
            classify(deadline, rec.adm_on, measured_on, rec.ended_on), route)
    return found.result(settings, measured_on, left_out)


# Each aim's rule over what it reads (``Clock``s, or Aim 3's ``Recommendation``s).
RULES = {1: aim1_of, 2: aim2_of, 3: aim3_of}


def measure(episodes: Iterable[Episode], settings: AimSettings, measured_on: date,
            listed: bool = True) -> AimResult:
    """``listed=False``: the figures without the children behind them (``_Counting``)."""
    aim = settings.aim
    items = recommendations(episodes, measured_on) if aim == 3 else \
        clocks(episodes, *AIM_CLOCKS[aim], measured_on, left_out_placement(settings))
    return RULES[aim](items, settings, measured_on, listed)


def _between(items: Sequence[Reached], start: date, before: date | None) -> list[Reached]:
    return [r for r in items if r.on >= start and (before is None or r.on < before)]


def _field(reached: Reached | None, name: str) -> str | None:
    if reached is None:
        return None
    value = reached.data.get(name) if reached.data else None
    return str(value) if value not in (None, "") else None


# -- publication --------------------------------------------------------------------------
SUPPRESS_BELOW = disclosure.SUPPRESS_BELOW
COUNT_COLUMNS = ("on_time", "late", "overdue", "pending", "ended")


def withheld_counts(result: AimResult) -> frozenset:
    """The counts of the aim's published table to withhold, keyed (row, column): each
    status column's cohort months add up to its total row, so a month withheld alone
    would be the total minus the months shown (``disclosure``)."""
    rows = _table_rows(result)
    cells = {(label, column): getattr(tally, column)
             for label, tally, _ in rows for column in COUNT_COLUMNS}
    months = [label for label, _, complete in rows if complete is not None]
    groups = [disclosure.Group(("total", column), tuple((m, column) for m in months))
              for column in COUNT_COLUMNS]
    return disclosure.protect(cells, groups)


def _table_rows(result: AimResult) -> list[tuple[str, Tally, bool | None]]:
    return ([(c.month.strftime("%Y-%m"), c.tally, c.complete) for c in result.cohorts]
            + [("total", result.total, None)])


def csv_rows(result: AimResult, publication: bool = False) -> list[list[str]]:
    """The aim by cohort month, with its definition and settings printed above the table.

    ``publication=True`` applies ``disclosure``: counts of 1–4 and the counts that would
    give them away are withheld, and a percentage is withheld when any count it is
    computed from is.
    """
    s = result.settings
    rows = [
        [f"PACE Flow measure: {s.title}"],
        [f"Definition version {DEFINITIONS_VERSION}: {DEFINITIONS[result.aim]}"],
        [f"Aim: {s.wording}"],
        [f"Target {rounded(float(s.target_pct))}%; threshold {s.threshold.describe()}; "
         f"population: {s.population.describe()}; aim start {s.start_date or 'none'}; "
         f"aim end {s.end_date or 'none'}; measured on {result.measured_on.isoformat()}"],
        [disclosure.NOTICE if publication else "Not for publication: small numbers shown"],
        [],
        ["cohort_month", "complete", *COUNT_COLUMNS[:2], "overdue_undecided", "deadline_ahead",
         "ended", "pct_on_time_of_decided", "pct_on_time_of_decided_and_overdue", "pct_done"],
    ]
    withheld = withheld_counts(result) if publication else frozenset()
    for label, tally, complete in _table_rows(result):
        def share(num: int, den: int, *columns: str) -> str:
            if disclosure.any_withheld(withheld, *((label, c) for c in columns)):
                return disclosure.MARK
            return rounded(pct(num, den), 1) if den else ""
        rows.append([label, "" if complete is None else ("yes" if complete else "no"),
                     *(disclosure.show(getattr(tally, c), (label, c), withheld)
                       for c in COUNT_COLUMNS),
                     share(tally.on_time, tally.decided, "on_time", "late"),
                     share(tally.on_time, tally.due, "on_time", "late", "overdue"),
                     share(tally.decided, tally.due, "on_time", "late", "overdue")])
    return rows
