"""one small index per milestone an aim's clock reads (SQLite)

Revision ID: 0012_aim_clock_indexes
Revises: 0011_instance_end_by_id
Create Date: 2026-11-24 00:10:00

On the measures' branch. The aims seek, for every clock, the first date of one milestone of
one process: through ``ix_milestone_reached`` each seek compares the process name and the
milestone code (two texts) at every level of the index. A partial index per milestone the
aims read holds only that milestone's rows and begins with the instance (an integer), so
the seeks compare integers and dates: a tenth less of the aims' queries on SQLite at 100,000
children. The process name and code close each index so that SQLite reads nothing else.
``workflows/measure_sql.CLOCK_INDEXES`` names them (the queries ask for them by name).
SQLite only: PostgreSQL reads these milestones with window functions over the older index.
"""
import sqlalchemy as sa
from alembic import op


revision = "0012_aim_clock_indexes"
down_revision = "0011_instance_end_by_id"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_milestone_cso_start": ("cso_home_review", "CSO_START"),
    "ix_milestone_aim1_review": ("cso_home_review", "AIM1_REVIEW"),
    "ix_milestone_la_start": ("permanence_journey", "LA_START"),
    "ix_milestone_perm_recommendation": ("permanence_journey", "PERM_RECOMMENDATION"),
    "ix_milestone_adm": ("permanence_journey", "ADM"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, (process_id, code) in INDEXES.items():
        op.create_index(name, "milestone",
                        ["instance_id", "actual_date", "occurrence", "process_id", "code"],
                        sqlite_where=sa.text(f"process_id = '{process_id}' AND code = '{code}'"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in INDEXES:
        op.drop_index(name, table_name="milestone")
