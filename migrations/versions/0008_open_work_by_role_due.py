"""open work by role and due date: the service-wide queue of a role held without a team

Revision ID: 0008
Revises: 0001
Create Date: 2026-11-23 16:45:00

A branch beside the others: the app upgrades to all heads.

The queue index ``ix_work_item_queue`` (status, role, team, due_date) serves a team's queue;
a service-wide queue (e.g. independent chairs: every team) filters by role only, so it had
to read and sort every open task of the role to show the first 25 by due date. This
partial index holds open tasks only, ordered by role then due date, so that page is read
in order and stops after 25 rows; closed tasks, the bulk of the table after a few years,
are not in it. ``assignee_id`` comes last: "unassigned" is checked in the index itself,
and the capped count of an unassigned queue reads the index only. Queries must say
``status IN ('ready', 'claimed')`` with the values written out (engine/queues.py does):
SQLite uses a partial index only when the query repeats its condition.
"""
from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('ready', 'claimed')")


def upgrade() -> None:
    op.create_index("ix_work_item_open_role_due", "work_item",
                    ["role", "due_date", "id", "assignee_id"],
                    unique=False, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_work_item_open_role_due", table_name="work_item")
