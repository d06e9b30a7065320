"""Tables of the improvement work: aim settings, PDSA cycles, points flagged on run charts.

On ``engine.models.Base`` so Alembic sees them beside the runtime tables; PACE-specific,
so they live here rather than in the generic engine.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, _now

PDSA_ACTS = {"adopt": "Adopt", "adapt": "Adapt", "abandon": "Abandon"}


class AimSetting(Base):
    """One council's settings for one PACE aim (DOMAIN.md "Measures")."""
    __tablename__ = "aim_setting"
    __table_args__ = (UniqueConstraint("council", "aim"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    council: Mapped[str] = mapped_column(String(60))
    aim: Mapped[int] = mapped_column(Integer)
    wording: Mapped[str] = mapped_column(Text)
    target_pct: Mapped[float] = mapped_column(Float)
    threshold: Mapped[str] = mapped_column(String(20))
    population: Mapped[dict] = mapped_column(JSON, default=dict)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    updated_by: Mapped[str] = mapped_column(String(80), default="system")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PdsaCycle(Base):
    """A Plan-Do-Study-Act cycle testing one change idea for one aim."""
    __tablename__ = "pdsa_cycle"
    __table_args__ = (Index("ix_pdsa_cycle_aim", "council", "aim", "start_date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    council: Mapped[str] = mapped_column(String(60))
    aim: Mapped[int] = mapped_column(Integer)
    change_idea: Mapped[str] = mapped_column(String(300))
    cycle_number: Mapped[int] = mapped_column(Integer, default=1)
    plan: Mapped[str] = mapped_column(Text, default="")
    prediction: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    what_happened: Mapped[str] = mapped_column(Text, default="")
    study: Mapped[str] = mapped_column(Text, default="")
    act: Mapped[str | None] = mapped_column(String(10))  # adopt | adapt | abandon
    process_id: Mapped[str | None] = mapped_column(String(100))
    model_version: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class RunChartFlag(Base):
    """A month a user marked as an astronomical point on an aim's run chart."""
    __tablename__ = "run_chart_flag"
    __table_args__ = (UniqueConstraint("council", "aim", "month"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    council: Mapped[str] = mapped_column(String(60))
    aim: Mapped[int] = mapped_column(Integer)
    month: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    flagged_by: Mapped[str] = mapped_column(String(80))
    flagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
