"""PostgreSQL connection loss mid-request: a clear "busy" page, and the next request works."""
import pytest
from sqlalchemy import create_engine, event, text

from tests.conftest import PG_URL

from .conftest import sign_in


@pytest.mark.postgres
def test_connection_killed_mid_request_then_next_request_works(request, tmp_path):
    from tests.conftest import make_database

    from .journeys import build_world, make_app
    database = make_database("postgres", tmp_path, request)
    world = build_world(database, make_app(database))
    client = sign_in(world.app.test_client(), "sw.north")
    assert client.get("/team-queue").status_code == 200

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    engine = world.database.engine
    armed = {"on": True}

    @event.listens_for(engine, "before_cursor_execute")
    def _kill_own_backend(conn, cursor, statement, params, context, executemany):
        if armed["on"] and "work_item" in statement:
            armed["on"] = False
            pid = conn.exec_driver_sql("select pg_backend_pid()").scalar()
            with admin.connect() as killer:
                killer.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
    try:
        broken = client.get("/team-queue")
        assert broken.status_code == 503
        assert "busy" in broken.get_data(as_text=True).lower()
        assert not armed["on"], "the fault was not injected"
        again = client.get("/team-queue")
        assert again.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", _kill_own_backend)
        admin.dispose()


def test_sqlite_writer_waits_for_a_held_lock_instead_of_failing(request, tmp_path):
    """Another process holding SQLite's write lock for a moment delays a claim; it does not
    fail it (busy timeout), and the claim is recorded once."""
    import threading
    import time

    from engine.models import WorkItem
    from tests.conftest import make_database

    from .conftest import post
    from .journeys import build_world, make_app
    database = make_database("sqlite", tmp_path, request)
    world = build_world(database, make_app(database))
    client = sign_in(world.app.test_client(), "sw.north")
    holding = threading.Event()

    def hold_write_lock():
        with database.engine.connect() as conn:  # BEGIN IMMEDIATE: takes the write lock
            conn.exec_driver_sql("UPDATE team SET name = name")
            holding.set()
            time.sleep(1.5)
            conn.commit()
    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    holding.wait(10)
    started = time.monotonic()
    response = post(client, f"/tasks/{world.tasks['north']}/claim")
    waited = time.monotonic() - started
    holder.join()
    assert response.status_code == 302
    assert waited > 1.0, "the claim should have waited for the lock"
    with database.transaction() as session:
        assert session.get(WorkItem, world.tasks["north"]).status == "claimed"
