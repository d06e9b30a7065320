"""Which process an uploaded diagram may become: rules on its process id, pure functions.

A diagram names its process itself (the executable process's id), so a typing slip in the
modeler decides where the upload lands. Each rule returns the message a process owner needs
(naming the id, the existing process or the profile) or None. Refusing these before a draft
exists matters because a draft of the wrong process looks fine until children are on it:
``Permanence_Journey`` would quietly become a second process beside ``permanence_journey``,
and a process of a profile that is switched off could be deployed although no child can
ever follow it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from workflows import profiles

PROCESS_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")
RESERVED = ("upload", "drafts")   # path segments of the process owner's pages
_MODELER_HINT = ("In the modeler, select the pool (or the empty canvas), set its process ID "
                 "and tick 'Executable'.")


def suggested_id(process_id: str) -> str:
    """``process_id`` with every character an id may not hold turned into '_'."""
    fixed = re.sub(r"[^A-Za-z0-9_-]", "_", process_id.strip()) or "process"
    return fixed if fixed[0].isalpha() else f"p_{fixed}"


def executable_problem(ids: Sequence[str | None]) -> str | None:
    """Why the executable processes a diagram declares do not name one usable process."""
    if not ids:
        return ("The diagram has no executable process, so PACE Flow cannot tell which process "
                f"it is. {_MODELER_HINT}")
    if len(ids) > 1:
        named = ", ".join(repr(i or "") for i in ids)
        return (f"The diagram holds {len(ids)} executable processes ({named}); it must hold "
                "exactly one. Untick 'Executable' on all but the one PACE Flow should run, "
                "or put each process in its own file.")
    process_id = ids[0] or ""
    if process_id in RESERVED:
        return (f"The process id {process_id!r} cannot be used: it is a word PACE Flow's own "
                f"pages use. Choose another id, such as {process_id}_process. {_MODELER_HINT}")
    if not PROCESS_ID.match(process_id):
        return (f"The process id {process_id!r} cannot be used: an id must start with a letter "
                "and hold only letters, digits, '_' and '-' (at most 100). Change it, for "
                f"example to {suggested_id(process_id)!r}. {_MODELER_HINT}")
    return None


def case_clash(process_id: str, existing: Iterable[str]) -> str | None:
    """A new process whose id differs from an existing one only in capital letters."""
    for other in existing:
        if other != process_id and other.lower() == process_id.lower():
            return (f"The diagram's process id {process_id!r} differs from the existing process "
                    f"{other!r} only in capital letters, so it would become a second process "
                    f"beside it. To make a new version of {other!r}, change the process ID in "
                    f"the modeler to {other!r}; for a new process, choose an id that differs "
                    "by more than capitals.")
    return None


def switched_off(process_id: str, enabled: Iterable[str]) -> str | None:
    """A process of a profile that is not switched on here: no child can follow it."""
    profile = profiles.for_process(process_id)
    enabled = tuple(enabled)
    if profile is None or profile.name in enabled:
        return None
    return (f"{process_id!r} is a process of the {profile.name.capitalize()} profile, which "
            f"is switched off here ({profiles.ENV}={','.join(enabled)}), so no child could follow it. "
            "Nothing was saved. Ask your administrator to switch that profile on first, or "
            "upload a diagram of a process this council uses.")
