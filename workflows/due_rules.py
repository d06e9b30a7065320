"""Due-rule vocabulary: ``ANCHOR[±N unit]…`` with ``|`` alternatives.

Pure functions, so councils' timescales can be tested without a database. Units: d, w, m
(calendar months), y, wd (working days: weekends and the bank holidays of a UK region
skipped, from the maintained ``holidays`` package rather than a hand-kept list). The region
is Scotland unless a profile says otherwise (England and Wales: ``ENG``).

An offset may also name a council setting, ``+{aims.1.threshold}``: the time that setting
holds, added when the date is computed. Why: a date that must agree with a setting kept
elsewhere (Aim 1's threshold, which the measures count against) would otherwise be written
twice, and the two copies drift apart. The names and their current values come from the
``settings`` source a ``DueRules`` is given (workflows/rule_settings.py); this module stays
pure.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import holidays
from dateutil.relativedelta import relativedelta

_ANCHOR = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)")
_OFFSET = re.compile(r"\s*([+-])\s*(\d{1,4})\s*(wd|d|w|m|y)(?![A-Za-z0-9_])")
_SETTING = re.compile(r"\s*([+-])\s*\{\s*([A-Za-z0-9_.]{1,60})\s*\}")
SETTING_UNIT = "setting"  # an Offset that adds a setting's time: its ``setting`` names it
UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years", "wd": "working days"}


class RuleError(ValueError):
    """A due rule or offset that cannot be read; the message says how to fix it."""


# A plan for a child never needs a date further off than this (a child looked after from
# birth leaves care by 26): a rule reaching further is a slip (+9999y) and would overflow
# the calendar when a child reaches it.
HORIZON_YEARS = 25
_DAYS = {"d": 1.0, "w": 7.0, "m": 30.44, "y": 365.25, "wd": 7 / 5}
_ISO_DURATION = re.compile(r"^(R\d*/)?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?"
                           r"(T(\d+H)?(\d+M)?(\d+S)?)?$", re.IGNORECASE)
_ISO_UNITS = {"Y": "y", "M": "m", "W": "w", "D": "d"}


def iso_hint(text: str) -> str | None:
    """What to write instead of an ISO 8601 duration (P7D) or repeating interval (R6/P1D),
    as Camunda Modeler and other engines take them; None for anything else."""
    value = (text or "").strip()
    match = _ISO_DURATION.match(value)
    if not match:
        return None
    date_part = value.split("/")[-1][1:].upper().split("T")[0]
    offsets = "".join(f"+{amount}{_ISO_UNITS[unit]}"
                      for amount, unit in re.findall(r"(\d+)([YMWD])", date_part)) or "+1d"
    if match.group(1):
        return (f"{value!r} is an ISO 8601 repeating interval; PACE Flow has no repeating "
                f"timers: draw a loop back through the task the timer opens, with a timer "
                f"such as REVIEW{offsets} counted from the milestone that task records")
    return (f"{value!r} is an ISO 8601 duration; PACE Flow counts from a milestone or a date "
            f"field: write ANCHOR{offsets}, for example LA_START{offsets}")


def _check_horizon(rule: str, offsets: tuple["Offset", ...]) -> None:
    days = sum(_DAYS.get(o.unit, 0) * o.amount for o in offsets)  # a setting: its own limit
    if days > HORIZON_YEARS * 365.25:
        raise RuleError(f"{rule!r} reaches {days / 365.25:,.0f} years ahead; the limit is "
                        f"{HORIZON_YEARS} years")


@dataclass(frozen=True)
class Offset:
    sign: int
    amount: int
    unit: str
    setting: str = ""  # unit SETTING_UNIT: the setting whose time is added


class SettingSource(Protocol):
    """What a due rule's ``{name}`` is read from (workflows/rule_settings.py)."""

    def problem(self, name: str, kind: str = "duration") -> str | None:
        """Why ``name`` cannot be used where a ``kind`` of value is wanted (``duration``: a
        due rule's offset), with the nearest valid names; None when it can."""

    def add(self, name: str, day: date) -> date:
        """``day`` plus the time the setting holds now."""


@dataclass(frozen=True)
class Term:
    anchor: str
    offsets: tuple[Offset, ...]


def _parse_offsets(text: str, pos: int, whole: str) -> tuple[tuple[Offset, ...], int]:
    found = []
    while pos < len(text):
        match = _OFFSET.match(text, pos)
        named = None if match else _SETTING.match(text, pos)
        if named:
            if named.group(1) != "+":
                raise RuleError(f"{whole!r}: a setting can only be added: write "
                                f"+{{{named.group(2)}}}")
            found.append(Offset(1, 0, SETTING_UNIT, named.group(2)))
            pos = named.end()
            continue
        if not match:
            rest = text[pos:].strip()
            if not rest:
                break
            raise RuleError(f"{whole!r}: cannot read {rest!r}; write offsets like +3d, -2w, "
                            "+6m, +1y or +10wd")
        found.append(Offset(1 if match.group(1) == "+" else -1, int(match.group(2)),
                            match.group(3)))
        pos = match.end()
    return tuple(found), pos


@functools.lru_cache(maxsize=4096)
def parse_rule(rule: str) -> tuple[Term, ...]:
    if not rule or not rule.strip():
        raise RuleError("the due rule is empty; write e.g. LA_START+3w")
    if len(rule) > 500:
        raise RuleError("the due rule is longer than 500 characters")
    if hint := iso_hint(rule):
        raise RuleError(hint)
    terms = []
    for part in rule.split("|"):
        match = _ANCHOR.match(part)
        if not match:
            raise RuleError(f"{rule!r}: each alternative must start with a milestone code or "
                            "a date field, e.g. LA_START+3w")
        offsets, _ = _parse_offsets(part, match.end(), rule)
        _check_horizon(rule, offsets)
        terms.append(Term(match.group(1), offsets))
    return tuple(terms)


@functools.lru_cache(maxsize=4096)
def parse_offsets(text: str) -> tuple[Offset, ...]:
    if hint := iso_hint(text):
        raise RuleError(hint)
    offsets, _ = _parse_offsets(text or "", 0, text or "")
    if not offsets:
        raise RuleError(f"{text!r}: expected one or more offsets like -5d or +2d +7d")
    if any(o.unit == SETTING_UNIT for o in offsets):
        raise RuleError(f"{text!r}: reminders and escalations count from the due date in days, "
                        "weeks or months; only a due rule or timer may name a setting")
    _check_horizon(text, offsets)
    return offsets


SCOTLAND = "SCT"
ENGLAND = "ENG"  # England and Wales share their bank holidays
REGIONS = {SCOTLAND: "Scotland", ENGLAND: "England and Wales", "WLS": "Wales",
           "NIR": "Northern Ireland"}


@functools.lru_cache(maxsize=64)
def _bank_holidays(region: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv=region, years=year)


def _scottish_holidays(year: int) -> holidays.HolidayBase:
    return _bank_holidays(SCOTLAND, year)


def is_working_day(day: date, region: str = SCOTLAND) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(region, day.year)


def add_working_days(day: date, count: int, region: str = SCOTLAND) -> date:
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day, region):
            remaining -= 1
    return day


def apply_offset(day: date, offset: Offset, region: str = SCOTLAND,
                 settings: SettingSource | None = None) -> date:
    if offset.unit == SETTING_UNIT:
        if settings is None:
            raise RuleError(f"the setting {offset.setting} cannot be read here")
        return settings.add(offset.setting, day)
    amount = offset.sign * offset.amount
    if offset.unit == "d":
        return day + timedelta(days=amount)
    if offset.unit == "w":
        return day + timedelta(weeks=amount)
    if offset.unit == "m":
        return day + relativedelta(months=amount)
    if offset.unit == "y":
        return day + relativedelta(years=amount)
    return add_working_days(day, amount, region)


def resolve(rule: str, anchors: Mapping[str, date], region: str = SCOTLAND,
            settings: SettingSource | None = None) -> date | None:
    """The first alternative whose anchor is known, with its offsets applied (a setting's
    time read from ``settings`` now)."""
    for term in parse_rule(rule):
        anchor = anchors.get(term.anchor)
        if anchor is None:
            continue
        for offset in term.offsets:
            anchor = apply_offset(anchor, offset, region, settings)
        return anchor
    return None


def describe(rule: str) -> str:
    """Plain English, for forms and diffs: 'LA_START + 3 weeks'."""
    parts = []
    for term in parse_rule(rule):
        text = term.anchor
        for off in term.offsets:
            text += (f" + the time of the setting {off.setting}" if off.unit == SETTING_UNIT
                     else f" {'+' if off.sign > 0 else '-'} {off.amount} {UNITS[off.unit]}")
        parts.append(text)
    return ", otherwise ".join(parts)


class DueRules:
    """The RulePolicy the engine is given; ``region`` names the bank-holiday calendar that
    working days (``wd``) skip: ``SCT`` (Scotland, the default) or ``ENG`` (England and Wales)."""

    def __init__(self, region: str = SCOTLAND, settings: SettingSource | None = None):
        if region not in REGIONS:
            raise ValueError(f"unknown bank-holiday region {region!r}; "
                             f"known: {', '.join(sorted(REGIONS))}")
        self.region = region
        self.settings = settings  # None: a rule naming a setting is refused

    def check_rule(self, rule: str) -> None:
        for term in parse_rule(rule):
            for offset in term.offsets:
                if offset.unit == SETTING_UNIT:
                    problem = (self.settings.problem(offset.setting) if self.settings else
                               "no setting can be named in a due rule here")
                    if problem:
                        raise RuleError(f"{rule!r}: {problem}")

    def setting_value(self, name: str) -> str | None:
        """The setting's value now (a role property such as ``laneFromSetting`` reads it),
        or None when there is no such setting."""
        reader = getattr(self.settings, "value", None)
        return reader(name) if reader is not None else None

    def setting_problem(self, name: str, kind: str = "duration") -> str | None:
        """Why a diagram cannot name the setting ``name`` where a ``kind`` of value is
        wanted (``duration``: a due rule's offset; ``role``: ``laneFromSetting``), or None."""
        if self.settings is None:
            return "no setting can be named here"
        return self.settings.problem(name, kind)

    def check_offsets(self, offsets: str) -> None:
        parse_offsets(offsets)

    def anchors(self, rule: str) -> list[str]:
        """The milestone codes and date fields a rule counts from, in its order."""
        return [term.anchor for term in parse_rule(rule)]

    def resolve(self, rule: str, anchors: Mapping[str, date]) -> date | None:
        return resolve(rule, anchors, self.region, self.settings)

    def shift(self, day: date, offsets: str) -> list[date]:
        return [apply_offset(day, off, self.region) for off in parse_offsets(offsets)]
