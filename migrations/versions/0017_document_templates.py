"""Word templates with a process version, and the documents made from them

Revision ID: 0017_document_templates
Revises: 0016_case_notes_and_attachments
Create Date: 2026-12-07 18:30:00

``process_model.documents`` and ``model_draft.documents``: the Word templates a version's
user tasks name (``document`` property), base64 by file name; empty for the versions before.
``generated_document``: each document made from a completed task's answers, kept with the
child with its SHA-256, the template's SHA-256 and the process version
(workflows/documents/tables.py says why the database keeps the bytes).
"""
import sqlalchemy as sa
from alembic import op


revision = "0017_document_templates"
down_revision = "0016_case_notes_and_attachments"
branch_labels = None
depends_on = "0005"  # model_draft (another branch from 0001)


def upgrade() -> None:
    op.add_column("process_model", sa.Column("documents", sa.JSON(), nullable=True))
    op.add_column("model_draft", sa.Column("documents", sa.JSON(), nullable=True))
    op.create_table(
        "generated_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("template_name", sa.String(length=120), nullable=False),
        sa.Column("template_sha256", sa.String(length=64), nullable=False),
        sa.Column("process_id", sa.String(length=100), nullable=False),
        sa.Column("process_version", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("made_by", sa.Integer(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"]),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_item.id"]),
        sa.ForeignKeyConstraint(["made_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_generated_document_subject", "generated_document",
                    ["subject_id", "made_at"])
    op.create_index("ix_generated_document_work_item_id", "generated_document",
                    ["work_item_id"])


def downgrade() -> None:
    op.drop_index("ix_generated_document_work_item_id", table_name="generated_document")
    op.drop_index("ix_generated_document_subject", table_name="generated_document")
    op.drop_table("generated_document")
    op.drop_column("model_draft", "documents")
    op.drop_column("process_model", "documents")
