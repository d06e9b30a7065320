"""aim settings, PDSA cycles and run-chart flags; default aims seeded

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:00:00
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# DOMAIN.md defaults (South Ayrshire's published aims), frozen as they were when seeded:
# later changes to workflows/measures/aims.py do not rewrite history.
DEFAULT_AIMS = [
    (1, "80% of children and young people on a Compulsory Supervision Order at home for more "
        "than 18 months to be independently reviewed.", 80.0, "18m"),
    (2, "75% of children who become looked after and accommodated will have a recommendation "
        "for permanence (including permanent return home) within 30 weeks of becoming looked "
        "after and accommodated.", 75.0, "30w"),
    (3, "60% of children who have had a recommendation for permanence away from home will have "
        "the decision ratified by the Agency Decision Maker within 30 weeks of the Looked After "
        "Review that recommended permanence.", 60.0, "30w"),
]


def upgrade() -> None:
    aim_setting = op.create_table(
        "aim_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council", sa.String(length=60), nullable=False),
        sa.Column("aim", sa.Integer(), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("target_pct", sa.Float(), nullable=False),
        sa.Column("threshold", sa.String(length=20), nullable=False),
        sa.Column("population", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("council", "aim"),
    )
    op.create_table(
        "pdsa_cycle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council", sa.String(length=60), nullable=False),
        sa.Column("aim", sa.Integer(), nullable=False),
        sa.Column("change_idea", sa.String(length=300), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("prediction", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("study", sa.Text(), nullable=False),
        sa.Column("act", sa.String(length=10), nullable=True),
        sa.Column("process_id", sa.String(length=100), nullable=True),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pdsa_cycle", schema=None) as batch_op:
        batch_op.create_index("ix_pdsa_cycle_aim", ["council", "aim", "start_date"], unique=False)
    op.create_table(
        "run_chart_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council", sa.String(length=60), nullable=False),
        sa.Column("aim", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("flagged_by", sa.String(length=80), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("council", "aim", "month"),
    )
    seeded_at = datetime.now(timezone.utc)
    op.bulk_insert(aim_setting, [
        {"council": "default", "aim": aim, "wording": wording, "target_pct": target,
         "threshold": threshold, "population": {}, "start_date": None, "end_date": None,
         "updated_by": "system", "updated_at": seeded_at}
        for aim, wording, target, threshold in DEFAULT_AIMS])


def downgrade() -> None:
    op.drop_table("run_chart_flag")
    with op.batch_alter_table("pdsa_cycle", schema=None) as batch_op:
        batch_op.drop_index("ix_pdsa_cycle_aim")
    op.drop_table("pdsa_cycle")
    op.drop_table("aim_setting")
