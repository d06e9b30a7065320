"""teams and people managed in the product: a team can be closed; a person may have no
local password

Revision ID: 0013_teams_and_people
Revises: 0012_aim_clock_indexes
Create Date: 2026-11-25 09:00:00

``team.closed_at``: a closed team keeps its row (children's history and audit events name
it) but is offered for no new child or person. ``user_account.password_hash`` may be
empty: a person without a local password cannot sign in with one (they use the council's
sign-in, issue 25 part 2, or are a service user with API tokens only).
"""
import sqlalchemy as sa
from alembic import op


revision = "0013_teams_and_people"
down_revision = "0012_aim_clock_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("team") as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(length=300),
                              nullable=True)


def downgrade() -> None:
    # Accounts without a local password get one nobody knows (an unusable hash).
    op.execute("UPDATE user_account SET password_hash = '!' WHERE password_hash IS NULL")
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(length=300),
                              nullable=False)
    with op.batch_alter_table("team") as batch_op:
        batch_op.drop_column("closed_at")
