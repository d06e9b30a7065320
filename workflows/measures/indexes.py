"""The indexes PACE's measures read on the engine's tables.

They are PACE's, not the engine's: they serve the queries of ``measure_sql`` and
``stage_sql``, and some name PACE's process ids and milestone codes, so they are declared
here, on the engine tables' metadata, and ``engine/models.py`` stays generic. The
migrations create them (0006, 0011, 0012); declaring them lets ``alembic check`` see that
the database has them, and lets the queries name them (``END_BY_ID_INDEX.name``,
``CLOCK_INDEXES``).

What the queries read, in the order they read it: the first dates per instance of a
milestone come from ``ix_milestone_reached`` alone, already grouped; an instance's end
too (on SQLite, reading completed_at from the table would walk the overflow pages of the
serialized state stored before it: the queries name ``ix_process_instance_end_by_id``,
SQLite's only, whose planner would otherwise look the instance up in the table).
"""
from __future__ import annotations

from sqlalchemy import Index, text

from engine.models import Milestone, ProcessInstance, only_on

from workflows.vocabulary import CSO_HOME, PERMANENCE

REACHED_INDEX = Index("ix_milestone_reached", Milestone.process_id, Milestone.code,
                      Milestone.instance_id, Milestone.actual_date, Milestone.occurrence,
                      Milestone.model_version)
ENDED_INDEX = Index("ix_process_instance_ended", ProcessInstance.process_id, ProcessInstance.id,
                    ProcessInstance.status, ProcessInstance.completed_at,
                    ProcessInstance.subject_id)
# Migration 0011, SQLite only: PostgreSQL joins the instances by hash from the index above.
END_BY_ID_INDEX = only_on("sqlite", Index(
    "ix_process_instance_end_by_id", ProcessInstance.id, ProcessInstance.process_id,
    ProcessInstance.status, ProcessInstance.completed_at, ProcessInstance.subject_id))

# Migration 0012 (SQLite): the milestones an aim's clock seeks, each in an index of its own
# that begins with the instance, so a seek compares integers and dates, not the process
# name and code. Partial indexes: the queries name the process and code inline (a bound
# parameter is unknown when SQLite plans, and it would refuse the index).
CLOCK_INDEXES = {
    (CSO_HOME, "CSO_START"): "ix_milestone_cso_start",
    (CSO_HOME, "AIM1_REVIEW"): "ix_milestone_aim1_review",
    (PERMANENCE, "LA_START"): "ix_milestone_la_start",
    (PERMANENCE, "PERM_RECOMMENDATION"): "ix_milestone_perm_recommendation",
    (PERMANENCE, "ADM"): "ix_milestone_adm",
}
CLOCK_INDEX_OBJECTS = tuple(
    only_on("sqlite", Index(name, Milestone.instance_id, Milestone.actual_date,
                            Milestone.occurrence, Milestone.process_id, Milestone.code,
                            sqlite_where=text(f"process_id = '{process_id}' AND code = '{code}'")))
    for (process_id, code), name in CLOCK_INDEXES.items())
