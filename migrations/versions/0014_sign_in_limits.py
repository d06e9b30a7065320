"""sign-in limits, a session epoch per account and the worker's heartbeat

Revision ID: 0014_sign_in_limits
Revises: 0013_teams_and_people
Create Date: 2026-11-26 09:00:00

``sign_in_limit``: failed sign-ins counted per client address and per account, and an
address's block, shared by every web worker (web/security/sign_in_limits.py, issue 30).
``user_account.session_epoch``: a random value every session cookie of the account
carries instead of the tail of its password hash; replaced when the password changes or
the account is deactivated. Existing accounts get one each, so cookies issued before the
upgrade are refused and their users sign in again.
``worker_heartbeat``: one row per ``pace worker``, written after each round
(engine/heartbeat.py), read by ``pace doctor`` and the administrators' status section.
"""
import secrets

import sqlalchemy as sa
from alembic import op


revision = "0014_sign_in_limits"
down_revision = "0013_teams_and_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("unknown_names", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("window_started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_ends", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("strikes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "key"),
    )
    op.create_index("ix_sign_in_limit_window_ends", "sign_in_limit", ["window_ends"])
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("last_round", sa.JSON(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("errors_total", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("worker"),
    )
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("session_epoch", sa.String(length=32), nullable=True))
    accounts = sa.table("user_account", sa.column("id", sa.Integer),
                        sa.column("session_epoch", sa.String))
    connection = op.get_bind()
    for (account_id,) in connection.execute(sa.select(accounts.c.id)).all():
        connection.execute(sa.update(accounts).where(accounts.c.id == account_id)
                           .values(session_epoch=secrets.token_hex(16)))
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.alter_column("session_epoch", existing_type=sa.String(length=32),
                              nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("session_epoch")
    op.drop_table("worker_heartbeat")
    op.drop_index("ix_sign_in_limit_window_ends", table_name="sign_in_limit")
    op.drop_table("sign_in_limit")
