"""Every setting of this deployment and where it came from; the ones kept in the database
changed by name. ``pace settings show|set`` and ``/api/v1/settings`` call these two
functions, so they list the same rows and refuse the same changes with the same messages.

Why two kinds: what the server needs before it can answer (council, profiles, database,
mail, sign-in) comes from the configuration (``workflows.configuration``: the environment
or ``PACE_CONFIG``'s file) and changes with a restart; the aims' thresholds and targets are
the process owners' to change while the service runs, so they are kept in the database,
named ``aims.<aim>.<setting>``, and each change is audited (``aim_settings_changed``,
through ``workflows.services.aim_settings``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import FieldError, Forbidden, InvalidData
from workflows import configuration, policy
from workflows.configuration import Shown
from workflows.measures import aim_store
from workflows.measures.aims import AIMS, AimSettings
from workflows.measures.tables import AimSetting
from workflows.policy import Actor

from . import aim_settings

DATABASE_MEANINGS = {
    "wording": "the aim in words", "target_pct": "the target, a percentage",
    "threshold": "how soon the aim's step must happen", "max_age": "oldest child counted",
    "min_age": "youngest child counted", "teams": "the teams counted (none: all)",
    "placement": "Aim 1: children on a CSO at home, or home_or_kinship (kinship care too)",
    "start_date": "first day the aim counts", "end_date": "last day the aim counts",
}


def overview(session: Session, actor: Actor | None, council: str,
             deployment: Sequence[Shown]) -> list[Shown]:
    """``deployment`` (``configuration.report``: the configuration's settings with their
    sources) followed by the settings kept in the database. ``actor`` None: the operator at
    the server's shell, who holds the configuration already."""
    if actor is not None and not policy.can_view_settings(actor):
        raise Forbidden("Only administrators and process owners see the settings.")
    rows = list(deployment)
    saved = set(session.scalars(select(AimSetting.aim).where(AimSetting.council == council)))
    for aim, kept in sorted(aim_store.load(session, council).items()):
        rows += _aim_rows(aim, kept, "database" if aim in saved else "default")
    return rows


def change(session: Session, actor: Actor, council: str, changes: Mapping[str, object]
           ) -> list[Shown]:
    """Change settings kept in the database, named ``aims.<aim>.<setting>``; the rows of
    the aims changed. All or nothing: InvalidData naming each key refused (the caller's
    transaction rolls back whatever an aim before it saved)."""
    if not policy.can_change_settings(actor):
        raise Forbidden("Only administrators and process owners change the settings.")
    by_aim: dict[int, dict[str, object]] = {}
    problems = [FieldError("", "Name at least one setting to change.")] if not changes else []
    for key, value in changes.items():
        aim, setting, problem = _database_key(str(key))
        if problem:
            problems.append(FieldError(str(key), problem))
        else:
            by_aim.setdefault(aim, {})[setting] = value
    rows = []  # the aims are checked even when a key was refused: every problem named at once
    for aim, aim_changes in sorted(by_aim.items()):
        try:
            rows += _aim_rows(aim, aim_settings.change(session, actor, council, aim, aim_changes))
        except InvalidData as exc:
            problems += [FieldError(f"aims.{aim}.{e.field}" if e.field else f"aims.{aim}",
                                    e.message) for e in exc.errors]
    if problems:
        raise InvalidData(problems)
    return rows


def _database_key(key: str) -> tuple[int, str, str | None]:
    """(aim, setting, None) for ``aims.<aim>.<setting>``, else (0, "", why not)."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "aims":
        aim = int(parts[1]) if parts[1].isdigit() and len(parts[1]) < 3 else 0
        if aim not in AIMS:
            return 0, "", f"There is no Aim {parts[1]}: the aims are {', '.join(map(str, AIMS))}."
        if parts[2] not in aim_settings.SETTING_KEYS:
            return 0, "", ("There is no such setting of an aim; they are "
                           + ", ".join(aim_settings.SETTING_KEYS) + ".")
        return aim, parts[2], None
    option = configuration.BY_KEY.get(key) or configuration.BY_VARIABLE.get(key)
    if option is not None:
        return 0, "", (f"{option.key} is part of the configuration, not the database: set "
                       f"{option.variable} or {option.key} in the settings file (PACE_CONFIG) "
                       "and restart the service.")
    return 0, "", ("There is no such setting kept in the database; those are "
                   "aims.<1, 2 or 3>.<" + ", ".join(aim_settings.SETTING_KEYS) + ">.")


def _number(value) -> str:
    return "" if value is None else f"{value:g}"


def _aim_rows(aim: int, kept: AimSettings, source: str = "database") -> list[Shown]:
    """``source``: ``default`` for an aim this council never saved (its values are the
    defaults until a process owner changes one)."""
    population = kept.population
    values = {"wording": kept.wording, "target_pct": _number(float(kept.target_pct)),
              "threshold": kept.threshold.text, "max_age": _number(population.max_age),
              "min_age": _number(population.min_age), "teams": ",".join(population.teams),
              "placement": "home_or_kinship" if population.kinship else "home",
              "start_date": kept.start_date.isoformat() if kept.start_date else "",
              "end_date": kept.end_date.isoformat() if kept.end_date else ""}
    return [Shown(f"aims.{aim}.{key}", None, values[key], source, DATABASE_MEANINGS[key])
            for key in aim_settings.SETTING_KEYS]
