"""Council settings a diagram may name, read when the engine needs them.

Why: a diagram that writes a council's choice into itself (the first CSO review at
``CSO_START+18m``) disagrees with the same choice kept as a setting (Aim 1's threshold,
which the measures count against) as soon as one of them is changed. So a diagram names the
setting instead, and the engine reads its value when it computes a date or routes a task:

- in a due rule or timer date, as an offset: ``CSO_START+{aims.1.threshold}-6w`` (the time
  the setting holds, added exactly as the measures add it: ``Threshold.add_to``);
- on a user task, ``laneFromSetting="cso_review.chair"``: the task goes to the queue of the
  role the setting names instead of its lane's (engine/routing.py).

``NAMES`` lists the settings a diagram may name, each with its kind; the process owner's
check refuses any other name with the nearest valid ones. Aim settings are the council's
(``aim_setting`` rows, changed by ``pace settings set aims.1.threshold=24m``); the others are
deployment settings (workflows/configuration.py, from ``PACE_CONFIG`` or the environment).

The value is read in the transaction of the command that needs it: the runtime binds the
command's session (``bind``) whenever it loads or starts an instance (workflows/profiles.py),
as it sets the bank-holiday region. Read without a binding (a check, a unit test) a setting
has its default. A date, once computed, is kept: a timer already waiting or a task already
open keeps its date when the setting changes (docs/bpmn-authoring.md says why).
"""
from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from workflows.measures import aim_store
from workflows.measures.aims import DEFAULT_COUNCIL, Threshold, default_for

COUNCIL_KEY = "pace_council"  # session.info key: the council whose settings a session reads
DURATION, ROLE = "duration", "role"
CHAIR_VARIABLE = "PACE_CSO_REVIEW_CHAIR"
CHAIRS = ("independent_chair", "team_leader")


@dataclass(frozen=True)
class Named:
    kind: str     # DURATION (a due rule's offset) or ROLE (laneFromSetting)
    meaning: str


NAMES = {
    "aims.1.threshold": Named(DURATION, "Aim 1's threshold: how long a child is on a CSO "
                                        "before the first Aim 1 review is due (e.g. 18m)"),
    "cso_review.chair": Named(ROLE, "who chairs the Aim 1 review: independent_chair or "
                                    "team_leader"),
}

_session: ContextVar[Session | None] = ContextVar("pace_rule_settings_session", default=None)


def bind(session: Session | None):
    """Read settings in ``session``'s transaction from now on (a ContextVar token)."""
    return _session.set(session)


def unbind(token) -> None:
    _session.reset(token)


def council_of(session: Session) -> str:
    return session.info.get(COUNCIL_KEY) or DEFAULT_COUNCIL


def threshold(session: Session | None, aim: int = 1) -> Threshold:
    """The aim's threshold as the measures read it (its default without a session)."""
    if session is None:
        return default_for(aim).threshold
    return aim_store.load(session, council_of(session))[aim].threshold


def chair() -> str:
    """Who chairs the Aim 1 review (``cso_review.chair``); the independent chair unless set."""
    value = (os.environ.get(CHAIR_VARIABLE) or "").strip().lower()
    return value if value in CHAIRS else CHAIRS[0]


_READERS: dict[str, Callable[[Session | None], str]] = {
    "aims.1.threshold": lambda session: threshold(session, 1).text,
    "cso_review.chair": lambda session: chair(),
}


class RuleSettings:
    """The source DueRules reads ``{name}`` offsets and ``laneFromSetting`` from."""

    def problem(self, name: str, kind: str = DURATION) -> str | None:
        named = NAMES.get(name)
        if named is not None and named.kind == kind:
            return None
        fitting = sorted(n for n, v in NAMES.items() if v.kind == kind)
        if named is not None:
            what = "a time" if kind == DURATION else "a role"
            return (f"the setting {name} does not hold {what}; settings that do: "
                    f"{', '.join(fitting)}")
        close = difflib.get_close_matches(name, fitting, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        return (f"there is no setting {name}{hint} (the settings a diagram may name here: "
                f"{', '.join(fitting)})")

    bind = staticmethod(bind)
    unbind = staticmethod(unbind)

    def value(self, name: str) -> str | None:
        reader = _READERS.get(name)
        return reader(_session.get()) if reader is not None else None

    def add(self, name: str, day: date) -> date:
        if NAMES.get(name, Named("", "")).kind != DURATION:
            raise ValueError(self.problem(name) or name)
        if name == "aims.1.threshold":
            return threshold(_session.get(), 1).add_to(day)
        return Threshold.parse(self.value(name) or "").add_to(day)


SOURCE = RuleSettings()
