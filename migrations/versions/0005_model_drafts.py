"""model drafts: a process owner's diagram changes before they are deployed

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23 16:00:00

A branch beside 0002, 0003 and 0004: the app upgrades to all heads.
"""
from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=100), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deployed_model_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["deployed_model_id"], ["process_model.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("model_draft", schema=None) as batch_op:
        batch_op.create_index("ix_model_draft_process_id", ["process_id"], unique=False)
        batch_op.create_index("ix_model_draft_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("model_draft", schema=None) as batch_op:
        batch_op.drop_index("ix_model_draft_status")
        batch_op.drop_index("ix_model_draft_process_id")
    op.drop_table("model_draft")
