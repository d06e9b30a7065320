"""sign-in through the council's OpenID Connect provider

Revision ID: 0015_oidc_sign_in
Revises: 0014_sign_in_limits
Create Date: 2026-12-07 15:30:00

``user_account.oidc_issuer`` / ``oidc_subject``: who a person is at the provider (its issuer
and their subject there, which never change), unique together, set at their first sign-in
through it. ``sign_in_session.id_token``: the ID token of such a sign-in, sent back to the
provider at sign-out so its session ends too. ``sign_in_attempt``: sign-ins under way (state,
nonce, PKCE verifier), each used once (web/security/oidc.py).
"""
import sqlalchemy as sa
from alembic import op


revision = "0015_oidc_sign_in"
down_revision = "0014_sign_in_limits"
branch_labels = None
depends_on = "0009_sign_in_sessions"  # sign_in_session (another branch from 0001)


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("oidc_issuer", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("oidc_subject", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint("uq_user_account_oidc_identity",
                                          ["oidc_issuer", "oidc_subject"])
    with op.batch_alter_table("sign_in_session") as batch_op:
        batch_op.add_column(sa.Column("id_token", sa.Text(), nullable=True))
    op.create_table(
        "sign_in_attempt",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash"),
    )
    op.create_index("ix_sign_in_attempt_expires_at", "sign_in_attempt", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_attempt_expires_at", table_name="sign_in_attempt")
    op.drop_table("sign_in_attempt")
    with op.batch_alter_table("sign_in_session") as batch_op:
        batch_op.drop_column("id_token")
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_constraint("uq_user_account_oidc_identity", type_="unique")
        batch_op.drop_column("oidc_subject")
        batch_op.drop_column("oidc_issuer")
