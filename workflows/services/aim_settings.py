"""A council's aim settings: read them, change them. The settings page
(``/measures/aims/<aim>/settings``), ``/api/v1/measures/aims/<aim>/settings`` and
``pace measures settings`` all come here, so they refuse the same values naming the same
fields, and every change is audited (``aim_settings_changed``, old and new values).

The settings are ``SETTING_KEYS``; a change names only those it changes (the page sends
them all), as text (a form, ``KEY=VALUE``) or typed (JSON). Blank clears an optional one
(``max_age``, ``min_age``, ``teams``, ``start_date``, ``end_date``; ``placement`` back to
``home``).
"""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import FieldError, Forbidden, InvalidData, NotFound
from engine.models import Team
from workflows import policy
from workflows.measures import aim_store, aims
from workflows.measures.aims import AimSettings, Population, SettingError, Threshold
from workflows.policy import Actor

from . import inputs
from .actors import account

SETTING_KEYS = ("wording", "target_pct", "threshold", "max_age", "min_age", "teams",
                "placement", "start_date", "end_date")
# Aim 1's children by where they live on the order (``Population.kinship``).
PLACEMENTS = {"home": False, "home_or_kinship": True}
MAX_TEAMS = 100


def settings(session: Session, actor: Actor | None, council: str) -> dict[int, AimSettings]:
    """The council's three aims (an aim never saved has its default). ``actor`` None: the
    operator at the command line, who holds the database already."""
    if actor is not None and not policy.can_view_measures(actor):
        raise Forbidden("Your roles do not include the measures.")
    return aim_store.load(session, council)


def aim_settings(session: Session, actor: Actor | None, council: str, aim: int) -> AimSettings:
    found = settings(session, actor, council)
    if aim not in found:
        raise NotFound(f"There is no Aim {aim}: PACE Flow measures Aims 1, 2 and 3.")
    return found[aim]


def change(session: Session, actor: Actor, council: str, aim: int,
           changes: Mapping) -> AimSettings:
    """Save the aim's settings with ``changes`` made; 422 naming each field refused."""
    if not policy.can_change_aim_settings(actor):
        raise Forbidden("Only process owners and administrators change the aims' settings.")
    current = aim_settings(session, actor, council, aim)
    changed = changed_settings(session, current, changes)
    return aim_store.save(session, changed, account(session, actor).username)


def changed_settings(session: Session, current: AimSettings, changes: Mapping) -> AimSettings:
    """``current`` with ``changes`` made, every value checked (InvalidData otherwise)."""
    problems = [FieldError(str(key), "There is no such setting; the settings are "
                                     + ", ".join(SETTING_KEYS) + ".")
                for key in changes if key not in SETTING_KEYS]
    if not changes:
        problems.append(FieldError("", "Name at least one setting to change."))
    values: dict = {}
    if "wording" in changes:
        _wording(changes["wording"], problems, values)
    if "target_pct" in changes:
        _target(changes["target_pct"], problems, values)
    if "threshold" in changes:
        _threshold(changes["threshold"], problems, values)
    population = _population(session, current.population, changes, problems, current.aim)
    if population is not None and population != current.population:
        values["population"] = population
    start, end = current.start_date, current.end_date
    if "start_date" in changes:
        start = values["start_date"] = inputs.day(changes["start_date"], "start_date", problems)
    if "end_date" in changes:
        end = values["end_date"] = inputs.day(changes["end_date"], "end_date", problems)
    if not any(p.field in ("start_date", "end_date") for p in problems):
        _rule(problems, "end_date", aims.check_dates, start, end)
    if problems:
        raise InvalidData(problems)
    try:
        return current.with_changes(**values)
    except SettingError as exc:  # every rule was checked above; kept as a safety net
        raise InvalidData([FieldError("", str(exc))]) from None


def _rule(problems: list[FieldError], name: str, check, *args):
    """Run a pure rule of ``workflows.measures.aims``; its SettingError becomes the field's problem."""
    try:
        return check(*args)
    except SettingError as exc:
        problems.append(FieldError(name, str(exc)))
        return None


def _wording(value, problems: list[FieldError], values: dict) -> None:
    given = len(problems)
    wording = inputs.text(value, "wording", problems, max_length=aims.WORDING_MAX_LENGTH)
    if len(problems) == given:
        _rule(problems, "wording", aims.check_wording, wording)
    if len(problems) == given:
        values["wording"] = wording.strip()


def _target(value, problems: list[FieldError], values: dict) -> None:
    given = len(problems)
    target = inputs.number(value, "target_pct", problems, "Enter the target as a number, "
                                                          "for example 75.")
    if target is None and len(problems) == given:
        problems.append(FieldError("target_pct", "Enter the target as a percentage, "
                                                 "for example 75."))
    if target is not None:
        _rule(problems, "target_pct", aims.check_target, target)
    if len(problems) == given:
        values["target_pct"] = target


def _threshold(value, problems: list[FieldError], values: dict) -> None:
    given = len(problems)
    text = inputs.text(value, "threshold", problems, max_length=100, single_line=True)
    found = _rule(problems, "threshold", Threshold.for_setting, text) \
        if len(problems) == given else None
    if found is not None:
        values["threshold"] = found


def _population(session: Session, current: Population, changes: Mapping,
                problems: list[FieldError], aim: int = 1) -> Population | None:
    """The population with its changed parts, or None when one of them is refused."""
    given = len(problems)
    ages = {"max_age": current.max_age, "min_age": current.min_age}
    for name in ages:
        if name in changes:
            ages[name] = inputs.whole_number(changes[name], name, problems,
                                             "Enter the age as a whole number of years.",
                                             low=-1000, high=1000)
            if ages[name] is not None:
                _rule(problems, name, lambda age, key=name: Population(**{key: age}),
                      ages[name])
    teams = current.teams
    if "teams" in changes:
        teams = _teams(session, changes["teams"], problems)
    kinship = current.kinship
    if "placement" in changes:
        kinship = _placement(changes["placement"], aim, problems)
    if len(problems) > given:
        return None
    return _rule(problems, "min_age", Population, ages["max_age"], ages["min_age"], teams,
                 kinship)


def _placement(value, aim: int, problems: list[FieldError]) -> bool:
    """``home`` or ``home_or_kinship``: Aim 1 may count children in kinship care on a CSO."""
    text = value.strip().lower() if isinstance(value, str) else value
    if text in ("", None):
        return False
    if text not in PLACEMENTS:
        problems.append(FieldError("placement", "Choose home or home_or_kinship."))
        return False
    if PLACEMENTS[text] and aim != 1:
        problems.append(FieldError("placement", "Only Aim 1 counts children by where they live "
                                                "on the order; leave it as home."))
        return False
    return PLACEMENTS[text]


def _teams(session: Session, value, problems: list[FieldError]) -> tuple[str, ...]:
    """Team codes, as a list or as text separated by commas; each must exist."""
    if inputs.blank(value):
        return ()
    codes = value.split(",") if isinstance(value, str) else value
    if not isinstance(codes, (list, tuple)) or not all(isinstance(c, str) for c in codes) \
            or len(codes) > MAX_TEAMS:
        problems.append(FieldError("teams", f"List up to {MAX_TEAMS} team codes."))
        return ()
    wanted = tuple(dict.fromkeys(c.strip() for c in codes if c.strip()))
    known = set(session.scalars(select(Team.code).where(Team.code.in_(wanted)))) \
        if wanted and all(len(c) <= 40 for c in wanted) else set()
    unknown = [c for c in wanted if c not in known]
    if unknown:
        problems.append(FieldError("teams", "There is no team with the code "
                                            + ", ".join(repr(c) for c in unknown[:5]) + "."))
    return wanted
