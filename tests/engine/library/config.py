"""The library's configuration of the generic engine: its lanes, escalation chain,
milestone codes, due-date grammar and calendar, script functions and notice wording.

Built from ``engine`` alone, as another organisation would build it.

Due rules (the library's own grammar, not the one of any other deployment)::

    rule     := term (" or " term)*        the first term whose anchor is known
    term     := ANCHOR offset*             ANCHOR: a milestone code, CODE_PLANNED, or a date field
    offset   := ("+" | "-") N unit         unit: d (days), w (weeks), od (opening days)

Opening days skip the days the branches are closed: every Sunday and the closure days
listed in the configuration (a bank holiday, a staff training day).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from engine.notifications import DEFAULT_KINDS, DEFAULT_RULES, Kind, NotificationPolicy, Rule
from engine.outbox import MailSettings
from engine.registry import ModelBundle
from engine.runtime import EngineConfig, Runtime

HERE = Path(__file__).resolve().parent
PROCESS_ID = "book_loan"

# Lanes of the diagram: the roles that hold a queue.
ROLES: Mapping[str, str] = {"librarian": "Librarian", "branch_manager": "Branch manager"}
# Overdue work goes to the branch manager, then to the head of libraries.
ESCALATION = ("branch_manager", "head_of_libraries")
ROLE_LABELS: Mapping[str, str] = {**ROLES, "head_of_libraries": "Head of libraries"}
MILESTONES: Mapping[str, str] = {
    "REQUEST": "Loan requested",
    "CHECKED": "Request checked by a librarian",
    "APPROVED": "Costly loan approved by the branch manager",
    "LENT": "Book lent to the member",
    "RETURNED": "Book returned",
}
# Closure days besides Sundays (a staff training day).
CLOSURES = frozenset({date(2026, 3, 11)})

# What the partner library's fee becomes once the handling charge is added, and from
# which charge a branch manager must approve the loan.
HANDLING_CHARGE = 2.5
COSTLY_FROM = 20.0


# -- the due-rule grammar ---------------------------------------------------------------
_ALTERNATIVES = re.compile(r"\s+or\s+")
_ANCHOR = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)")
_OFFSET = re.compile(r"\s*([+-])\s*(\d{1,3})\s*(od|d|w)(?![A-Za-z0-9_])")
_HOW = "write offsets like +2d, -1w or +3od (opening days)"


def _offsets(text: str, pos: int, whole: str) -> list[tuple[int, str]]:
    found = []
    while text[pos:].strip():
        match = _OFFSET.match(text, pos)
        if match is None:
            raise ValueError(f"{whole!r}: cannot read {text[pos:].strip()!r}; {_HOW}")
        found.append(((1 if match.group(1) == "+" else -1) * int(match.group(2)), match.group(3)))
        pos = match.end()
    return found


def parse(rule: str) -> list[tuple[str, list[tuple[int, str]]]]:
    """[(anchor, [(signed amount, unit), ...]), ...] for each alternative of ``rule``."""
    if not rule or not rule.strip():
        raise ValueError("the rule is empty; write e.g. REQUEST+2od")
    if len(rule) > 200:
        raise ValueError("the rule is longer than 200 characters")
    terms = []
    for part in _ALTERNATIVES.split(rule.strip()):
        match = _ANCHOR.match(part)
        if match is None:
            raise ValueError(f"{rule!r}: each alternative starts with a milestone code or a "
                             "date field, e.g. REQUEST+2od or needed_by-1d")
        terms.append((match.group(1), _offsets(part, match.end(), rule)))
    return terms


@dataclass(frozen=True)
class LoanRules:
    """The library's RulePolicy (engine/rules.py)."""
    closed_weekdays: frozenset[int] = frozenset({6})  # Sunday
    closures: frozenset[date] = frozenset()

    def is_open(self, day: date) -> bool:
        return day.weekday() not in self.closed_weekdays and day not in self.closures

    def _apply(self, day: date, amount: int, unit: str) -> date:
        if unit == "d":
            return day + timedelta(days=amount)
        if unit == "w":
            return day + timedelta(weeks=amount)
        step = 1 if amount >= 0 else -1
        for _ in range(abs(amount)):
            day += timedelta(days=step)
            while not self.is_open(day):
                day += timedelta(days=step)
        return day

    # RulePolicy
    def check_rule(self, rule: str) -> None:
        parse(rule)

    def check_offsets(self, offsets: str) -> None:
        if not _offsets(offsets or "", 0, offsets or ""):
            raise ValueError(f"{offsets!r}: expected one or more offsets, e.g. -1d or +1d +3od")

    def resolve(self, rule: str, anchors: Mapping[str, date]) -> date | None:
        for anchor, offsets in parse(rule):
            day = anchors.get(anchor)
            if day is None:
                continue
            for amount, unit in offsets:
                day = self._apply(day, amount, unit)
            return day
        return None

    def shift(self, day: date, offsets: str) -> list[date]:
        return [self._apply(day, amount, unit) for amount, unit in _offsets(offsets, 0, offsets)]


# -- script functions the diagram may call ----------------------------------------------
def price_loan(data: dict) -> None:
    """The member's charge for the loan, and whether a branch manager must approve it."""
    charge = round(float(data.get("fee") or 0) + HANDLING_CHARGE, 2)
    data["charge"] = charge
    data["costly"] = charge >= COSTLY_FROM


SCRIPT_FUNCTIONS = {"price_loan": price_loan}


# -- notices ------------------------------------------------------------------------------
NEW_REQUEST = "new_request"

NOTICE_TEXTS: Mapping[str, tuple[str, str]] = {
    NEW_REQUEST: ("New in your queue: {task} for member {reference}",
                  "“{task}” for member {reference} is waiting in the {role} queue, due {due}."),
    "reminder": ("Reminder: {task} for member {reference} is due {due}",
                 "“{task}” for member {reference} is due {due}."),
    "overdue": ("Overdue loan work: {task} for member {reference}",
                "“{task}” for member {reference} was due {due}; it is now with the {to_role}."),
    "escalation": ("Loan work escalated to you: {task} for member {reference}",
                   "“{task}” for member {reference} was due {due_in}. It is escalated to you "
                   "as {to_role} (level {level})."),
    "alert": ("Loan period over: {task} for member {reference}",
              "A book lent to member {reference} is due back: “{task}” is in your queue."),
}


def notification_policy(mail_settings: Callable[[], MailSettings] | None = None) -> NotificationPolicy:
    """The library's notices; mail settings from LIBRARY_SMTP_HOST etc. unless given."""
    return NotificationPolicy(
        rules=DEFAULT_RULES + (Rule("task_ready", NEW_REQUEST, "queue"),),
        kinds={**DEFAULT_KINDS, NEW_REQUEST: Kind("A loan task arrives in your queue")},
        texts=NOTICE_TEXTS,
        role_label=lambda code: ROLE_LABELS.get(code, code.replace("_", " ")),
        service_name="Riverside Libraries: inter-library loans",
        reference_label="Member",
        task_link="/loans/tasks/{id}",
        subject_link="/members/{id}",
        # The library's own settings (LIBRARY_SMTP_HOST, ...); unset, mail is off.
        mail_settings=mail_settings or partial(MailSettings.from_env, prefix="LIBRARY_"),
    )


# -- the engine configuration --------------------------------------------------------------
def library_config(closures: Iterable[date] = CLOSURES, *,
                   mail_settings: Callable[[], MailSettings] | None = None) -> EngineConfig:
    return EngineConfig(rules=LoanRules(closures=frozenset(closures)), roles=frozenset(ROLES),
                        escalation_roles=ESCALATION, script_functions=SCRIPT_FUNCTIONS,
                        notifications=notification_policy(mail_settings))


def library_runtime(config: EngineConfig | None = None) -> Runtime:
    return Runtime(config or library_config())


def bundle() -> ModelBundle:
    """The diagram and its forms, as stored in this folder."""
    forms = {p.name: p.read_text(encoding="utf-8") for p in sorted((HERE / "forms").glob("*.json"))}
    return ModelBundle(PROCESS_ID, (HERE / f"{PROCESS_ID}.bpmn").read_text(encoding="utf-8"), forms)
