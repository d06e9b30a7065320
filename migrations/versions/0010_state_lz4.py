"""instance state compressed with lz4 on PostgreSQL

Revision ID: 0010_state_lz4
Revises: 0001
Create Date: 2026-11-23 21:00:00

A branch beside the others: the app upgrades to all heads.

Every save writes the instance's whole state (about 10 KB of JSON), which PostgreSQL
compresses into TOAST; with the default pglz that is a large share of the server's work
per save, and the server shares the machine's cores with the workers. lz4 compresses
several times faster, and reads decompress faster too, for a similar size. Only values
written from now on use it: every save rewrites its instance's state, and rows not saved
again stay readable as they are (PostgreSQL reads each value with the method it was
written with). SQLite has no TOAST, and a PostgreSQL built without lz4 keeps pglz: there
the upgrade changes nothing.
"""
from alembic import op
import sqlalchemy as sa


revision = "0010_state_lz4"
down_revision = "0001"
branch_labels = None
depends_on = None


def _lz4_available(bind) -> bool:
    # The setting lists the methods the server was built with.
    methods = bind.execute(sa.text(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    return "lz4" in (methods or [])


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _lz4_available(bind):
        op.execute("ALTER TABLE process_instance ALTER COLUMN state SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE process_instance ALTER COLUMN state SET COMPRESSION DEFAULT")
