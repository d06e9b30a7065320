"""The paths of secondary suppression that random tables rarely take (found by mutation
testing, issue 31): a count pinned only by combining groups with the bounds (the exact
solver), a withheld count worked out through a chain of groups taken in an unhelpful order,
and a group with nothing printed of its own to withhold, so a neighbouring group gives one.
Each table is checked for the exact cells withheld and, by the exact solver of the tests,
that no small count can then be worked out."""
from __future__ import annotations

from workflows.measures.disclosure import Group, protect

from .test_disclosure import assert_safe


def test_a_count_pinned_only_by_rows_columns_and_bounds_takes_one_more():
    """Without the solver the table would print both row totals, from which (with c01 = 0
    and the other margins) the reader pins a count of 1 to 4."""
    cells = {"c00": 8, "c01": 0, "c02": 12, "c10": 3, "c11": 10, "c12": 10,
             "r0": 20, "r1": 23, "k0": 11, "k1": 10, "k2": 22}
    groups = [Group("r0", ("c00", "c01", "c02")), Group("r1", ("c10", "c11", "c12")),
              Group("k0", ("c00", "c10")), Group("k1", ("c01", "c11")), Group("k2", ("c02", "c12"))]
    withheld = assert_safe(cells, groups)
    # r0 or r1: the solver names the first pinned count it meets among a set's
    assert withheld - {"r0", "r1"} == {"c00", "c02", "c10", "c11", "c12", "k1"}
    assert len(withheld & {"r0", "r1"}) == 1


def test_a_withheld_count_derived_through_a_chain_of_groups_in_any_order_is_protected():
    """a (7) is withheld to protect s (2); T1 = H1 + a, and H1 (never printed) follows only
    from the group listed after it: a reader derives H1, then a, unless T1 is withheld."""
    cells = {"s": 2, "a": 7, "R": 9, "H1": 6, "T1": 13, "b": 5, "T2": 11}
    groups = [Group("R", ("s", "a")), Group("T1", ("H1", "a")), Group("T2", ("H1", "b"))]
    assert protect(cells, groups, hidden={"H1"}) == {"s", "a", "T1"}
    assert_safe(cells, groups, hidden={"H1"})


def test_a_group_with_nothing_printed_to_withhold_takes_the_smallest_of_its_neighbours():
    """Five ones under a total never printed (H = 5), which a reader works out from the
    printed all = H + rest: H's group has no printed count left, so the smallest printed
    count of the group sharing H (rest, 10; not all, 15; not x, 6, of a group apart) is
    withheld."""
    cells = {f"p{i}": 1 for i in range(1, 6)} | {"H": 5, "all": 15, "rest": 10, "x": 6, "y": 0,
                                                 "other": 6}
    groups = [Group("H", tuple(f"p{i}" for i in range(1, 6))), Group("all", ("H", "rest")),
              Group("other", ("x", "y"))]
    assert protect(cells, groups, hidden={"H"}) == {"p1", "p2", "p3", "p4", "p5", "rest"}
    assert_safe(cells, groups, hidden={"H"})


def test_with_nothing_printed_in_the_neighbouring_groups_every_printed_count_is_withheld():
    """The same ones under H1, which follows from H2 = H1 + 0, which follows from all = H2 +
    rest: neither H1's group nor H2's prints a count that is not zero, so the last resort
    withholds every printed count (all and rest)."""
    parts = tuple(f"p{i}" for i in range(1, 6))
    cells = dict.fromkeys(parts, 1) | {"H1": 5, "H2": 5, "z": 0, "all": 15, "rest": 10}
    groups = [Group("H1", parts), Group("H2", ("H1", "z")), Group("all", ("H2", "rest"))]
    assert protect(cells, groups, hidden={"H1", "H2"}) == {*parts, "all", "rest"}
    assert_safe(cells, groups, hidden={"H1", "H2"})
