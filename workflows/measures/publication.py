"""CSV exports of every measure, each headed by the versioned definitions it was made with.

Why: councils publish these figures, and a published number is only comparable with last
year's if the reader knows exactly how it was counted. So every export (aims, run charts,
outcome mix, stage delays, survival, forecast) opens with a definitions block: one line
per measure it contains, with the definition's version and wording, whether small numbers
were suppressed, and the date and teams the figures are for. A definition's wording never
changes without its version changing (a test pins the texts to their versions).

For publication (``publication=True``) every table goes through ``disclosure``: counts of
1 to 4 are withheld, then the counts that would give them away (a total minus the other
cells shown), and any figure computed from a withheld count, all marked "[c]"; so no
child can be recognised from a small cell, directly or by subtraction. Each table below
says which of its counts add up to which (its ``disclosure.Group``s). An export that lists
children (the forecast) gives its counts per team only.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import NamedTuple

from workflows.measures import forecast as forecasts
from workflows.measures import aim_results as measures, disclosure, run_charts, stage_delays, survival
from workflows.measures.aim_statuses import AimResult, pct, rounded
from workflows.measures.disclosure import Group, any_withheld, show

WITHHELD = disclosure.MARK
NONE = frozenset()


class Definition(NamedTuple):
    key: str
    title: str
    version: str
    text: str


_OWN = {
    "run_chart": ("Run chart", "1",
                  "One point per complete cohort month (every deadline in the month has passed): "
                  "the aim's figure for that month. Centre line: the median of the baseline "
                  "(the first 10 points, or a chosen period), frozen and extended. Signals (IHI: "
                  "Perla, Provost & Murray 2011): shift, 6 or more consecutive points on one "
                  "side of the median (points on it neither break nor count); trend, 5 or more "
                  "consecutive points all rising or all falling (equal neighbours count once); "
                  "too few or too many runs, judged with the published runs table for 10 to 60 "
                  "useful points; astronomical point, flagged by a user. Annotations: PDSA "
                  "cycle start dates and diagram versions deployed."),
    "outcome_mix": ("Aim 1 outcome mix", "1",
                    "The recommendation to the Children's Hearing recorded at each first Aim 1 "
                    "review counted in Aim 1 (on time or late): terminate, continue or vary the "
                    "Compulsory Supervision Order, or begin permanence planning away from home; "
                    "as a % of those reviews."),
    "stage_delays": ("Stage delays", "1",
                     "Days between consecutive milestones a child reached (first occurrence of "
                     "each, actual dates, in journey order); median and 90th percentile "
                     "(inclusive interpolation, as a spreadsheet's PERCENTILE.INC). Completed "
                     "stages only: a child still waiting at a stage is not in its figures. "
                     "Grouped by the diagram version a stage was completed under, or by the "
                     "date a stage started."),
    # Version 2 of survival and forecast: milestones by name, not by code.
    "survival": ("Time to permanence decision (Kaplan–Meier)", "2",
                 "Days from accommodation (the first time) to the recommendation for "
                 "permanence (the first after it), or from a recommendation away from "
                 "home to the ADM decision. Children still waiting at the measurement date, "
                 "or whose episode ended without the decision, are censored on that day. The "
                 "share still waiting is the Kaplan–Meier estimate (lifelines) with a 95% "
                 "confidence interval; the median is the first day it falls to 50% or below. "
                 "Groups (diagram version the clock started under, or start date ranges) are "
                 "compared with the log-rank test."),
    "forecast": ("Breach forecast", "2",
                 "Open statutory clocks (Aim 1 review: start of the order at home + Aim 1 "
                 "threshold; recommendation for permanence: date accommodated + Aim 2 "
                 "threshold; ADM decision: "
                 "recommendation away from home + Aim 3 threshold). Pace: median days of each "
                 "stage completed in the last 365 days (every completed one when fewer than 5). "
                 "The stage in progress ends at its median or today if it has run longer; "
                 "later stages take their medians. Forecast to be missed: projected after the "
                 "deadline. Slack: deadline minus projected date, in days."),
}
AIM_KEYS = {aim: f"aim{aim}" for aim in measures.DEFINITIONS}


def definition(key: str) -> Definition:
    """A measure's definition; the aims' come from workflows/measures/aim_results.py."""
    for aim, aim_key in AIM_KEYS.items():
        if key == aim_key:
            return Definition(key, f"Aim {aim}", measures.DEFINITIONS_VERSION,
                              measures.DEFINITIONS[aim])
    title, version, text = _OWN[key]
    return Definition(key, title, version, text)


def all_definitions() -> list[Definition]:
    return [definition(k) for k in (*AIM_KEYS.values(), *_OWN)]


def definitions_block(keys: Sequence[str], measured_on: date, scope: str,
                      publication: bool) -> list[list[str]]:
    """The lines every export opens with (the same style as ``measures.csv_rows``)."""
    found = [definition(k) for k in keys]
    rows = [[f"PACE Flow measure: {' with '.join(d.title for d in found)}"]]
    rows += [[f"Definition version {d.version} ({d.title}): {d.text}"] for d in found]
    rows += [[f"Figures as at {measured_on.isoformat()}; {scope}"],
             [disclosure.NOTICE if publication
              else "Not for publication: small numbers shown"], []]
    return rows


def share(numerator: int, denominator: int, withheld: bool, places: int = 1) -> str:
    """A percentage; withheld when a count it is computed from is (``withheld``), since
    with the other count shown it would give that count back."""
    if withheld:
        return WITHHELD
    return rounded(pct(numerator, denominator), places) if denominator else ""


def _days(value: float | None) -> str:
    return "" if value is None else rounded(value, 1)


# -- aims ----------------------------------------------------------------------------------
def aim_rows(result: AimResult, scope: str, publication: bool) -> list[list[str]]:
    """The aim's own table: ``measures.csv_rows`` already opens with its versioned
    definition and settings; the scope is added under them."""
    rows = measures.csv_rows(result, publication)
    header = next((i for i, row in enumerate(rows) if row and row[0] == "cohort_month"), 1)
    return rows[:header - 1] + [[f"Teams: {scope}"]] + rows[header - 1:]


def outcome_mix_rows(result: AimResult, scope: str, publication: bool) -> list[list[str]]:
    """Each recommendation's reviews add up to the reviews done."""
    rows = definitions_block(["aim1", "outcome_mix"], result.measured_on, scope, publication)
    done, mix = result.total.decided, result.outcome_mix()
    withheld = disclosure.protect({code: count for code, _, count, _ in mix} | {"total": done},
                                  [Group("total", tuple(code for code, *_ in mix))]) \
        if publication else NONE
    rows.append(["recommendation", "label", "reviews", "pct_of_reviews"])
    for code, label, count, _share in mix:
        rows.append([code, label, show(count, code, withheld),
                     share(count, done, any_withheld(withheld, code, "total"))])
    rows.append(["total", "Reviews done", show(done, "total", withheld), ""])
    return rows


def point_withheld(points: Sequence[run_charts.Point]) -> frozenset:
    """Run-chart points: a month's numerator and the children not in it (never printed)
    add up to its denominator, so 20 of 21 is withheld as surely as 1 of 21. Keyed
    ("numerator" | "denominator", index)."""
    cells, groups, hidden = {}, [], []
    for i, p in enumerate(points):
        cells |= {(name, i): n for name, n in (("numerator", p.numerator),
                                               ("denominator", p.denominator)) if n is not None}
        if p.numerator is None or p.denominator is None:
            continue  # a count on its own: withheld when small, nothing to add up
        cells[("rest", i)] = p.denominator - p.numerator
        groups.append(Group(("denominator", i), (("numerator", i), ("rest", i))))
        hidden.append(("rest", i))
    return disclosure.protect(cells, groups, hidden)


def run_chart_rows(chart: run_charts.RunChart, result: AimResult, denominator: str, scope: str,
                   publication: bool) -> list[list[str]]:
    rows = definitions_block([AIM_KEYS[result.aim], "run_chart"], result.measured_on, scope,
                             publication)
    withheld = point_withheld(chart.points) if publication else NONE
    # The median of the baseline is one point's value (or the mean of two): withheld when
    # a point it rests on is.
    median_hidden = any(any_withheld(withheld, ("numerator", i), ("denominator", i))
                        for i in chart.baseline)
    rows += [["median", WITHHELD if median_hidden else _days(chart.median), "baseline points",
              str(len(chart.baseline)),
              "provisional" if chart.provisional else "final"],
             ["target", _days(chart.target)],
             ["percentage of", denominator],
             ["useful points", str(chart.useful), "runs", str(chart.runs), "runs limits",
              "-".join(map(str, chart.runs_limits)) if chart.runs_limits else ""], [],
             ["month", "value", "numerator", "denominator", "in_baseline", "signals"]]
    for index, point in enumerate(chart.points):
        hidden = any_withheld(withheld, ("numerator", index), ("denominator", index))
        rows.append([point.month.strftime("%Y-%m"),
                     WITHHELD if hidden else rounded(point.value, 1),
                     "" if point.numerator is None
                     else show(point.numerator, ("numerator", index), withheld),
                     "" if point.denominator is None
                     else show(point.denominator, ("denominator", index), withheld),
                     "yes" if index in chart.baseline else "no",
                     "; ".join(s.label for s in chart.signals_at(index))])
    rows += [[], ["signal", "from", "to", "direction", "note"]]
    for signal in chart.signals:
        months = [chart.points[i].month.strftime("%Y-%m") for i in signal.indices]
        rows.append([signal.label, months[0] if months else "", months[-1] if months else "",
                     signal.direction or "", signal.note])
    rows += [[], ["annotation", "date", "kind"]]
    rows += [[note.label, note.on.isoformat(), note.kind] for note in chart.annotations]
    return rows


# -- stage delays -----------------------------------------------------------------------------
def _stage(stat: stage_delays.StageStat, key, withheld: frozenset) -> list[str]:
    hidden = key in withheld
    return [stat.start_code, stat.end_code, stat.label, show(stat.n, key, withheld),
            WITHHELD if hidden else _days(stat.median), WITHHELD if hidden else _days(stat.p90)]


def stage_withheld(overall: Sequence[stage_delays.StageStat], per_version: dict,
                   comparison: Sequence[stage_delays.Comparison] | None) -> frozenset:
    """Each stage's children per version, and those under no version (never printed), add
    up to its children overall. Keyed ("all" | ("version", v) | "before" | "after", stage);
    two ranges compared are counted on their own (they need not add up to anything)."""
    cells, groups, hidden = {}, [], []
    for stat in overall:
        stage = (stat.start_code, stat.end_code)
        parts = {(("version", v), stage): s.n for v, stats in per_version.items()
                 for s in stats if (s.start_code, s.end_code) == stage}
        cells |= parts | {("all", stage): stat.n, ("none", stage): stat.n - sum(parts.values())}
        hidden.append(("none", stage))
        groups.append(Group(("all", stage), (*parts, ("none", stage))))
    for c in comparison or ():
        stage = (c.before.start_code, c.before.end_code)
        cells |= {("before", stage): c.before.n, ("after", stage): c.after.n}
    return disclosure.protect(cells, groups, hidden)


def stage_rows(process: str, overall: Sequence[stage_delays.StageStat],
               per_version: dict, comparison: Sequence[stage_delays.Comparison] | None,
               compare_label: str, measured_on: date, scope: str,
               publication: bool, versions: tuple[int, int] | None = None) -> list[list[str]]:
    """``versions``: the two versions compared, when the comparison is of versions (their
    counts are then the per-version rows', withheld alike)."""
    rows = definitions_block(["stage_delays"], measured_on, scope, publication)
    withheld = stage_withheld(overall, per_version, comparison) if publication else NONE
    header = ["group", "from", "to", "stage", "children", "median_days", "p90_days"]
    rows += [["process", process], [], header]
    rows += [["all", *_stage(s, ("all", (s.start_code, s.end_code)), withheld)]
             for s in overall]
    for version, stats in per_version.items():
        rows += [[f"version {version}",
                  *_stage(s, (("version", version), (s.start_code, s.end_code)), withheld)]
                 for s in stats]
    if comparison is not None:
        rows += [[], ["comparing", compare_label],
                 ["from", "to", "stage", "children_before", "median_before", "p90_before",
                  "children_after", "median_after", "p90_after", "median_change", "p90_change"]]
        for c in comparison:
            stage = (c.before.start_code, c.before.end_code)
            keys = ((("version", versions[0]), stage), (("version", versions[1]), stage)) \
                if versions else (("before", stage), ("after", stage))
            before, after = _stage(c.before, keys[0], withheld), _stage(c.after, keys[1], withheld)
            hidden = any_withheld(withheld, *keys)
            rows.append([*before, *after[3:],
                         WITHHELD if hidden else _days(c.median_change),
                         WITHHELD if hidden else _days(c.p90_change)])
    return rows


# -- survival ---------------------------------------------------------------------------------
def survival_rows(result: survival.Survival, scope: str, publication: bool,
                  every: int = 28) -> list[list[str]]:
    """Publication: the curve read every four weeks (no individual day disclosed), the
    counts protected (``survival_withheld``) and every figure of a row withheld when a
    count of that row is. Otherwise the full event table."""
    rows = definitions_block(["survival"], result.measured_on, scope, publication)
    withheld = survival_withheld(result.curves, every) if publication else NONE
    rows += [["clock", result.clock.title],
             ["threshold_days",
              "" if result.threshold_days is None else str(result.threshold_days)]]
    if result.comparison is not None:
        c = result.comparison
        rows.append(["log-rank test", "chi-squared", rounded(c.statistic, 3), "df",
                     str(c.degrees_of_freedom), "p", rounded(c.p_value, 4)])
    rows += [[], ["group", "children", "decided", "censored", "median_days",
                  "pct_decided_by_threshold"]]
    for curve in result.curves:
        label = curve.label
        small = any_withheld(withheld, ("children", label), ("decided", label),
                             ("censored", label))
        by = curve.decided_by(result.threshold_days) if result.threshold_days else None
        rows.append([label, show(curve.n, ("children", label), withheld),
                     show(curve.decided, ("decided", label), withheld),
                     show(curve.censored, ("censored", label), withheld),
                     WITHHELD if small else _days(curve.median_days),
                     WITHHELD if small else _days(by)])
    if publication:
        rows += [[], ["group", "day", "still_waiting", "decided_so_far", "pct_still_waiting"]]
        for curve in result.curves:
            label = curve.label
            for day, decided, _censored, waiting in readings(curve, every):
                keys = (("children", label), ("waiting", label, day), ("decided", label, day))
                rows.append([label, str(day), show(waiting, keys[1], withheld),
                             show(decided, keys[2], withheld),
                             WITHHELD if any_withheld(withheld, *keys)
                             else _days(_pct(curve.waiting_at(day)))])
    else:
        rows += [[], ["group", "day", "at_risk", "decided", "censored", "pct_still_waiting",
                      "ci_lower", "ci_upper"]]
        for curve in result.curves:
            rows += [[curve.label, str(s.day), str(s.at_risk), str(s.decided), str(s.censored),
                      rounded(100 * s.waiting, 1), rounded(100 * s.lower, 1),
                      rounded(100 * s.upper, 1)] for s in curve.steps]
    return rows


def _pct(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


def readings(curve: survival.Curve, every: int = 28) -> list[tuple[int, int, int, int]]:
    """The curve's children every ``every`` days: (day, decided by then, censored by then,
    still waiting after it), which add up to the curve's children; the days are
    ``survival.grid``'s."""
    rows = []
    for day, *_ in survival.grid(curve, every):
        decided = sum(1 for o in curve.observations if o.decided and o.days <= day)
        censored = sum(1 for o in curve.observations if not o.decided and o.days <= day)
        rows.append((day, decided, censored, curve.n - decided - censored))
    return rows


def survival_withheld(curves: Sequence[survival.Curve], every: int = 28) -> frozenset:
    """A curve's decided and censored children add up to its children, and so, at each
    reading, do those decided by then, censored by then (never printed) and still
    waiting; the readings share the curve's total, so they are solved together
    (``disclosure``)."""
    cells, groups, hidden = {}, [], []
    for curve in curves:
        label = curve.label
        cells |= {("children", label): curve.n, ("decided", label): curve.decided,
                  ("censored", label): curve.censored}
        groups.append(Group(("children", label), (("decided", label), ("censored", label))))
        for day, decided, censored, waiting in readings(curve, every):
            keys = (("decided", label, day), ("censored", label, day), ("waiting", label, day))
            cells |= dict(zip(keys, (decided, censored, waiting)))
            hidden.append(keys[1])
            groups.append(Group(("children", label), keys))
    return disclosure.protect(cells, groups, hidden)


# -- forecast ---------------------------------------------------------------------------------
def forecast_rows(items: Iterable[forecasts.Forecast], measured_on: date, scope: str,
                  publication: bool) -> list[list[str]]:
    """Per team and clock for publication; per child (not for publication) otherwise."""
    items = list(items)
    rows = definitions_block(["forecast"], measured_on, scope, publication)
    rows.append(["team", "clock", "open", "missed", "forecast_to_be_missed", "on_track",
                 "no_pace_known"])
    for row in forecasts.by_team(items):
        # missed, forecast to be missed, on track and no pace known add up to open
        cells = dict(zip(row._fields[2:], row[2:]))
        withheld = disclosure.protect(cells, [Group("open", row._fields[3:])]) \
            if publication else NONE
        rows.append([row.team, row.clock, *(show(n, key, withheld) for key, n in cells.items())])
    if publication:
        return rows
    rows += [[], ["child_reference", "child", "team", "clock", "clock_started", "deadline",
                  "last_milestone", "last_milestone_on", "projected", "slack_days", "status",
                  "note"]]
    for f in items:
        rows.append([f.child.reference, f.child.name, f.child.team, f.clock, f.anchor.isoformat(),
                     f.deadline.isoformat(), f.reached_code, f.reached_on.isoformat(),
                     f.projected.isoformat() if f.projected else "",
                     "" if f.slack_days is None else str(f.slack_days), f.status, f.note])
    return rows
