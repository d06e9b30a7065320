"""The plain records the measures read: children, their episodes and reached milestones.

Named tuples, cheap to build by the hundred thousand, and pure (no database): the pure
measure functions (``measures``, ``stage_delays``, ``survival``, ``forecast``) and their unit
tests build and read these; ``measure_data`` fills them from the milestone index.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType
from typing import NamedTuple

EMPTY: Mapping = MappingProxyType({})


class Child(NamedTuple):
    id: int
    reference: str
    name: str
    team: str
    date_of_birth: date | None = None


class Reached(NamedTuple):
    """One occurrence of a milestone that has an actual date (``data`` is read-only)."""
    code: str
    on: date
    occurrence: int = 1
    model_version: int = 1
    data: Mapping = EMPTY


class Episode(NamedTuple):
    """A child's time on one process (one instance), as its reached milestones."""
    instance_id: int
    process_id: str
    child: Child
    milestones: Mapping[str, tuple[Reached, ...]]
    status: str = "running"
    ended_on: date | None = None

    def every(self, code: str, until: date | None = None) -> tuple[Reached, ...]:
        found = self.milestones.get(code, ())
        if until is not None and found and found[-1].on > until:
            found = tuple(r for r in found if r.on <= until)
        return found

    def first(self, code: str, until: date | None = None) -> Reached | None:
        for reached in self.milestones.get(code, ()):
            if until is None or reached.on <= until:
                return reached
        return None


class Deployment(NamedTuple):
    process_id: str
    version: int
    deployed_on: date
    reason: str = ""
    pdsa_cycle_id: int | None = None


def episode(instance_id: int, child: Child, reached: Iterable[Reached], *,
            process_id: str = "", status: str = "running", ended_on: date | None = None) -> Episode:
    """Build an episode from milestones in any order (tests and the loader use this).

    Each milestone's occurrences are kept in date order (occurrence number breaking ties),
    so "first" means the earliest date, as the aggregate queries of ``measure_sql`` read it
    (a date entered for a later occurrence can be earlier than an earlier one's)."""
    grouped: dict[str, list[Reached]] = defaultdict(list)
    for item in reached:
        grouped[item.code].append(item)
    ordered = {code: tuple(sorted(items, key=lambda r: (r.on, r.occurrence)))
               for code, items in grouped.items()}
    return Episode(instance_id, process_id, child, ordered, status, ended_on)
