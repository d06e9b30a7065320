"""What the engine needs from a domain's date rules.

Due, reminder, escalation and timer dates are rules written in diagrams. Their grammar and
calendar (units, working days, bank holidays) belong to the domain layer, which passes an
object with this shape to the runtime and the registry.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Protocol


class RulePolicy(Protocol):
    def check_rule(self, rule: str) -> None:
        """Raise ValueError saying what is wrong with a due rule."""

    def check_offsets(self, offsets: str) -> None:
        """Raise ValueError saying what is wrong with a list of offsets ("+2d +7d")."""

    def resolve(self, rule: str, anchors: Mapping[str, date]) -> date | None:
        """The date a rule names, or None when none of its anchors is known yet."""

    def shift(self, day: date, offsets: str) -> list[date]:
        """Each offset applied to ``day``."""

    # Optional: ``anchors(rule) -> list[str]``, the milestone codes and date fields a rule
    # counts from. A policy that has it gets every anchor of every due rule and timer date
    # checked against what the process records (engine/rule_anchors.py); one without it
    # (a domain whose rules name no anchors) is not checked for them.
