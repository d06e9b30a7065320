"""A council's aim settings as stored (``aim_setting`` rows): read, and saved with an audit event.

An aim never saved falls back to its default (``aims.default_for``); the settings themselves,
their parsing and validation are in ``aims`` (pure), which the measures read.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock

from workflows.measures.aims import (AIMS, DEFAULT_COUNCIL, AimSettings, Population, Threshold,
                                     default_for)
from workflows.measures.tables import AimSetting


def _from_row(row) -> AimSettings:
    return AimSettings(aim=row.aim, wording=row.wording, target_pct=row.target_pct,
                       threshold=Threshold.parse(row.threshold),
                       population=Population.from_json(row.population),
                       start_date=row.start_date, end_date=row.end_date, council=row.council)


def load(session: Session, council: str = DEFAULT_COUNCIL) -> dict[int, AimSettings]:
    """The council's aims; an aim never saved falls back to the DOMAIN.md default."""
    stored = {row.aim: _from_row(row) for row in session.scalars(
        select(AimSetting).where(AimSetting.council == council))}
    return {aim: stored.get(aim) or default_for(aim, council) for aim in AIMS}


def save(session: Session, settings: AimSettings, actor: str) -> AimSettings:
    """Store one aim's settings and audit the change (old and new values)."""
    row = session.scalars(select(AimSetting).where(AimSetting.council == settings.council,
                                                   AimSetting.aim == settings.aim)).first()
    before = _as_dict(_from_row(row)) if row is not None else None
    if row is None:
        row = AimSetting(council=settings.council, aim=settings.aim)
        session.add(row)
    row.wording, row.target_pct = settings.wording.strip(), float(settings.target_pct)
    row.threshold, row.population = settings.threshold.text, settings.population.to_json()
    row.start_date, row.end_date = settings.start_date, settings.end_date
    row.updated_by, row.updated_at = actor, clock.now()
    session.flush()
    audit.record(session, "aim_settings_changed", actor,
                 data={"council": settings.council, "aim": settings.aim, "before": before,
                       "after": _as_dict(settings)})
    return settings


def _as_dict(settings: AimSettings) -> dict:
    return {"wording": settings.wording, "target_pct": float(settings.target_pct),
            "threshold": settings.threshold.text, "population": settings.population.to_json(),
            "start_date": settings.start_date.isoformat() if settings.start_date else None,
            "end_date": settings.end_date.isoformat() if settings.end_date else None}
