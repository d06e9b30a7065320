"""Secondary suppression: no count of 1 to 4 in a published table can be worked out from
what the table prints, its totals included. Random small tables (hypothesis), each solved
exactly for every value the reader cannot see (tests/unit/disclosure_solver.py)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from workflows.measures import disclosure
from workflows.measures.disclosure import MARK, Group, protect, small

from .disclosure_solver import pinned, ranges

counts = st.one_of(st.integers(0, 6), st.integers(0, 40))


def grid_groups(n_rows: int, n_cols: int) -> list[Group]:
    """A table with row totals, column totals and a grand total."""
    groups = [Group(("row", r), tuple((r, c) for c in range(n_cols))) for r in range(n_rows)]
    groups += [Group(("col", c), tuple((r, c) for r in range(n_rows))) for c in range(n_cols)]
    groups += [Group("all", tuple(("row", r) for r in range(n_rows))),
               Group("all", tuple(("col", c) for c in range(n_cols)))]
    return groups


@st.composite
def grids(draw):
    n_rows, n_cols = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    cells = {(r, c): draw(counts) for r in range(n_rows) for c in range(n_cols)}
    for r in range(n_rows):
        cells[("row", r)] = sum(cells[(r, c)] for c in range(n_cols))
    for c in range(n_cols):
        cells[("col", c)] = sum(cells[(r, c)] for r in range(n_rows))
    cells["all"] = sum(cells[("row", r)] for r in range(n_rows))
    return cells, grid_groups(n_rows, n_cols)


def published(cells, groups, hidden=()):
    withheld = protect(cells, groups, hidden)
    printed = {k: None if k in withheld else v for k, v in cells.items() if k not in hidden}
    return withheld, ranges(printed, groups, hidden, truth=cells)


def assert_safe(cells, groups, hidden=()):
    withheld, found = published(cells, groups, hidden)
    small_cells = [k for k, v in cells.items() if small(v)]
    assert not [k for k in small_cells if k not in withheld and k not in hidden], \
        "a count of 1 to 4 printed"
    assert not pinned(found, small_cells), (cells, sorted(map(str, withheld)), found)
    assert all(cells[k] > 0 for k in withheld), "a zero withheld"
    return withheld


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids())
def test_no_small_count_in_a_table_with_margins_can_be_worked_out(table):
    assert_safe(*table)


@settings(max_examples=200, deadline=None)
@given(st.lists(counts, min_size=1, max_size=6))
def test_no_small_count_in_a_list_with_its_total_can_be_worked_out(values):
    cells = {i: v for i, v in enumerate(values)} | {"total": sum(values)}
    assert_safe(cells, [Group("total", tuple(range(len(values))))])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=5))
def test_a_numerator_and_denominator_never_give_away_the_others(points):
    """Run-chart points: numerator n of denominator d; the d - n children not counted are
    never printed, but 1 to 4 of them must not be recoverable either."""
    cells, groups, hidden = {}, [], []
    for i, (n, rest) in enumerate(points):
        cells |= {("n", i): n, ("rest", i): rest, ("d", i): n + rest}
        groups.append(Group(("d", i), (("n", i), ("rest", i))))
        hidden.append(("rest", i))
    assert_safe(cells, groups, hidden)


def test_the_issue_table_late_one_beside_twenty_on_time():
    """On time 20, late 1, total 21: late alone withheld would be 21 - 20."""
    cells = {"on_time": 20, "late": 1, "decided": 21}
    withheld = assert_safe(cells, [Group("decided", ("on_time", "late"))])
    assert withheld == {"on_time", "late"}


def test_the_smallest_non_zero_count_is_withheld_beside_a_small_one():
    cells = {"a": 3, "b": 0, "c": 9, "d": 6, "total": 18}
    assert protect(cells, [Group("total", ("a", "b", "c", "d"))]) == {"a", "d"}


def test_two_small_counts_holding_too_few_children_between_them_take_a_third():
    """1 and 2 withheld beside a total of 20: together 3, so each is at most 2."""
    cells = {"a": 1, "b": 2, "c": 8, "d": 9, "total": 20}
    assert protect(cells, [Group("total", ("a", "b", "c", "d"))]) == {"a", "b", "c"}


def test_five_ones_under_a_total_of_five_are_not_all_ones_to_the_reader():
    cells = {i: 1 for i in range(5)} | {"total": 5}
    assert protect(cells, [Group("total", tuple(range(5)))]) == {0, 1, 2, 3, 4, "total"}


def test_a_total_is_withheld_when_no_other_count_can_be():
    cells = {"a": 2, "b": 0, "total": 2}
    assert protect(cells, [Group("total", ("a", "b"))]) == {"a", "total"}
    cells = {"a": 7, "b": 0, "total": 7, "hidden": 3, "outer": 10}
    groups = [Group("outer", ("total", "hidden"))]
    assert protect(cells, groups, hidden=["hidden"]) == {"total"}


def test_nothing_small_nothing_withheld_and_zero_is_shown():
    cells = {"a": 0, "b": 5, "total": 5}
    assert protect(cells, [Group("total", ("a", "b"))]) == frozenset()
    assert disclosure.show(0, "a", frozenset()) == "0"
    assert disclosure.show(3, "a", frozenset({"a"})) == MARK
    assert [small(n) for n in (None, 0, 1, 4, 5)] == [False, False, True, True, False]
