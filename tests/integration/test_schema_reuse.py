"""The test suite's reused PostgreSQL schemas (tests/conftest.py ``PgSchemas``): a schema
given back holds only what the migrations seeded (the default aim settings), even if a test
deleted those; one whose shape a test changed is not handed out again."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text

from engine.models import Team
from workflows.measures.tables import AimSetting
from workflows.app import Database

from ..conftest import PgSchemas, _shape


def _migrated(pool: PgSchemas, tmp_path):
    where, shape = pool.take(tmp_path)
    database = Database.connect(where.url, **where.engine_kwargs())
    if shape is None:
        database.migrate()
        with database.engine.connect() as conn:
            shape = _shape(conn)
            pool.remember_seed(where, conn)
    return where, shape, database


@pytest.mark.postgres
def test_a_schema_given_back_is_empty_and_one_changed_is_dropped(pg_ready, tmp_path):
    pool = PgSchemas()
    try:
        where, shape, database = _migrated(pool, tmp_path)
        with database.transaction() as session:
            seeded_aims = session.scalar(select(func.count()).select_from(AimSetting))
            session.execute(delete(AimSetting))
            session.add(Team(code="north", name="North"))
            session.execute(text("CREATE TEMP TABLE scratch_note (x int)"))  # gone on close
        database.engine.dispose()
        pool.give_back(where, shape)
        assert [w for w, _ in pool.free] == [where]

        again, same_shape, database = _migrated(pool, tmp_path)
        assert again is where and same_shape == shape
        with database.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Team)) == 0
            assert session.scalar(select(func.count()).select_from(AimSetting)) == seeded_aims > 0
            session.execute(text("ALTER TABLE team ADD COLUMN colour text"))
        database.engine.dispose()
        pool.give_back(again, shape)
        assert pool.free == []  # its shape changed: never handed out again
    finally:
        pool.scratch.close()
