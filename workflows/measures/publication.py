"""CSV exports of every measure, each headed by the versioned definitions it was made with.

Why: councils publish these figures, and a published number is only comparable with last
year's if the reader knows exactly how it was counted. So every export (aims, run charts,
outcome mix, stage delays, survival, forecast) opens with a definitions block: one line
per measure it contains, with the definition's version and wording, whether small numbers
were suppressed, and the date and teams the figures are for. A definition's wording never
changes without its version changing (a test pins the texts to their versions).

For publication (``publication=True``) counts of 1 to 4 are shown as "<5"
(``measures.suppressed``) and any figure computed from such a count is withheld, so no
child can be recognised from a small cell; an export that lists children (the forecast)
gives its counts per team only.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import NamedTuple

from workflows.measures import forecast as forecasts
from workflows.measures import aim_results as measures, run_charts, stage_delays, survival
from workflows.measures.aim_results import SUPPRESS_BELOW, suppressed
from workflows.measures.aim_statuses import AimResult, pct, rounded

WITHHELD = "suppressed"


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
    "survival": ("Time to permanence decision (Kaplan–Meier)", "1",
                 "Days from accommodation (first LA_START) to the recommendation for "
                 "permanence (first PERM_RECOMMENDATION), or from a recommendation away from "
                 "home to the ADM decision. Children still waiting at the measurement date, "
                 "or whose episode ended without the decision, are censored on that day. The "
                 "share still waiting is the Kaplan–Meier estimate (lifelines) with a 95% "
                 "confidence interval; the median is the first day it falls to 50% or below. "
                 "Groups (diagram version the clock started under, or start date ranges) are "
                 "compared with the log-rank test."),
    "forecast": ("Breach forecast", "1",
                 "Open statutory clocks (Aim 1 review: CSO_START + Aim 1 threshold; "
                 "recommendation for permanence: LA_START + Aim 2 threshold; ADM decision: "
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
             ["Small numbers (1-4) suppressed" if publication
              else "Not for publication: small numbers shown"], []]
    return rows


def share(numerator: int, denominator: int, publication: bool, places: int = 1) -> str:
    """A percentage, withheld for publication when either count is 1 to 4."""
    if publication and (0 < numerator < SUPPRESS_BELOW or 0 < denominator < SUPPRESS_BELOW):
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
    rows = definitions_block(["aim1", "outcome_mix"], result.measured_on, scope, publication)
    done = result.total.decided
    rows.append(["recommendation", "label", "reviews", "pct_of_reviews"])
    for code, label, count, _share in result.outcome_mix():
        rows.append([code, label, suppressed(count, publication), share(count, done, publication)])
    rows.append(["total", "Reviews done", suppressed(done, publication), ""])
    return rows


def run_chart_rows(chart: run_charts.RunChart, result: AimResult, denominator: str, scope: str,
                   publication: bool) -> list[list[str]]:
    rows = definitions_block([AIM_KEYS[result.aim], "run_chart"], result.measured_on, scope,
                             publication)
    rows += [["median", _days(chart.median), "baseline points", str(len(chart.baseline)),
              "provisional" if chart.provisional else "final"],
             ["target", _days(chart.target)],
             ["percentage of", denominator],
             ["useful points", str(chart.useful), "runs", str(chart.runs), "runs limits",
              "-".join(map(str, chart.runs_limits)) if chart.runs_limits else ""], [],
             ["month", "value", "numerator", "denominator", "in_baseline", "signals"]]
    for index, point in enumerate(chart.points):
        hidden = publication and any(n is not None and 0 < n < SUPPRESS_BELOW
                                     for n in (point.numerator, point.denominator))
        rows.append([point.month.strftime("%Y-%m"),
                     WITHHELD if hidden else rounded(point.value, 1),
                     "" if point.numerator is None else suppressed(point.numerator, publication),
                     "" if point.denominator is None else suppressed(point.denominator,
                                                                     publication),
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
def _stage(stat: stage_delays.StageStat, publication: bool) -> list[str]:
    hidden = publication and 0 < stat.n < SUPPRESS_BELOW
    return [stat.start_code, stat.end_code, stat.label, suppressed(stat.n, publication),
            WITHHELD if hidden else _days(stat.median), WITHHELD if hidden else _days(stat.p90)]


def stage_rows(process: str, overall: Sequence[stage_delays.StageStat],
               per_version: dict, comparison: Sequence[stage_delays.Comparison] | None,
               compare_label: str, measured_on: date, scope: str,
               publication: bool) -> list[list[str]]:
    rows = definitions_block(["stage_delays"], measured_on, scope, publication)
    header = ["group", "from", "to", "stage", "children", "median_days", "p90_days"]
    rows += [["process", process], [], header]
    rows += [["all", *_stage(s, publication)] for s in overall]
    for version, stats in per_version.items():
        rows += [[f"version {version}", *_stage(s, publication)] for s in stats]
    if comparison is not None:
        rows += [[], ["comparing", compare_label],
                 ["from", "to", "stage", "children_before", "median_before", "p90_before",
                  "children_after", "median_after", "p90_after", "median_change", "p90_change"]]
        for c in comparison:
            before, after = _stage(c.before, publication), _stage(c.after, publication)
            hidden = WITHHELD in before or WITHHELD in after
            rows.append([*before, *after[3:],
                         WITHHELD if hidden else _days(c.median_change),
                         WITHHELD if hidden else _days(c.p90_change)])
    return rows


# -- survival ---------------------------------------------------------------------------------
def survival_rows(result: survival.Survival, scope: str, publication: bool,
                  every: int = 28) -> list[list[str]]:
    """Publication: the curve read every four weeks (no individual day disclosed), counts
    suppressed, the estimate withheld where fewer than 5 were still waiting. Otherwise the
    full event table."""
    rows = definitions_block(["survival"], result.measured_on, scope, publication)
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
        small = publication and 0 < curve.n < SUPPRESS_BELOW
        by = curve.decided_by(result.threshold_days) if result.threshold_days else None
        rows.append([curve.label, suppressed(curve.n, publication),
                     suppressed(curve.decided, publication),
                     suppressed(curve.censored, publication),
                     WITHHELD if small else _days(curve.median_days),
                     WITHHELD if small else _days(by)])
    if publication:
        rows += [[], ["group", "day", "still_waiting", "decided_so_far", "pct_still_waiting"]]
        for curve in result.curves:
            for day, at_risk, decided, waiting in survival.grid(curve, every):
                hidden = 0 < at_risk < SUPPRESS_BELOW
                rows.append([curve.label, str(day), suppressed(at_risk, True),
                             suppressed(decided, True),
                             WITHHELD if hidden else _days(waiting)])
    else:
        rows += [[], ["group", "day", "at_risk", "decided", "censored", "pct_still_waiting",
                      "ci_lower", "ci_upper"]]
        for curve in result.curves:
            rows += [[curve.label, str(s.day), str(s.at_risk), str(s.decided), str(s.censored),
                      rounded(100 * s.waiting, 1), rounded(100 * s.lower, 1),
                      rounded(100 * s.upper, 1)] for s in curve.steps]
    return rows


# -- forecast ---------------------------------------------------------------------------------
def forecast_rows(items: Iterable[forecasts.Forecast], measured_on: date, scope: str,
                  publication: bool) -> list[list[str]]:
    """Per team and clock for publication; per child (not for publication) otherwise."""
    items = list(items)
    rows = definitions_block(["forecast"], measured_on, scope, publication)
    rows.append(["team", "clock", "open", "missed", "forecast_to_be_missed", "on_track",
                 "no_pace_known"])
    for row in forecasts.by_team(items):
        rows.append([row.team, row.clock, *(suppressed(n, publication) for n in row[2:])])
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
