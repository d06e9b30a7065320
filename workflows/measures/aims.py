"""PACE aims as settings: wording, target, threshold, population, start and end dates.

Where councils differ (18 or 24 months, 30 weeks or 7.5 months, under-12s only) the value is
a setting per council and per aim, never a constant in the measures. ``DEFAULT_AIMS`` are
the values DOMAIN.md gives (South Ayrshire's, whose process the shipped diagrams follow);
``PRESETS`` hold the other published councils' aims, for reference and for tests.
Pure (no database): a council's stored settings are read and saved by ``aim_store``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

AIMS = (1, 2, 3)
AIM_TITLES = {
    1: "Aim 1: review of Compulsory Supervision Orders at home",
    2: "Aim 2: permanence recommendation",
    3: "Aim 3: Agency Decision Maker",
}
DEFAULT_COUNCIL = "default"
_TERM = re.compile(r"\s*(\d{1,4}(?:\.\d{1,2})?)\s*(d|w|m|y)\s*")
_UNIT_NAMES = {"d": ("day", "days"), "w": ("week", "weeks"), "m": ("month", "months"),
               "y": ("year", "years")}
AVERAGE_MONTH_DAYS = Decimal("30.4375")  # 365.25 / 12
THRESHOLD_MAX_LENGTH = 20  # as stored (aim_setting.threshold)
THRESHOLD_MAX_YEARS = 10   # longer is a typing mistake, and would push deadlines past any date
WORDING_MAX_LENGTH = 2000


class SettingError(ValueError):
    """A setting that cannot be used; the message says how to fix it."""


@dataclass(frozen=True)
class Threshold:
    """A time allowed after the anchor date, e.g. ``30w``, ``18m``, ``7.5m`` or ``7m15d``.

    Months and years are calendar months (31 January + 1m = 28/29 February; 1.5y = 18m); a
    fraction of a month counts as that fraction of an average month (30.4375 days), rounded
    to the nearest day, so 7.5 months is 7 calendar months and 15 days.
    """
    text: str

    @classmethod
    def parse(cls, text: str) -> "Threshold":
        cleaned = (text or "").strip().lower()
        cls._terms(cleaned)
        return cls(cleaned)

    @staticmethod
    def _terms(text: str) -> list[tuple[Decimal, str]]:
        if not text:
            raise SettingError("the threshold is empty; write e.g. 30w, 18m or 7.5m")
        terms, pos = [], 0
        while pos < len(text):
            match = _TERM.match(text, pos)
            if not match:
                raise SettingError(f"cannot read the threshold {text!r}; write a number and a "
                                   "unit (d, w, m or y), e.g. 30w, 18m, 7.5m or 7m15d")
            terms.append((Decimal(match.group(1)), match.group(2)))
            pos = match.end()
        if sum(amount for amount, _ in terms) <= 0:
            raise SettingError("the threshold must be longer than zero")
        return terms

    @classmethod
    def for_setting(cls, text: str) -> "Threshold":
        """``parse``, and within what a council would set: at most 10 years, as stored."""
        found = cls.parse(text)
        if len(found.text) > THRESHOLD_MAX_LENGTH:
            raise SettingError(f"the threshold must be {THRESHOLD_MAX_LENGTH} characters or "
                               "fewer; write e.g. 30w, 18m or 7.5m")
        reference = date(2001, 1, 1)
        if found.add_to(reference) > reference + relativedelta(years=THRESHOLD_MAX_YEARS):
            raise SettingError(f"the threshold must be {THRESHOLD_MAX_YEARS} years or shorter")
        return found

    def add_to(self, day: date) -> date:
        result, extra_days = day, Decimal(0)
        for amount, unit in self._terms(self.text):
            if unit == "d":
                extra_days += amount
            elif unit == "w":
                extra_days += amount * 7
            else:
                months = amount * 12 if unit == "y" else amount
                result += relativedelta(months=int(months))
                extra_days += (months - int(months)) * AVERAGE_MONTH_DAYS
        days = int(extra_days.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return result + timedelta(days=days)

    def describe(self) -> str:
        parts = []
        for amount, unit in self._terms(self.text):
            number = f"{amount.normalize():f}"
            single, plural = _UNIT_NAMES[unit]
            parts.append(f"{number} {single if amount == 1 else plural}")
        return " ".join(parts)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Population:
    """Which children an aim is about: an age band at the anchor date and a set of teams.

    ``max_age=12`` means *under 12* when the clock started (accommodation, or the order for
    Aim 1). A child with no recorded date of birth cannot be placed in an age band, so is
    left out, and listed as such, whenever an age limit is set.
    """
    max_age: int | None = None
    min_age: int | None = None
    teams: tuple[str, ...] = ()
    # Aim 1 only: children on a CSO in kinship care count too (Argyll and Bute's aim: "at
    # home or in kinship care"); without it only children at home (South Ayrshire's).
    kinship: bool = False

    def __post_init__(self):
        for name in ("max_age", "min_age"):
            value = getattr(self, name)
            if value is not None and not (0 <= value <= 25):
                raise SettingError(f"{name.replace('_', ' ')} must be between 0 and 25 years")
        if self.max_age is not None and self.min_age is not None and self.min_age >= self.max_age:
            raise SettingError("the lower age limit must be below the upper one")

    @classmethod
    def from_json(cls, data: dict | None) -> "Population":
        data = data or {}
        return cls(max_age=data.get("max_age"), min_age=data.get("min_age"),
                   teams=tuple(data.get("teams") or ()), kinship=bool(data.get("kinship")))

    def to_json(self) -> dict:
        found: dict = {}
        if self.max_age is not None:
            found["max_age"] = self.max_age
        if self.min_age is not None:
            found["min_age"] = self.min_age
        if self.teams:
            found["teams"] = list(self.teams)
        if self.kinship:
            found["kinship"] = True
        return found

    @property
    def needs_age(self) -> bool:
        return self.max_age is not None or self.min_age is not None

    def reason_excluded(self, team: str, date_of_birth: date | None, on: date) -> str | None:
        """Why a child is outside the population, or None when it is inside."""
        if self.teams and team not in self.teams:
            return "team"
        if not self.needs_age:
            return None
        if date_of_birth is None:
            return "no date of birth"
        age = age_on(date_of_birth, on)
        if self.max_age is not None and age >= self.max_age:
            return f"aged {self.max_age} or over"
        if self.min_age is not None and age < self.min_age:
            return f"under {self.min_age}"
        return None

    def describe(self) -> str:
        parts = []
        if self.min_age is not None and self.max_age is not None:
            parts.append(f"aged {self.min_age} to {self.max_age - 1}")
        elif self.max_age is not None:
            parts.append(f"under {self.max_age}")
        elif self.min_age is not None:
            parts.append(f"aged {self.min_age} or over")
        if self.teams:
            parts.append("teams " + ", ".join(self.teams))
        if self.kinship:
            parts.append("at home or in kinship care")
        return "; ".join(parts) or "all children"


def age_on(date_of_birth: date, on: date) -> int:
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


@dataclass(frozen=True)
class AimSettings:
    aim: int
    wording: str
    target_pct: float
    threshold: Threshold
    population: Population = field(default_factory=Population)
    start_date: date | None = None
    end_date: date | None = None
    council: str = DEFAULT_COUNCIL

    def __post_init__(self):
        if self.aim not in AIMS:
            raise SettingError(f"there is no Aim {self.aim}; PACE Flow measures Aims 1, 2 and 3")
        check_target(self.target_pct)
        check_dates(self.start_date, self.end_date)
        if not (self.wording or "").strip():
            raise SettingError("write the aim's wording")

    @property
    def title(self) -> str:
        return AIM_TITLES[self.aim]

    def with_changes(self, **changes) -> "AimSettings":
        return replace(self, **changes)


def check_target(target_pct: float) -> None:
    if not (0 < float(target_pct) <= 100):
        raise SettingError("the target must be a percentage above 0 and at most 100")


def check_dates(start_date: date | None, end_date: date | None) -> None:
    if start_date and end_date and end_date < start_date:
        raise SettingError("the aim's end date is before its start date")


def check_wording(wording: str) -> None:
    """A new wording: not blank, and no longer than a paragraph."""
    if not (wording or "").strip():
        raise SettingError("write the aim's wording")
    if len(wording) > WORDING_MAX_LENGTH:
        raise SettingError(f"the wording must be {WORDING_MAX_LENGTH} characters or fewer")


def _aim(aim, wording, target, threshold, council=DEFAULT_COUNCIL, **kw) -> AimSettings:
    return AimSettings(aim=aim, wording=wording, target_pct=target,
                       threshold=Threshold.parse(threshold), council=council, **kw)


DEFAULT_AIMS: dict[int, AimSettings] = {
    1: _aim(1, "80% of children and young people on a Compulsory Supervision Order at home for "
               "more than 18 months to be independently reviewed.", 80, "18m"),
    2: _aim(2, "75% of children who become looked after and accommodated will have a "
               "recommendation for permanence (including permanent return home) within 30 weeks "
               "of becoming looked after and accommodated.", 75, "30w"),
    3: _aim(3, "60% of children who have had a recommendation for permanence away from home will "
               "have the decision ratified by the Agency Decision Maker within 30 weeks of the "
               "Looked After Review that recommended permanence.", 60, "30w"),
}

# Published aims of other councils (DOMAIN.md sources), usable as starting points.
PRESETS: dict[str, dict[int, AimSettings]] = {
    "south_ayrshire": {
        1: replace(DEFAULT_AIMS[1], council="south_ayrshire", end_date=date(2019, 12, 31)),
        2: replace(DEFAULT_AIMS[2], council="south_ayrshire", start_date=date(2019, 5, 20),
                   end_date=date(2020, 5, 31)),
        3: replace(DEFAULT_AIMS[3], council="south_ayrshire", end_date=date(2020, 5, 31)),
    },
    "midlothian": {
        2: _aim(2, "By 1st November 2018, 75% of looked after and accommodated children (under 12) "
                   "will have a decision for permanence within 7.5 months from accommodation.",
                75, "7.5m", council="midlothian", population=Population(max_age=12),
                start_date=date(2017, 11, 1), end_date=date(2018, 11, 1)),
    },
    "argyll_and_bute": {
        1: _aim(1, "By December 2018, 100% of children who have been looked after at home or in "
                   "kinship care for more than 2 years, on or after 6 June 2018, will have a 24 "
                   "month review.", 100, "24m", council="argyll_and_bute",
                population=Population(kinship=True),
                start_date=date(2018, 6, 6), end_date=date(2018, 12, 31)),
        2: _aim(2, "By 1 July 2019, 80% of children who become looked after and accommodated, on "
                   "or after 1 October 2018, will have a recommendation for permanence within 30 "
                   "weeks of becoming accommodated.", 80, "30w", council="argyll_and_bute",
                start_date=date(2018, 10, 1), end_date=date(2019, 7, 1)),
    },
}


def default_for(aim: int, council: str = DEFAULT_COUNCIL) -> AimSettings:
    return replace(DEFAULT_AIMS[aim], council=council)
