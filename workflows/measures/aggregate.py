"""The national programme's aggregate export: each aim, month by month, without a child.

Why: the national PACE programme compares councils' aims month by month. A council can send
this file without any child-level data: one row per aim and cohort month with the aim's
numerator, denominator and percentage (as its run chart counts them), the target, the
version of the aim's diagram in use at the month's end and the PDSA cycles that began in
the month. Small numbers are protected as in every published table (``disclosure``): a
month's numerator and the children not in it add up to its denominator, so a numerator of
1 to 4, or a denominator within 4 of it, is withheld with its percentage.

The format is versioned (``FORMAT_VERSION``) and documented in docs/measures.md ("Aggregate
export for the national programme"); a change of column, meaning or order is a new
version. Pure: ``workflows.services.measure_exports.aggregate`` reads the figures.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta

from workflows.measures import aim_results, disclosure
from workflows.measures.aim_statuses import AimResult, Cohort, Tally, rounded
from workflows.measures.disclosure import Group
from workflows.measures.records import Deployment

FORMAT = "pace-flow-aggregate"
FORMAT_VERSION = "1"
COLUMNS = ("format_version", "council", "measured_on", "aim", "month", "complete", "numerator",
           "denominator", "percentage", "target_pct", "diagram_version", "pdsa_cycles",
           "definitions_version")
FIGURES = ("numerator", "denominator", "percentage")


@dataclass(frozen=True)
class Cycle:
    """What the export says of a PDSA cycle (no free text beyond its change idea)."""
    aim: int
    change_idea: str
    cycle_number: int
    start_date: date


@dataclass(frozen=True)
class Row:
    aim: int
    month: date
    complete: bool
    numerator: int
    denominator: int
    percentage: float | None
    target_pct: float
    diagram_version: int | None
    pdsa_cycles: tuple[str, ...]
    withheld: frozenset = field(default_factory=frozenset)  # of FIGURES


@dataclass(frozen=True)
class Export:
    council: str
    measured_on: date
    rows: list[Row]


def figures(result: AimResult, tally) -> tuple[int, int]:
    """(numerator, denominator) as the aim's run chart counts them: Aim 1, reviewed of
    those due; Aims 2 and 3, on time of those decided plus overdue undecided."""
    return (tally.decided if result.aim == 1 else tally.on_time), tally.due


def version_on(deployments: Sequence[Deployment], process_id: str, day: date) -> int | None:
    """The version of the diagram deployed last on or before ``day``."""
    found = [d.version for d in deployments if d.process_id == process_id and d.deployed_on <= day]
    return found[-1] if found else None


def build(council: str, measured_on: date, results: Mapping[int, AimResult],
          processes: Mapping[int, str], deployments: Sequence[Deployment],
          cycles: Iterable[Cycle]) -> Export:
    """Every cohort month of every aim, protected for publication. ``deployments`` oldest
    first (``data.load_deployments``); ``processes``: the diagram each aim is measured on."""
    cycles = sorted(cycles, key=lambda c: (c.start_date, c.change_idea, c.cycle_number))
    rows = []
    for aim, result in sorted(results.items()):
        cells, groups, hidden, months = {}, [], [], []
        for i, cohort in enumerate(_months(result, [c for c in cycles if c.aim == aim])):
            numerator, denominator = figures(result, cohort.tally)
            cells |= {("numerator", i): numerator, ("rest", i): denominator - numerator,
                      ("denominator", i): denominator}
            groups.append(Group(("denominator", i), (("numerator", i), ("rest", i))))
            hidden.append(("rest", i))
            months.append((cohort, numerator, denominator))
        withheld = disclosure.protect(cells, groups, hidden)
        for i, (cohort, numerator, denominator) in enumerate(months):
            last_day = cohort.month + relativedelta(months=1, days=-1)
            gone = {name for name in ("numerator", "denominator") if (name, i) in withheld}
            rows.append(Row(aim, cohort.month, cohort.complete, numerator, denominator,
                            result.value(cohort.tally), float(result.settings.target_pct),
                            version_on(deployments, processes[aim], last_day),
                            tuple(f"{c.change_idea} (cycle {c.cycle_number})" for c in cycles
                                  if c.aim == aim and cohort.month <= c.start_date <= last_day),
                            frozenset(gone | ({"percentage"} if gone else set()))))
    return Export(council, measured_on, rows)


def _months(result: AimResult, cycles: Sequence[Cycle]) -> list[Cohort]:
    """The aim's cohort months, and the months a PDSA cycle of the aim began in that have
    no cohort (nothing counted: 0 of 0), in order; so every cycle is on a row."""
    found = {c.month: c for c in result.cohorts}
    for cycle in cycles:
        month = cycle.start_date.replace(day=1)
        if month not in found and cycle.start_date <= result.measured_on:
            found[month] = Cohort(month, Tally(entries=None, counts={}),
                                  month + relativedelta(months=1) <= result.measured_on)
    return [found[m] for m in sorted(found)]


def _value(row: Row, name: str):
    return None if name in row.withheld else getattr(row, name)


def csv_rows(export: Export) -> list[list[str]]:
    """One header row, then one row per aim and month; a withheld figure is ``[c]``, a
    percentage with no denominator is blank."""
    found = [list(COLUMNS)]
    for row in export.rows:
        percentage = _value(row, "percentage")
        found.append([
            FORMAT_VERSION, export.council, export.measured_on.isoformat(), str(row.aim),
            row.month.strftime("%Y-%m"), "yes" if row.complete else "no",
            *(disclosure.MARK if name in row.withheld else str(getattr(row, name))
              for name in FIGURES[:2]),
            disclosure.MARK if "percentage" in row.withheld
            else ("" if percentage is None else rounded(percentage, 1)),
            rounded(row.target_pct, 1),
            "" if row.diagram_version is None else str(row.diagram_version),
            "; ".join(row.pdsa_cycles), aim_results.DEFINITIONS_VERSION])
    return found


def as_json(export: Export) -> dict:
    """The same rows as JSON: a withheld figure is null and named in ``withheld``."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "council": export.council,
            "measured_on": export.measured_on, "definitions_version":
                aim_results.DEFINITIONS_VERSION,
            "suppression": disclosure.NOTICE,
            "rows": [{"aim": row.aim, "month": row.month.strftime("%Y-%m"),
                      "complete": row.complete,
                      **{name: _value(row, name) for name in FIGURES},
                      "percentage": None if "percentage" in row.withheld or row.percentage
                      is None else float(rounded(row.percentage, 1)),
                      "target_pct": row.target_pct, "diagram_version": row.diagram_version,
                      "pdsa_cycles": list(row.pdsa_cycles),
                      "withheld": sorted(row.withheld)} for row in export.rows]}
