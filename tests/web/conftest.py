"""Fixtures for the web tests: the real app on a real database (SQLite and PostgreSQL).

The app reuses the Database built by ``tests.conftest.make_database`` (migrated, diagrams
deployed), so both backends run exactly what production runs. CSRF stays switched on:
every POST in these tests carries the token a browser would.
"""
from __future__ import annotations

import re

import pytest

from engine import work_items
from engine.models import UserAccount, WorkItem
from tests.conftest import BACKENDS, make_database
from workflows.demo import scotland as demo

from .journeys import (World, build_english_world, build_world,  # noqa: F401 - make_app
                       make_app)

TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client) -> str:
    """The token from any page's <meta name="csrf-token">, as a browser form would send it."""
    page = client.get("/sign-in", follow_redirects=True).get_data(as_text=True)
    found = TOKEN.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def post(client, url: str, data: dict | None = None, **kwargs):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)


def sign_in(client, username: str, password: str = demo.DEMO_PASSWORD):
    response = post(client, "/sign-in", {"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not sign in: {response.status_code}"
    return client


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path) -> World:
    """A fresh database per test with demo users and children part-way through the journey."""
    database = make_database(request.param, tmp_path, request)
    return build_world(database, make_app(database))


@pytest.fixture(scope="module", params=BACKENDS)
def shared_world(request, tmp_path_factory) -> World:
    """One world per module and backend, for tests that leave it as they found it
    (reset the north referral with ``hold``)."""
    folder = tmp_path_factory.mktemp(f"web-{request.param}")
    database = make_database(request.param, folder, request)
    world = build_world(database, make_app(database))
    world.clients = {}
    return world


@pytest.fixture(scope="module", ids=lambda p: f"{p[0].replace(',', '+')}-{p[1]}",
                params=[(names, backend) for names in ("england", "scotland,england")
                        for backend in BACKENDS])
def profile_world(request, tmp_path_factory) -> World:
    """A deployment running the English profile (``england``) or both profiles, one per module
    and backend: English children part-way through their cycle (journeys.build_english_world)
    and, with both profiles, the Scottish children of ``shared_world`` too."""
    names, backend = request.param
    mp = pytest.MonkeyPatch()
    mp.setenv("PACE_PROFILES", names)
    request.addfinalizer(mp.undo)
    folder = tmp_path_factory.mktemp(f"web-{names.replace(',', '-')}-{backend}")
    database = make_database(backend, folder, request)
    app = make_app(database)
    world = build_world(database, app) if "scotland" in names else World(database, app)
    build_english_world(world)
    world.clients = {}
    return world


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory) -> dict:
    """The measures' constructed caseload (measures_site.py), one per module and backend."""
    from .measures_site import build_site  # it signs in with this module's helpers
    return build_site(make_database(request.param, tmp_path_factory.mktemp("measures"), request))


def hold(world: World, holder: str | None) -> None:
    """Put the north referral back to 'ready', or in ``holder``'s hands."""
    with world.database.transaction() as session:
        item = session.get(WorkItem, world.tasks["north"])
        manager = session.get(UserAccount, world.users["manager"])
        if item.status == "claimed":
            work_items.release(session, item.id, manager, as_manager=True)
        if holder:
            work_items.claim(session, item.id, session.get(UserAccount, world.users[holder]))


def cached_client(world: World, user: str):
    """A signed-in client per user, kept for the module (sign-in hashing is slow)."""
    if user not in world.clients:
        client = world.app.test_client()
        world.clients[user] = sign_in(client, user) if user != "anonymous" else client
    return world.clients[user]


@pytest.fixture
def app(world):
    return world.app


@pytest.fixture
def client_for(world):
    """client_for("sw.north") -> a test client signed in as that demo user."""
    def _client(username: str | None):
        client = world.app.test_client()
        return sign_in(client, username) if username else client
    return _client
