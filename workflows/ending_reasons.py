"""Why a child's journey may end early, for each profile (workflows/profiles.py carries them:
``Profile.early_endings``), and the words a worker reads for each.

Kept apart from the profiles so each list reads as one table. The codes are the same in
every profile (the measures count them together); England keeps the SSDA903 *reason
episode ceased* beside each, in the CEASED milestone its diagram's own endings record, so
the statutory return reads an early ending as it reads any other.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class EarlyEnding:
    """One reason a child's journey ends early: a code kept with the ending, the words a
    worker reads, whether a note must say more, and what the profile's statutory return
    records for it (``data``: England's SSDA903 reason episode ceased, for one)."""
    code: str
    label: str
    note_required: bool = False
    data: Mapping[str, str] = field(default_factory=dict)


# The reason the worker's daily check records for a child who reaches 18 (every profile
# has one with this code).
TURNED_18 = "turned_18"


def _ceased(code: str) -> Mapping[str, str]:
    return MappingProxyType({"reason_ceased": code})


SCOTLAND = (
    EarlyEnding("removed_by_parent", "A parent removed the child from voluntary care "
                "(section 25)"),
    EarlyEnding(TURNED_18, "The child turned 18, or moved on to continuing care or aftercare"),
    EarlyEnding("moved_council", "The child moved to another local authority"),
    EarlyEnding("died", "The child died"),
    EarlyEnding("other", "Another reason (say what in the note)", note_required=True),
)

# The SSDA903 reasons a child stops being looked after outside a review or visit (the
# diagram's own "Ceased to be looked after" ends record the rest).
ENGLAND = (
    EarlyEnding("removed_by_parent", "A parent removed the child from section 20 "
                "accommodation (SSDA903 E4B)", data=_ceased("E4B")),
    EarlyEnding(TURNED_18, "The child turned 18 (SSDA903 E8; a staying put or independent "
                "living move is recorded at a review)", data=_ceased("E8")),
    EarlyEnding("moved_council", "Care taken over by another local authority (SSDA903 E3)",
                data=_ceased("E3")),
    EarlyEnding("died", "The child died (SSDA903 E2)", data=_ceased("E2")),
    EarlyEnding("other", "Another reason (SSDA903 E8; say what in the note)",
                note_required=True, data=_ceased("E8")),
)
