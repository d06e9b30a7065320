"""Session fixation, replay after sign-out, the longest sign-in, and the cookies' flags."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from engine.models import SignInSession, UserAccount

from .conftest import csrf_token, make_app, post, sign_in

COOKIE = "pace_session"


def _cookie(client) -> str:
    found = client.get_cookie(COOKIE)
    assert found is not None, "no session cookie"
    return found.value


def _with_cookie(app, value: str):
    """Another browser holding a copy of the cookie (planted, stolen or replayed)."""
    other = app.test_client()
    other.set_cookie(COOKIE, value)
    return other


def _signed_in(client) -> bool:
    response = client.get("/my-work")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/sign-in")
        return False
    assert response.status_code == 200
    return True


def test_a_cookie_planted_before_sign_in_never_becomes_signed_in(shared_world):
    app = shared_world.app
    attacker = app.test_client()
    csrf_token(attacker)  # the sign-in page gives the attacker a session cookie
    planted = _cookie(attacker)
    victim = _with_cookie(app, planted)
    sign_in(victim, "sw.north")
    assert _cookie(victim) != planted, "sign-in must issue a new session"
    assert _signed_in(victim)
    assert not _signed_in(attacker)
    assert not _signed_in(_with_cookie(app, planted))


def test_a_cookie_copied_before_sign_out_is_refused_after_it(shared_world):
    app = shared_world.app
    victim = sign_in(app.test_client(), "tl.north")
    copied = _cookie(victim)
    assert _signed_in(_with_cookie(app, copied)), "a copy works while the session is live"
    assert post(victim, "/sign-out").status_code == 302
    assert not _signed_in(victim)
    assert not _signed_in(_with_cookie(app, copied)), "the server must forget the session"
    assert _with_cookie(app, copied).get("/api/v1/me").status_code == 401, "nor in the API"


def test_signing_out_ends_only_that_browser_session(shared_world):
    app = shared_world.app
    desk, laptop = (sign_in(app.test_client(), "chair") for _ in range(2))
    post(desk, "/sign-out")
    assert not _signed_in(desk) and _signed_in(laptop)


def test_a_deactivated_user_is_signed_out_for_good(shared_world):
    world = shared_world
    client = sign_in(world.app.test_client(), "legal")
    assert _signed_in(client)
    with world.database.transaction() as session:
        session.get(UserAccount, world.users["legal"]).active = False
    try:
        assert not _signed_in(client)
    finally:
        with world.database.transaction() as session:
            session.get(UserAccount, world.users["legal"]).active = True
    assert not _signed_in(client), "re-activating must not revive a refused session"


def test_restoring_the_old_password_does_not_revive_a_refused_session(shared_world):
    world = shared_world
    client = sign_in(world.app.test_client(), "adm")
    with world.database.transaction() as session:
        user = session.get(UserAccount, world.users["adm"])
        old, user.password_hash = user.password_hash, generate_password_hash("a-new-password-9")
    assert not _signed_in(client)
    with world.database.transaction() as session:
        session.get(UserAccount, world.users["adm"]).password_hash = old
    assert not _signed_in(client)
    assert _signed_in(sign_in(world.app.test_client(), "adm"))


def test_a_sign_in_lasts_at_most_session_max_hours(shared_world):
    world = shared_world
    app = make_app(world.database, SESSION_MAX_HOURS=1 / 3600)  # one second
    client = sign_in(app.test_client(), "panel")
    # Aged instead of waited for: the bound is the wall clock's (web/security/sessions.py).
    with world.database.transaction() as session:
        session.execute(update(SignInSession).where(SignInSession.user_id == world.users["panel"])
                        .values(created_at=datetime.now(timezone.utc) - timedelta(seconds=2)))
    assert not _signed_in(client)
    sign_in(app.test_client(), "panel")  # the next sign-in clears out the expired rows
    with world.database.transaction() as session:
        rows = session.scalar(select(func.count()).select_from(SignInSession).where(
            SignInSession.user_id == world.users["panel"]))
    assert rows == 1


def _set_cookies(app) -> list[str]:
    """Every Set-Cookie header of a whole visit: sign-in page, sign-in, a page, sign-out."""
    client = app.test_client()
    # Flask-WTF checks the Referer on HTTPS; the test client speaks the app's scheme
    client.environ_base["HTTP_REFERER"] = f"{app.config['PREFERRED_URL_SCHEME']}://localhost/"
    headers = client.get("/sign-in").headers.getlist("Set-Cookie")
    signed_in = post(client, "/sign-in", {"username": "sw.north", "password": "pace-demo-2026"})
    assert signed_in.status_code == 302
    headers += signed_in.headers.getlist("Set-Cookie")
    headers += client.get("/my-work").headers.getlist("Set-Cookie")
    headers += post(client, "/sign-out").headers.getlist("Set-Cookie")
    return headers


def _flags(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_over_http_cookies_are_httponly_and_samesite_but_not_secure(shared_world):
    headers = _set_cookies(shared_world.app)
    assert headers and {h.split("=", 1)[0] for h in headers} == {COOKIE}, \
        f"only the session cookie may be set (no remember-me or CSRF cookie): {headers}"
    for header in headers:
        flags = _flags(header)
        assert {"httponly", "samesite=lax", "path=/"} <= flags, header
        assert "secure" not in flags, "over plain http the browser would drop a Secure cookie"


def test_behind_https_cookies_are_secure_and_hsts_is_sent(shared_world, monkeypatch):
    plain = shared_world.app.test_client().get("/sign-in")
    assert "Strict-Transport-Security" not in plain.headers
    configured = make_app(shared_world.database, HTTPS=True)
    monkeypatch.setenv("PACE_HTTPS", "1")
    for app in (configured, make_app(shared_world.database)):
        headers = _set_cookies(app)
        assert headers and all({"secure", "httponly", "samesite=lax"} <= _flags(h)
                               for h in headers), headers
        assert app.config["REMEMBER_COOKIE_SECURE"] is True
        page = app.test_client().get("/sign-in")
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")


def test_every_kind_of_response_carries_the_browser_protections(shared_world):
    client = sign_in(shared_world.app.test_client(), "sw.north")
    for response in (client.get("/sign-in"), client.get("/my-work"),
                     client.get("/tasks/999999999"), client.get("/no-such-page")):
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
                          "base-uri 'self'", "form-action 'self'"):
            assert directive in policy, (response.request.path, policy)
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "camera=()" in headers["Permissions-Policy"]
        assert headers["Cache-Control"] == "no-store"
