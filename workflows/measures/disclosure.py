"""Which counts a published table must withhold so that no small number can be worked out.

Why: hiding a count of 1 to 4 (*primary suppression*) does not protect it while the table
still shows its total and the other cells that make up that total: "on time 20, late [c],
95.2% on time" tells every reader that one child was late. Following the Government
Statistical Service's guidance on disclosure control for tables (ONS, "Statistical
disclosure control for tables produced from administrative sources"; the Scottish
Government's statistical disclosure control protocol), a published table

1. withholds every count of 1 to 4 (``SUPPRESS_BELOW``: primary suppression);
2. wherever a withheld count could still be worked out from a total and the other cells
   that add up to it, withholds more (*secondary suppression*): the smallest non-zero count
   shown in the same group, or, when none is left, the group's total; until every group
   holding a withheld count has at least two unknown cells, and, where its total is known,
   those unknown cells hold at least 5 children between them and more children than
   there are withheld cells (so a reader learns only that 5 or more children are spread
   over them, never that each is 1);
3. withholds any figure computed from a withheld count (a percentage, median or estimate:
   ``any_withheld``);
4. marks every withheld value alike (``MARK``), so a reader cannot tell the small counts
   from those withheld to protect them.

A table is its *cells* (every count it is built from, printed or not) and its *groups* (a
total and the cells that add up to it). A cell never printed but following from printed
ones, such as the children not on time (denominator minus numerator), is *hidden*: it is
not withheld (it is never shown) but is protected like the others, since 1 to 4 of them
must not be recoverable either. Zero is never withheld (it discloses no child), so readers
may take every withheld count to be at least 1; the rule above allows for that.

Pure: the publication exports (``publication``, ``aim_results.csv_rows``) and the aggregate
export (``aggregate``) describe their tables and print what this decides.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import NamedTuple

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

SUPPRESS_BELOW = 5
MARK = "[c]"  # the GSS symbol for a value withheld for confidentiality
NOTICE = ("Small numbers (1-4) suppressed, with the counts that would give them away: [c] "
          "marks a count of 1 to 4, a count withheld so that none can be worked out from the "
          "others and the totals, or a figure computed from a withheld count")


class Group(NamedTuple):
    """``total`` = the sum of ``parts`` (cell keys)."""
    total: Hashable
    parts: tuple[Hashable, ...]


def small(count: int | None) -> bool:
    """A count that identifies children: 1 to 4 (0 discloses no one)."""
    return count is not None and 0 < count < SUPPRESS_BELOW


def protect(cells: Mapping[Hashable, int], groups: Iterable[Group],
            hidden: Iterable[Hashable] = ()) -> frozenset:
    """The printed cells to withhold (primary and secondary suppression), given every cell's
    count, the groups that add up, and the cells that are never printed."""
    groups, hidden = [Group(g.total, tuple(g.parts)) for g in groups], frozenset(hidden)
    withheld = {key for key, count in cells.items() if small(count) and key not in hidden}
    while True:
        exposed = _exposed(cells, groups, hidden, withheld)
        if exposed is None:
            exposed = _pinned_group(cells, groups, hidden, withheld)
        if exposed is None:
            return frozenset(withheld)
        more = _complement(cells, groups, exposed, hidden, withheld)
        if not more:  # every printed non-zero count is withheld: nothing can be derived
            return frozenset(withheld)
        withheld |= more


def any_withheld(withheld: frozenset, *keys: Hashable) -> bool:
    """Whether a figure computed from these cells must be withheld."""
    return any(key in withheld for key in keys)


def show(count: int, key: Hashable, withheld: frozenset) -> str:
    return MARK if key in withheld else str(count)


def _protected(cells, hidden, withheld) -> set:
    return set(withheld) | {key for key in hidden if small(cells[key])}


def _exposed(cells, groups, hidden, withheld) -> Group | None:
    """The first group through which a protected count can be worked out, or whose unknown
    cells hold too few children between them; None when the table is safe."""
    protected = _protected(cells, hidden, withheld)
    known = {key for key in cells if key not in hidden and key not in withheld}
    changed = True
    while changed:  # everything a reader can derive, one group at a time
        changed = False
        for group in groups:
            unknown = [key for key in (group.total, *group.parts) if key not in known]
            if len(unknown) == 1:
                if unknown[0] in protected:
                    return group
                known.add(unknown[0])
                changed = True
    for group in groups:
        if group.total not in known:
            continue
        unknown = [key for key in group.parts if key not in known]
        if not any(key in protected for key in unknown):
            continue
        together = sum(cells[key] for key in unknown)
        at_least = sum(1 for key in unknown if key in withheld)
        if together < SUPPRESS_BELOW or together <= at_least:
            return group
    return None


def _pinned_group(cells, groups, hidden, withheld) -> Group | None:
    """Where groups share cells (a table with row and column totals), a count can also be
    pinned by combining several groups, or by the bounds (no count is negative, a withheld
    one is at least 1). For those tables each protected count's least and greatest possible
    value is solved exactly (an integer programme, ``scipy.optimize.milp``); the first one
    pinned names a group of its to widen. A set of groups sharing no cell needs no solving:
    the rule in ``_exposed`` already leaves every unknown cell of such a group free to move."""
    uses: dict = {}
    for group in groups:
        for key in (group.total, *group.parts):
            uses[key] = uses.get(key, 0) + 1
    if all(n == 1 for n in uses.values()):
        return None
    unknown = [key for key in cells if key in hidden or key in withheld]
    if not unknown:
        return None
    index = {key: i for i, key in enumerate(unknown)}
    rows, sides = [], []
    for group in groups:
        row, side = np.zeros(len(unknown)), 0.0
        for key, weight in ((group.total, 1.0), *((p, -1.0) for p in group.parts)):
            if key in index:
                row[index[key]] += weight
            else:
                side -= weight * cells[key]
        if row.any():
            rows.append(row), sides.append(side)
    if not rows:
        return None
    constraint = LinearConstraint(np.array(rows), sides, sides)
    bounds = Bounds([0.0 if key in hidden else 1.0 for key in unknown],
                    [float(_UPPER)] * len(unknown))
    protected = _protected(cells, hidden, withheld)
    # In the table's own order, not the set's: a set of strings is iterated in an order that
    # changes from one run to the next, and the same table must withhold the same cells.
    for key in (k for k in cells if k in protected):
        ends = set()
        for sign in (1.0, -1.0):
            objective = np.zeros(len(unknown))
            objective[index[key]] = sign
            found = milp(objective, constraints=constraint, bounds=bounds,
                         integrality=np.ones(len(unknown)))
            ends.add(round(sign * found.fun))
        if len(ends) == 1:
            return next(g for g in groups if key in (g.total, *g.parts))
    return None


_UPPER = 10 ** 6


def _complement(cells, groups, group: Group, hidden, withheld) -> set:
    """The next cell to withhold for ``group``: its smallest printed non-zero part, else its
    total; failing both (what leaks comes through another group), the smallest printed
    non-zero cell of the groups it shares a cell with, and as a last resort all of them."""
    def printed(keys):
        return [k for k in keys if k not in hidden and k not in withheld and cells[k] > 0]

    for choice in (printed(group.parts), printed([group.total])):
        if choice:
            return {min(choice, key=lambda k: cells[k])}
    members = {group.total, *group.parts}
    near = [k for g in groups if members & {g.total, *g.parts} for k in (g.total, *g.parts)]
    choice = printed(dict.fromkeys(near))
    if choice:
        return {min(choice, key=lambda k: cells[k])}
    return set(printed(cells))

