"""Fixtures of the integration tests: the English-profile database and a real SMTP server."""
from __future__ import annotations

import pytest

from tests.conftest import BACKENDS
from web import create_app
from workflows.demo import scotland as demo

from .england_journey import england_database
from .smtp_inbox import SmtpServer


@pytest.fixture(params=BACKENDS)
def eng_db(request, tmp_path):
    """A database with the English profile deployed (SQLite and PostgreSQL)."""
    return england_database(request, tmp_path, request.param)


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server (aiosmtpd) the app sends to; yields its inbox."""
    with SmtpServer() as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield server.inbox


@pytest.fixture
def cli_runner(database):
    """Flask's CLI runner on the test database, with the demo users ``--by`` names."""
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    app.extensions["pace_db"].engine.dispose()
    app.extensions["pace_db"] = database  # the test database, with its own schema
    return app.test_cli_runner()
