"""each instance's end, found by its id

Revision ID: 0011_instance_end_by_id
Revises: 0006
Create Date: 2026-11-23 21:05:00

On the measures' branch (0006). The aims look up, for every clock, the end and the child of
its instance. ``ix_process_instance_ended`` begins with the process name, so each of those
100,000s of lookups compares that text at every level of the index; this index begins with
the id (an integer comparison) and still holds what the aims read, so SQLite reads neither
the table row nor the serialized state stored in it (a twentieth of the aims' time at
100,000 children). SQLite only: PostgreSQL joins the instances by hash from the older index
and would only pay for this one on every new instance.
"""
from alembic import op


revision = "0011_instance_end_by_id"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_index("ix_process_instance_end_by_id", "process_instance",
                    ["id", "process_id", "status", "completed_at", "subject_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index("ix_process_instance_end_by_id", table_name="process_instance")
