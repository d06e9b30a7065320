"""``driver_rows.fetch_alongside``: the aims' queries read at once on PostgreSQL, each on a
connection sharing the transaction's snapshot, and read one after another whenever that
would not give what the transaction itself would read (or could hold up the pool)."""
from datetime import date, datetime, timezone

from sqlalchemy import select, text

from engine.models import Subject
from workflows import accounts
from workflows.measures import aim_store, driver_rows, aim_reads as measure_sql
from workflows.demo import scotland as demo

TODAY = date(2026, 3, 2)
QUERIES = {"children": select(Subject.id, Subject.reference).order_by(Subject.id),
           "teams": select(Subject.team, Subject.id).order_by(Subject.team, Subject.id)}
SETUP = "SET LOCAL work_mem = '64MB'"


def test_postgresql_reads_alongside_what_the_transaction_reads(pg_database):
    demo.build(pg_database, children=6, seed=3, today=TODAY)
    with pg_database.transaction(read_only=True) as session:
        connection = session.connection()
        alongside = driver_rows.fetch_alongside(connection, QUERIES, SETUP)
        here = {key: driver_rows.fetch(connection, query) for key, query in QUERIES.items()}
    assert alongside is not None
    assert alongside == here and len(here["children"]) >= 6


def test_the_others_share_the_transactions_moment(pg_database):
    """A child added after the snapshot was taken is in neither the transaction's reading
    nor the others' (REPEATABLE READ here, so the transaction keeps its moment too)."""
    demo.build(pg_database, children=3, seed=3, today=TODAY)
    with pg_database.transaction(read_only=True) as session:
        connection = session.connection()
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        before = connection.execute(select(Subject.id)).scalars().all()
        with pg_database.transaction() as other:
            accounts.ensure_team(other, "later", "A team added later")
            other.add(Subject(reference="LATER-1", display_name="Added later", team="later",
                              attributes={},
                              created_at=datetime(2026, 3, 2, 9, tzinfo=timezone.utc)))
        alongside = driver_rows.fetch_alongside(connection, QUERIES, SETUP)
    assert alongside is not None
    assert [row[0] for row in alongside["children"]] == sorted(before)


def test_one_after_another_once_the_transaction_has_written(pg_database):
    with pg_database.transaction() as session:
        accounts.ensure_team(session, "west", "West")
        session.flush()
        assert driver_rows.fetch_alongside(session.connection(), QUERIES, SETUP) is None


def test_one_after_another_when_the_pool_has_no_connection_to_spare(pg_database):
    held = [pg_database.engine.connect() for _ in range(pg_database.engine.pool.size() - 2)]
    try:
        with pg_database.transaction(read_only=True) as session:
            # one for this transaction, the held ones, and one each for two queries: 1 over
            assert driver_rows.fetch_alongside(session.connection(), QUERIES, SETUP) is None
    finally:
        for connection in held:
            connection.close()


def test_one_after_another_on_sqlite(sqlite_database):
    with sqlite_database.transaction(read_only=True) as session:
        assert driver_rows.fetch_alongside(session.connection(), QUERIES, SETUP) is None


def test_aims_read_alongside_equal_aims_read_one_after_another(pg_database):
    demo.build(pg_database, children=16, seed=7, today=TODAY)
    with pg_database.transaction() as session:
        settings = aim_store.load(session)
    with pg_database.transaction(read_only=True) as session:
        alongside = measure_sql.aim_results(session, settings, TODAY)
    with pg_database.transaction() as session:
        accounts.ensure_team(session, "west", "West")  # written: read one after another
        session.flush()
        assert session.execute(text("SELECT pg_current_xact_id_if_assigned()")).scalar()
        here = measure_sql.aim_results(session, settings, TODAY)
    for aim in (1, 2, 3):
        assert alongside[aim].total.entries == here[aim].total.entries
        assert alongside[aim].left_out == here[aim].left_out
    assert any(result.total.entries for result in here.values())
