"""What each process is started with: the names its conditions may read before any form.

Why: a gateway condition is evaluated over the child's data alone, so a name it reads must
be recorded before the child reaches it, by a form or by the data the process starts with.
The start data is not in the diagram: the code that starts a process fills it (the child's
entry form through ``workflows.children.records`` and ``england``), or another process's
end event (``startsProcess`` with ``startData target=source``). This table says what each
shipped process is given; tests/unit/test_start_data.py holds it to what those starters
really pass. A process not listed (a new one a process owner uploads) starts with nothing
but its start events' ``milestoneDateField``, which the check reads from the diagram.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from workflows import profiles, vocabulary

START_DATA: Mapping[str, frozenset[str]] = MappingProxyType({
    # records.accommodate, and the CSO review loop's end (startData la_start=...)
    vocabulary.PERMANENCE: frozenset({"la_start"}),
    vocabulary.CSO_HOME: frozenset({"cso_start", "placement"}),  # records.place_on_cso_at_home
    # england.become_looked_after: the entry form's answers
    profiles.ENG_LOOKED_AFTER: frozenset({
        "la_start", "legal_status", "category_of_need", "placement_type", "placement_provider",
        "home_postcode", "placement_postcode"}),
    profiles.ENG_LEGAL_STATUS: frozenset({"la_start", "legal_status"}),
    # the legal status path's end (startData issue_date=issue_date)
    profiles.ENG_CARE_PROCEEDINGS: frozenset({"issue_date"}),
})


def names(process_id: str) -> frozenset[str]:
    """The names ``process_id`` is started with (none for a process not shipped)."""
    return START_DATA.get(process_id, frozenset())
