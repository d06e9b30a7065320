"""Data quality: the milestones the measures cannot trust, child by child (pure).

Why: every measure is computed from the dates recorded on children's records. A review
dated before the order it reviews, or a decision dated next year, makes a stage last a
negative number of days or an aim look met; the measures leave such records out, and a
manager needs to see which ones, to have them corrected, rather than read figures that
silently rest on fewer children.

Three kinds of problem, read from each episode's milestones (the first time each was
reached, as the measures read them):

- ``out_of_order``: a milestone dated before one that comes earlier in the journey
  (``vocabulary.JOURNEY_ORDER`` or ``CSO_ORDER``), compared with the latest-dated earlier
  one the child reached: every stage the stage delays leave out for ending before it
  began (``stage_delays.in_order``) shows up here at its later milestone;
- ``future``: a milestone dated after today (any time it was reached);
- ``missing``: a milestone every route passes through is not recorded although a later one
  is (``REQUIRED_BEFORE``). Milestones some routes skip (a planning meeting, the legal
  referral, a return home) are never called missing.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from workflows.measures.records import Child, Episode
from workflows.vocabulary import CSO_HOME, CSO_ORDER, JOURNEY_ORDER, MILESTONES, PERMANENCE

OUT_OF_ORDER, FUTURE, MISSING = "out_of_order", "future", "missing"
KIND_LABELS = {OUT_OF_ORDER: "Dated before an earlier step", FUTURE: "Dated in the future",
               MISSING: "Missing, though a later step is recorded"}
KINDS = tuple(KIND_LABELS)

ORDERS: Mapping[str, Sequence[str]] = {PERMANENCE: JOURNEY_ORDER, CSO_HOME: CSO_ORDER}

_AFTER_RECOMMENDATION = ("RETURN_HOME", "CAPR", "PANEL", "ADM", "APPLICATION_LODGED",
                         "ORDER_GRANTED")
# milestone -> the later milestones whose presence means it must have been recorded: the
# ones every route of the journey passes through before them.
REQUIRED_BEFORE: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    PERMANENCE: {"LA_START": JOURNEY_ORDER[1:],
                 "PERM_RECOMMENDATION": _AFTER_RECOMMENDATION,
                 "ADM": ("APPLICATION_LODGED",)},
    CSO_HOME: {"CSO_START": CSO_ORDER[1:]},
}


@dataclass(frozen=True)
class Problem:
    child: Child
    instance_id: int
    process_id: str
    kind: str
    code: str               # the milestone at fault
    on: date | None         # its date (None when missing)
    other_code: str | None  # the milestone it is compared with
    other_on: date | None

    @property
    def milestone(self) -> str:
        return MILESTONES.get(self.code, self.code)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def explanation(self) -> str:
        """What is wrong, in words a worker correcting the record can act on."""
        other = MILESTONES.get(self.other_code, self.other_code) if self.other_code else ""
        if self.kind == OUT_OF_ORDER:
            return (f"{self.milestone} is dated {self.on:%d %B %Y}, before {other} "
                    f"({self.other_on:%d %B %Y}), which comes earlier in the journey.")
        if self.kind == FUTURE:
            return f"{self.milestone} is dated {self.on:%d %B %Y}, after today."
        return (f"{self.milestone} is not recorded, but {other} is "
                f"({self.other_on:%d %B %Y}).")


def problems_of(episode: Episode, today: date) -> list[Problem]:
    """One episode's problems, in journey order."""
    process = episode.process_id
    order = ORDERS.get(process, ())
    found: list[Problem] = []

    def add(kind, code, on, other_code=None, other_on=None):
        found.append(Problem(episode.child, episode.instance_id, process, kind, code, on,
                             other_code, other_on))

    latest = None  # the latest-dated earlier milestone reached so far
    for code in order:
        first = episode.first(code)
        if first is None:
            continue
        if latest is not None and first.on < latest.on:
            add(OUT_OF_ORDER, code, first.on, latest.code, latest.on)
        if latest is None or first.on >= latest.on:
            latest = first
    for code in order:
        future = [r for r in episode.every(code) if r.on > today]
        if future:
            add(FUTURE, code, future[-1].on)
    for code, later in REQUIRED_BEFORE.get(process, {}).items():
        if episode.first(code) is not None:
            continue
        reached = [episode.first(c) for c in later if episode.first(c) is not None]
        if reached:
            first_later = min(reached, key=lambda r: r.on)
            add(MISSING, code, None, first_later.code, first_later.on)
    return found


def problems(episodes: Iterable[Episode], today: date) -> list[Problem]:
    """Every episode's problems, by child reference then journey."""
    found = [p for ep in episodes for p in problems_of(ep, today)]
    found.sort(key=lambda p: (p.child.reference, p.instance_id))
    return found


def tally(found: Iterable[Problem]) -> Counter:
    """How many problems of each kind."""
    return Counter(p.kind for p in found)
