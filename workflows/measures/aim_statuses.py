"""What an aim's entries come to (pure: no database, no Flask): each entry's status at the
measurement date, the tallies of a cohort month or a whole aim, and the aim's result.

An entry is one child (or, for Aim 3, one recommendation) with an anchor date, a deadline
(anchor + the aim's threshold) and the date the required step happened, if it has. At the
measurement date each entry is

- ``on_time``: done on or before the deadline;
- ``late``: done after the deadline;
- ``overdue``: not done and the deadline has passed (the child is waiting too long);
- ``pending``: not done and the deadline is still ahead: excluded until it passes;
- ``ended``: the episode ended before the deadline without the step: excluded.

A step already done counts at once, whether or not its deadline has passed: its outcome is
known. Councils report two denominators (DOMAIN.md, Midlothian): *on time among decided*
(on_time / (on_time + late)) and *on time among decided plus overdue undecided*
(on_time / (on_time + late + overdue)). The aims' rules are in ``aim_results``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from workflows.measures.aims import AimSettings
from workflows.measures.records import Child

ON_TIME, LATE, OVERDUE, PENDING, ENDED = "on_time", "late", "overdue", "pending", "ended"
STATUS_LABELS = {ON_TIME: "On time", LATE: "Late", OVERDUE: "Overdue, not yet done",
                 PENDING: "Deadline still ahead", ENDED: "Ended before the deadline"}
RECOMMENDATIONS = {"terminate": "Terminate the CSO", "continue": "Continue the CSO",
                   "vary": "Vary the CSO",
                   "permanence_away": "Begin permanence planning away from home"}
ROUTES = {"home": "Remain at or return home", "kinship": "Kinship care order",
          "permanence_order": "Permanence order", "adoption": "Adoption"}
NOT_RECORDED = "not recorded"
# The review form's import-only choice: a caseload import that did not know the
# recommendation records this, never a guess, and it is counted as not recorded.
IMPORTED_NOT_RECORDED = "not_recorded"


class Entry(NamedTuple):
    child: Child
    instance_id: int
    anchor: date
    deadline: date
    done_on: date | None
    status: str
    detail: str | None = None

    @property
    def cohort(self) -> date:
        return self.deadline.replace(day=1)

    def days_past_deadline(self, measured_on: date) -> int:
        end = self.done_on if self.done_on is not None else measured_on
        return max(0, (end - self.deadline).days)


class LeftOut(NamedTuple):
    """A child outside the aim's population, and why (shown, never silently dropped)."""
    child: Child
    instance_id: int
    reason: str


def classify(deadline: date, done_on: date | None, measured_on: date,
             ended_on: date | None = None) -> str:
    if done_on is not None and done_on <= measured_on:
        return ON_TIME if done_on <= deadline else LATE
    if ended_on is not None and ended_on <= measured_on and ended_on <= deadline:
        return ENDED
    return OVERDUE if deadline < measured_on else PENDING


def pct(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else 100.0 * numerator / denominator


def rounded(value: float | None, places: int = 0) -> str:
    """Half-up rounding for display (Python's round() rounds 62.5 to 62)."""
    if value is None:
        return "–"
    quantum = Decimal(1).scaleb(-places)
    return str(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


@dataclass
class Tally:
    """The entries behind one set of figures (a cohort month or the whole aim), or, for a
    tally counted without them (``counts``: (status, detail) -> entries), just their
    numbers: the figures are the same either way, but only a listed tally names children
    (a counted one has no ``entries``)."""
    entries: list[Entry] | None = field(default_factory=list)
    counts: dict[tuple[str, str | None], int] | None = None

    def of(self, *statuses: str) -> list[Entry]:
        if self.counts is not None:
            raise ValueError("this tally was counted without its children; compute the aim "
                             "with listed=True to list them")
        return [e for e in self.entries if e.status in statuses]

    def count(self, *statuses: str) -> int:
        if self.counts is not None:
            return sum(n for (status, _detail), n in self.counts.items() if status in statuses)
        return sum(1 for e in self.entries if e.status in statuses)

    def details(self, *statuses: str) -> Counter:
        """How many entries of these statuses recorded each detail (None: none recorded)."""
        if self.counts is None:
            return Counter(e.detail for e in self.entries if e.status in statuses)
        found: Counter = Counter()
        for (status, detail), n in self.counts.items():
            if status in statuses:
                found[detail] += n
        return found

    @property
    def on_time(self) -> int:
        return self.count(ON_TIME)

    @property
    def late(self) -> int:
        return self.count(LATE)

    @property
    def overdue(self) -> int:
        return self.count(OVERDUE)

    @property
    def pending(self) -> int:
        return self.count(PENDING)

    @property
    def ended(self) -> int:
        return self.count(ENDED)

    @property
    def decided(self) -> int:
        return self.on_time + self.late

    @property
    def due(self) -> int:
        """Decided plus overdue undecided: the second denominator."""
        return self.decided + self.overdue

    @property
    def pct_of_decided(self) -> float | None:
        return pct(self.on_time, self.decided)

    @property
    def pct_of_due(self) -> float | None:
        return pct(self.on_time, self.due)

    @property
    def pct_done(self) -> float | None:
        """Done at all (on time or late) among decided plus overdue: Aim 1's headline."""
        return pct(self.decided, self.due)


@dataclass(frozen=True)
class Cohort:
    month: date
    tally: Tally
    complete: bool  # every deadline in the month has passed


@dataclass
class AimResult:
    settings: AimSettings
    measured_on: date
    total: Tally
    cohorts: list[Cohort]
    left_out: list[LeftOut]

    @property
    def aim(self) -> int:
        return self.settings.aim

    def value(self, tally: Tally, denominator: str = "due") -> float | None:
        """The aim's headline figure for a tally: Aim 1, % reviewed at all; Aims 2 and 3,
        % on time among decided plus overdue (``denominator="decided"``: among decided)."""
        if self.aim == 1:
            return tally.pct_done
        return tally.pct_of_decided if denominator == "decided" else tally.pct_of_due

    @property
    def headline(self) -> float | None:
        return self.value(self.total)

    @property
    def meets_target(self) -> bool | None:
        value = self.headline
        return None if value is None else value >= float(self.settings.target_pct)

    def left_out_reasons(self) -> Counter:
        return Counter(item.reason for item in self.left_out)

    def figures(self) -> tuple:
        """Everything the aim shows without naming a child: the figures of the whole aim and
        of each cohort month, who was left out and why, and the outcome mix. A counted and a
        listed result of the same aim give equal figures (the tests and the benchmark
        compare them)."""
        def tally(t: Tally) -> tuple:
            return (t.on_time, t.late, t.overdue, t.pending, t.ended, t.pct_of_decided,
                    t.pct_of_due, t.pct_done)
        return (tally(self.total), self.headline,
                [(c.month, c.complete, tally(c.tally), self.value(c.tally)) for c in self.cohorts],
                [(item.instance_id, item.reason) for item in self.left_out], self.outcome_mix())

    def outcome_mix(self) -> list[tuple[str, str, int, float | None]]:
        """Aim 1: recommendations of the first reviews done (code, label, count, % of reviews).
        A review without one, or imported without one, is its own row: "Not recorded"."""
        counts: Counter = Counter()
        for detail, n in self.total.details(ON_TIME, LATE).items():
            counts[NOT_RECORDED if detail in (None, IMPORTED_NOT_RECORDED) else detail] += n
        done = sum(counts.values())
        labels = dict(RECOMMENDATIONS) | {NOT_RECORDED: "Not recorded"}
        codes = list(RECOMMENDATIONS) + sorted(c for c in counts if c not in labels)
        if counts.get(NOT_RECORDED):
            codes.append(NOT_RECORDED)
        return [(code, labels.get(code, code), counts.get(code, 0),
                 pct(counts.get(code, 0), done)) for code in codes]
