"""What a reader can work out from a published table: for each count not printed, the least
and greatest value consistent with everything printed (the counts shown, the totals, the
percentages as rounded), over non-negative whole numbers, solved exactly as an integer
programme (scipy.optimize.milp). A count a reader can pin to one value is disclosed.

A withheld count is at least 1 (zero is never withheld, and a reader may know that); a
count never printed (hidden) is at least 0.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

UPPER = 100_000


class Ratio(NamedTuple):
    """A printed percentage 100 * sum(numerator) / sum(denominator), rounded half up to
    ``places`` decimals; ``shown`` None: printed as blank because the denominator is 0."""
    numerator: tuple[Hashable, ...]
    denominator: tuple[Hashable, ...]
    shown: float | None
    places: int = 1


def ranges(printed: Mapping[Hashable, int | None], groups: Iterable[Sequence],
           hidden: Iterable[Hashable] = (), ratios: Iterable[Ratio] = (),
           truth: Mapping[Hashable, int] | None = None) -> dict[Hashable, tuple[int, int]]:
    """``printed``: every printed cell, None where withheld; ``groups``: (total, parts);
    ``truth`` (every cell's real value) is checked to be one of the solutions."""
    hidden = list(hidden)
    unknown = [k for k, v in printed.items() if v is None] + hidden
    if not unknown:
        return {}
    index = {k: i for i, k in enumerate(unknown)}
    rows, lower, upper = [], [], []

    def linear(terms: Iterable[tuple[Hashable, float]]) -> tuple[np.ndarray, float]:
        row, constant = np.zeros(len(unknown)), 0.0
        for key, weight in terms:
            if key in index:
                row[index[key]] += weight
            else:
                constant += weight * printed[key]
        return row, constant

    for total, parts in groups:
        row, constant = linear([(total, 1.0)] + [(p, -1.0) for p in parts])
        rows.append(row), lower.append(-constant), upper.append(-constant)
    for ratio in ratios:
        if ratio.shown is None:
            row, constant = linear([(k, 1.0) for k in ratio.denominator])
            rows.append(row), lower.append(-constant), upper.append(-constant)
            continue
        half = 0.5 * 10 ** -ratio.places
        low, high = ratio.shown - half, ratio.shown + half
        for bound, sign in ((low, 1), (high, -1)):
            row, constant = linear([(k, 100.0) for k in ratio.numerator]
                                   + [(k, -bound) for k in ratio.denominator])
            if sign == 1:  # 100 n - low d >= 0
                rows.append(row), lower.append(-constant), upper.append(np.inf)
            else:          # 100 n - high d < 0 (values are multiples of 10**-places / 2)
                rows.append(row), lower.append(-np.inf), upper.append(-constant - half / 10)
        row, constant = linear([(k, 1.0) for k in ratio.denominator])
        rows.append(row), lower.append(1 - constant), upper.append(np.inf)
    floor = np.array([0.0 if k in hidden else 1.0 for k in unknown])
    bounds = Bounds(floor, np.full(len(unknown), float(UPPER)))
    constraints = [LinearConstraint(np.array(rows), lower, upper)] if rows else []
    integrality = np.ones(len(unknown))
    if truth is not None:
        point = np.array([truth[k] for k in unknown], dtype=float)
        for row, lo, hi in zip(rows, lower, upper):
            assert lo - 1e-6 <= row @ point <= hi + 1e-6, "the true table breaks the constraints"
        assert all(floor <= point), "a withheld count of 0"
    found = {}
    for key, i in index.items():
        ends = []
        for sign in (1, -1):
            objective = np.zeros(len(unknown))
            objective[i] = sign
            result = milp(objective, constraints=constraints, bounds=bounds,
                          integrality=integrality)
            assert result.status == 0, result.message
            ends.append(round(sign * result.fun))
        found[key] = (ends[0], ends[1])
    return found


def pinned(found: Mapping[Hashable, tuple[int, int]], keys: Iterable[Hashable]) -> list:
    """The keys among ``keys`` whose value a reader can pin to one number."""
    return [k for k in keys if k in found and found[k][0] == found[k][1]]
