"""case notes and attachments on a child or a task

Revision ID: 0016_case_notes_and_attachments
Revises: 0015_oidc_sign_in
Create Date: 2026-12-07 16:10:00

``case_note``: notes and comments on a child or one of its tasks (never deleted; each
version is in the child's audit chain). ``attachment``: files on a child or a task, their
type read from the content, their SHA-256 and the bytes themselves (workflows/casework/tables.py
says why the database keeps them).
"""
import sqlalchemy as sa
from alembic import op


revision = "0016_case_notes_and_attachments"
down_revision = "0015_oidc_sign_in"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_item.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_note_subject", "case_note", ["subject_id", "created_at"])
    op.create_index("ix_case_note_work_item_id", "case_note", ["work_item_id"])
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("scanned", sa.Boolean(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_item.id"]),
        sa.ForeignKeyConstraint(["uploaded_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachment_subject", "attachment", ["subject_id", "uploaded_at"])
    op.create_index("ix_attachment_work_item_id", "attachment", ["work_item_id"])


def downgrade() -> None:
    op.drop_index("ix_attachment_work_item_id", table_name="attachment")
    op.drop_index("ix_attachment_subject", table_name="attachment")
    op.drop_table("attachment")
    op.drop_index("ix_case_note_work_item_id", table_name="case_note")
    op.drop_index("ix_case_note_subject", table_name="case_note")
    op.drop_table("case_note")
