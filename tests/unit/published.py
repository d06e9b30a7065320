"""Read a published CSV back as a reader would, and solve what it gives away: the printed
counts, the totals they add up to and the printed percentages become the constraints of
``disclosure_solver.ranges``; the same export without suppression is the truth."""
from __future__ import annotations

from workflows.measures.disclosure import MARK, small

from .disclosure_solver import Ratio, pinned, ranges

AIM_COUNTS = ("on_time", "late", "overdue_undecided", "deadline_ahead", "ended")
AIM_RATIOS = {  # percentage column: (numerator columns, denominator columns)
    "pct_on_time_of_decided": (("on_time",), ("on_time", "late")),
    "pct_on_time_of_decided_and_overdue": (("on_time",), ("on_time", "late", "overdue_undecided")),
    "pct_done": (("on_time", "late"), ("on_time", "late", "overdue_undecided")),
}


def table(rows: list[list[str]], first: str) -> list[dict[str, str]]:
    """The rows under the header row whose first cell is ``first``, up to a blank row."""
    start = next(i for i, r in enumerate(rows) if r and r[0] == first)
    found = []
    for row in rows[start + 1:]:
        if not row or not row[0]:
            break
        found.append(dict(zip(rows[start], row)))
    return found


def count(text: str) -> int | None:
    return None if text == MARK else int(text)


def percentage(text: str) -> float | None | str:
    """A printed percentage; None when blank (no denominator); MARK when withheld."""
    return MARK if text == MARK else (None if text == "" else float(text))


def aim_problem(rows: list[list[str]]):
    """(printed, groups, ratios) of an aim's published table."""
    found = table(rows, "cohort_month")
    printed, ratios = {}, []
    for row in found:
        label = row["cohort_month"]
        printed |= {(label, c): count(row[c]) for c in AIM_COUNTS}
        for column, (num, den) in AIM_RATIOS.items():
            shown = percentage(row[column])
            if shown != MARK:
                ratios.append(Ratio(tuple((label, c) for c in num),
                                    tuple((label, c) for c in den), shown))
    months = [r["cohort_month"] for r in found if r["cohort_month"] != "total"]
    groups = [(("total", c), tuple((m, c) for m in months)) for c in AIM_COUNTS]
    return printed, groups, ratios


def aim_truth(rows: list[list[str]]) -> dict:
    return {(r["cohort_month"], c): int(r[c]) for r in table(rows, "cohort_month")
            for c in AIM_COUNTS}


def assert_nothing_small_recoverable(printed, groups, truth, hidden=(), ratios=()):
    """Every count of 1 to 4 is withheld, and no withheld or hidden one can be pinned."""
    shown_small = [k for k, v in printed.items() if v is not None and small(v)]
    assert not shown_small, f"counts of 1 to 4 printed: {shown_small}"
    assert all(printed[k] == truth[k] for k in printed if printed[k] is not None)
    found = ranges(printed, groups, hidden, ratios, truth=truth)
    exposed = pinned(found, [k for k, v in truth.items() if small(v)])
    assert not exposed, f"recoverable: {[(k, truth[k]) for k in exposed]}"
    return found


def assert_aim_table_safe(internal: list[list[str]], published: list[list[str]]):
    printed, groups, ratios = aim_problem(published)
    return assert_nothing_small_recoverable(printed, groups, aim_truth(internal), ratios=ratios)
