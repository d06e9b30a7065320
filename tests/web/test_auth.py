"""Sign-in, sign-out, failures, timeouts and the demo sign-in list."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from engine.models import AuditEvent, UserAccount

from .conftest import make_app, post, sign_in


def test_demo_sign_ins_are_listed_only_in_demo_mode(shared_world):
    plain = shared_world.app.test_client().get("/sign-in").get_data(as_text=True)
    assert "Demo sign-ins" not in plain and "pace-demo-2026" not in plain
    demo_app = make_app(shared_world.database, DEMO_MODE=True)
    page = demo_app.test_client().get("/sign-in").get_data(as_text=True)
    assert "Demo sign-ins" in page and "pace-demo-2026" in page
    for username in ("sw.north", "tl.north", "chair", "legal", "panel", "adm", "manager",
                     "owner", "auditor", "admin"):
        assert f"<code>{username}</code>" in page


def test_wrong_or_missing_details_are_explained(shared_world):
    client = shared_world.app.test_client()
    empty = post(client, "/sign-in", {"username": "", "password": ""})
    assert empty.status_code == 400
    text = empty.get_data(as_text=True)
    assert '<a href="#username">Enter your username</a>' in text and "Enter your password" in text
    assert "<title>Error: Sign in – PACE Flow</title>" in text
    wrong = post(client, "/sign-in", {"username": "sw.north", "password": "not-it-at-all"})
    assert wrong.status_code == 401
    assert "The username or password is not right" in wrong.get_data(as_text=True)
    unknown = post(client, "/sign-in", {"username": "nobody", "password": "whatever-it-is"})
    assert unknown.status_code == 401


def test_failures_are_audited_without_locking_the_account_or_trusting_typed_names(shared_world):
    """Limits are per address (tests/web/test_sign_in_limits.py): five wrong passwords
    no longer lock the account, and a name that is no account is never an actor."""
    world = shared_world
    client = world.app.test_client()
    for _ in range(5):
        assert post(client, "/sign-in", {"username": "admin", "password": "bad"}).status_code == 401
    assert post(client, "/sign-in", {"username": "nobody", "password": "x"}).status_code == 401
    sign_in(client, "admin")  # the right password still works
    with world.database.transaction() as session:
        failures = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "sign_in_failed", AuditEvent.actor == "admin")).all()
        actors = set(session.scalars(select(AuditEvent.actor)))
    assert len(failures) == 5 and failures[0].data["ip"] == "127.0.0.1"
    assert "nobody" not in actors
    sign_in(world.app.test_client(), "sw.north")  # other users are unaffected


def test_next_page_is_followed_only_within_the_service(shared_world):
    client = shared_world.app.test_client()
    first = client.get("/children")
    assert first.status_code == 302 and first.headers["Location"] == "/sign-in?next=%2Fchildren"
    ok = post(client, "/sign-in", {"username": "sw.north", "password": "pace-demo-2026",
                                   "next": "/children"})
    assert ok.headers["Location"] == "/children"
    other = shared_world.app.test_client()
    evil = post(other, "/sign-in", {"username": "sw.north", "password": "pace-demo-2026",
                                    "next": "//evil.example/steal"})
    assert evil.headers["Location"] == "/my-work"


def test_idle_session_times_out(shared_world):
    app = make_app(shared_world.database, PERMANENT_SESSION_LIFETIME=timedelta(seconds=1))
    client = sign_in(app.test_client(), "sw.north")
    assert client.get("/my-work").status_code == 200
    time.sleep(2.2)  # a real wait: Flask's session cookie expires by the wall clock, not engine/clock
    expired = client.get("/my-work")
    assert expired.status_code == 302 and expired.headers["Location"].startswith("/sign-in")


def test_changing_the_password_ends_existing_sessions(shared_world):
    client = sign_in(shared_world.app.test_client(), "owner")
    assert client.get("/models").status_code == 200
    with shared_world.database.transaction() as session:
        user = session.get(UserAccount, shared_world.users["owner"])
        user.password_hash = generate_password_hash("a-brand-new-password")
    assert client.get("/models").status_code == 302


def test_pages_carry_security_headers(shared_world):
    client = shared_world.app.test_client()
    response = client.get("/sign-in")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    signed_in = post(client, "/sign-in", {"username": "sw.north", "password": "pace-demo-2026"})
    cookie = signed_in.headers["Set-Cookie"]
    assert cookie.startswith("pace_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
