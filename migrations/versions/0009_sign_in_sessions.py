"""sign-in sessions: the server's record of each signed-in browser session

Revision ID: 0009_sign_in_sessions
Revises: 0001
Create Date: 2026-11-23 15:30:00

A branch beside the others: the app upgrades to all heads. (The id is spelled out, not a
bare number, so it cannot collide with another branch numbered at the same time.)
"""
from alembic import op
import sqlalchemy as sa


revision = "0009_sign_in_sessions"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_sign_in_session_created_at", "sign_in_session", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_session_created_at", table_name="sign_in_session")
    op.drop_table("sign_in_session")
