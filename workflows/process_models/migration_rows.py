"""The migration dry run as rows of a spreadsheet: one row per change per child.

A process owner checking a move of many children (or handing the list to team leaders)
wants it in a spreadsheet, sorted and filtered by team or task. Each date change is a row
with its dates as ISO dates (they sort); a child with no change, or who cannot move, still
has a row saying so, so the file lists every child the page does. The cells go through
``engine.csv_cells`` when written (a child's reference or a task's name typed as a formula
never runs).
"""
from __future__ import annotations

from collections.abc import Iterable

from engine.migration_preview import CANCELLED, CHANGED, OPENED, REOPENED, TIMER

HEADER = ("Child", "Team", "On version", "To version", "Can move", "Task or timer", "Change",
          "Before", "After", "Why it cannot move")
CHANGE_WORDS = {CHANGED: "due date changes", TIMER: "timer date changes",
                CANCELLED: "task cancelled", OPENED: "task opens", REOPENED: "task opens again"}


def preview_rows(candidates: Iterable, to_version: int) -> list[tuple]:
    """Rows under ``HEADER`` for the dry run's candidates (``changes.Candidate``)."""
    rows = []
    for c in candidates:
        start = (c.reference, c.team, c.version, to_version, "yes" if c.can_move else "no")
        if not c.can_move:
            rows.append(start + ("", "", "", "", c.reason))
        elif not c.changes:
            rows.append(start + ("", "no due date changes", "", "", ""))
        for change in c.changes if c.can_move else ():
            rows.append(start + (change.label, CHANGE_WORDS[change.kind],
                                 change.before.isoformat() if change.before else "",
                                 change.after.isoformat() if change.after else "", ""))
    return rows
