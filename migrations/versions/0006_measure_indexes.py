"""covering indexes for the aims and stage delays of a whole caseload

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-23 15:40:00

A branch beside the others: the app upgrades to all heads. ``workflows/measures/aim_reads.py``
reads the first dates of milestones per instance and each instance's end; with these
indexes both are read from the index alone, in instance order, instead of one table row
(and, on SQLite, the overflow pages of the serialized state) per child.
"""
from alembic import op


revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_milestone_reached", "milestone",
                    ["process_id", "code", "instance_id", "actual_date", "occurrence",
                     "model_version"])
    op.create_index("ix_process_instance_ended", "process_instance",
                    ["process_id", "id", "status", "completed_at", "subject_id"])


def downgrade() -> None:
    op.drop_index("ix_process_instance_ended", table_name="process_instance")
    op.drop_index("ix_milestone_reached", table_name="milestone")
