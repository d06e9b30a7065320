"""API authentication: personal tokens (hashed at rest, revocable, shown once), the
session's read-only access, CSRF exemption, the error body, the OpenAPI document and the
docs page."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select, update

from engine import clock
from engine.models import ApiToken, AuditEvent, UserAccount, WorkItem
from web.security import api_tokens as tokens

from .api_client import ApiClient, api, assert_error, token_for
from .conftest import hold, post, sign_in

P = "/api/v1"
RIGHT = "pace-demo-2026"  # the demo users' password


def _events(world, kind: str) -> list[AuditEvent]:
    with world.database.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event_type == kind)
                                    .order_by(AuditEvent.id)))


def test_every_api_route_refuses_a_caller_without_a_token(shared_world):
    anonymous = shared_world.app.test_client()
    wrong = []
    for rule in shared_world.app.url_map.iter_rules():
        if not rule.rule.startswith(P) or rule.endpoint.startswith(("api-docs.", "api_docs_page.")):
            continue
        path = "/".join("1" if part.startswith("<") else part for part in rule.rule.split("/"))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = anonymous.open(path, method=method, json={})
            body = response.get_json(silent=True) or {}
            if response.status_code != 401 or body.get("code") != 401 or \
                    not response.headers.get("WWW-Authenticate", "").startswith("Bearer"):
                wrong.append(f"{method} {path}: {response.status_code}")
    assert not wrong, wrong


def test_bad_credentials_are_401_with_the_error_body(shared_world):
    good = token_for(shared_world, "sw.north")
    for header in ("Bearer pace_not-a-real-token", f"Basic {good}", "Bearer", "Bearer  ",
                   f"Bearer {good}x", f"Bearer {good[:-1]}", "Bearer pace_\u00e9", "token"):
        response = shared_world.app.test_client().get(f"{P}/me", headers={"Authorization": header})
        assert_error(response, 401)
    assert api(shared_world, "sw.north").get(f"{P}/me").status_code == 200


def test_tokens_are_stored_hashed_and_shown_once(world):
    client = api(world, "sw.north")
    response = client.post(f"{P}/tokens", json={"name": "my laptop script"})
    assert response.status_code == 201
    issued = response.get_json()
    secret = issued["token"]
    assert secret.startswith("pace_") and len(secret) >= 40
    assert issued["user"]["username"] == "sw.north" and issued["active"] is True
    assert issued["prefix"] == secret[:9] and issued["created_by"] == "sw.north"
    with world.database.transaction() as session:
        row = session.get(ApiToken, issued["id"])
        stored = [str(getattr(row, c.key)) for c in ApiToken.__table__.columns]
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in value for value in stored)  # only the digest is kept
    listed = client.get(f"{P}/tokens").get_json()["items"]
    assert issued["id"] in [t["id"] for t in listed]
    assert secret not in str(listed) and all("token" not in t for t in listed)
    me = ApiClient(world.app.test_client(), secret).get(f"{P}/me").get_json()
    assert me["username"] == "sw.north" and me["authenticated_by"] == "token"
    created = _events(world, "api_token_created")[-1]
    assert created.actor == "sw.north" and created.data["user"] == "sw.north"
    assert secret not in str(created.data)


def test_last_used_is_recorded_at_most_once_a_minute(world, at):
    secret = token_for(world, "sw.north")
    at("2026-03-02")
    client = ApiClient(world.app.test_client(), secret)
    client.get(f"{P}/me")
    with world.database.transaction() as session:
        first = session.scalar(select(ApiToken.last_used_at).where(
            ApiToken.token_hash == tokens.digest(secret)))
    assert clock.aware(first) == clock.now()
    clock.advance(timedelta(seconds=30))
    client.get(f"{P}/me")
    with world.database.transaction() as session:
        assert session.scalar(select(ApiToken.last_used_at).where(
            ApiToken.token_hash == tokens.digest(secret))) == first


def test_a_revoked_token_stops_working_at_once(world):
    client = api(world, "sw.north")
    issued = client.post(f"{P}/tokens", json={"name": "short-lived"}).get_json()
    assert issued["expires_at"] is not None  # 90 days unless asked otherwise
    own = ApiClient(world.app.test_client(), issued["token"])
    assert own.get(f"{P}/me").status_code == 200
    assert client.delete(f"{P}/tokens/{issued['id']}").status_code == 204
    assert_error(own.get(f"{P}/me"), 401)
    assert client.delete(f"{P}/tokens/{issued['id']}").status_code == 204  # harmless again
    listed = {t["id"]: t for t in client.get(f"{P}/tokens").get_json()["items"]}
    assert listed[issued["id"]]["active"] is False
    assert listed[issued["id"]]["revoked_by"] == "sw.north"
    assert len(_events(world, "api_token_revoked")) == 1


def test_another_users_token_cannot_be_seen_or_revoked(world):
    issued = api(world, "sw.north").post(f"{P}/tokens", json={"name": "mine"}).get_json()
    other = api(world, "sw2.north")
    missing = other.delete(f"{P}/tokens/999999")
    assert_error(other.delete(f"{P}/tokens/{issued['id']}"), 404)
    assert other.delete(f"{P}/tokens/{issued['id']}").get_json() == missing.get_json()
    assert_error(other.get(f"{P}/tokens?username=sw.north"), 403)
    assert_error(other.post(f"{P}/tokens", json={"name": "x", "username": "sw.north"}), 403)
    assert ApiClient(world.app.test_client(), issued["token"]).get(f"{P}/me").status_code == 200


def test_an_administrator_issues_and_revokes_a_service_users_token(world):
    admin = api(world, "admin")
    response = admin.post(f"{P}/tokens", json={"name": "data warehouse", "username": "manager",
                                               "expires_in_days": 30})
    assert response.status_code == 201
    issued = response.get_json()
    assert issued["user"]["username"] == "manager" and issued["created_by"] == "admin"
    assert issued["expires_at"] is not None
    service = ApiClient(world.app.test_client(), issued["token"])
    assert service.get(f"{P}/me").get_json()["username"] == "manager"
    listed = admin.get(f"{P}/tokens?username=manager").get_json()["items"]
    assert [t["name"] for t in listed] == ["data warehouse"]
    assert_error(admin.get(f"{P}/tokens?username=nobody"), 422, "username")
    assert_error(admin.post(f"{P}/tokens", json={"name": "x", "username": "nobody"}), 422,
                 "username")
    assert admin.delete(f"{P}/tokens/{issued['id']}").status_code == 204
    assert_error(service.get(f"{P}/me"), 401)


def test_expired_tokens_and_deactivated_users_are_refused(world, at):
    at("2026-03-02")
    issued = api(world, "sw.north").post(f"{P}/tokens", json={"name": "a week",
                                                               "expires_in_days": 7}).get_json()
    client = ApiClient(world.app.test_client(), issued["token"])
    assert client.get(f"{P}/me").status_code == 200
    at("2026-03-10")
    assert_error(client.get(f"{P}/me"), 401)
    assert_error(api(world, "sw.north").post(f"{P}/tokens", json={"name": "x",
                                                                   "expires_in_days": 0}),
                 422, "expires_in_days")
    other = token_for(world, "sw2.north")
    with world.database.transaction() as session:
        session.execute(update(UserAccount).where(UserAccount.username == "sw2.north")
                        .values(active=False))
    assert_error(ApiClient(world.app.test_client(), other).get(f"{P}/me"), 401)


def test_a_session_may_read_but_not_write(world):
    browser = sign_in(world.app.test_client(), "sw.north")
    me = browser.get(f"{P}/me")
    assert me.status_code == 200 and me.get_json()["authenticated_by"] == "session"
    item = world.tasks["north"]
    for method, path in (("POST", f"{P}/work-items/{item}/claim"),
                         ("POST", f"{P}/tokens"), ("PUT", f"{P}/work-items/{item}/draft"),
                         ("DELETE", f"{P}/tokens/1")):
        body = assert_error(browser.open(path, method=method, json={"name": "x", "data": {}}), 401)
        assert "token" in body["message"]
    with world.database.transaction() as session:
        assert session.get(WorkItem, item).status == "ready"
        assert session.scalar(select(ApiToken.id).where(ApiToken.name == "x")) is None


def test_api_writes_need_no_csrf_token(shared_world):
    """CSRF-exempt by design: only a Bearer token authorises a change (web/api/auth.py)."""
    hold(shared_world, None)
    client = api(shared_world, "sw.north")
    try:
        response = client.post(f"{P}/work-items/{shared_world.tasks['north']}/claim")
        assert response.status_code == 200 and response.get_json()["status"] == "claimed"
    finally:
        hold(shared_world, None)


def test_errors_keep_one_shape(shared_world):
    client = api(shared_world, "sw.north")
    assert_error(client.get(f"{P}/no-such-thing"), 404)
    assert_error(client.get(f"{P}/children/-1"), 404)
    assert_error(client.get(f"{P}/children/99999999999999999999"), 404)
    not_allowed = assert_error(client.open("PATCH", f"{P}/me"), 405)
    assert not_allowed["errors"] == {}
    bad_json = client.post(f"{P}/tokens", data="{not json", headers={
        "Content-Type": "application/json"})
    assert bad_json.status_code in (400, 422) and set(bad_json.get_json()) == {
        "code", "status", "message", "errors"}
    assert_error(client.get(f"{P}/queues/team?page=0&sort=sideways"), 422, "page", "sort")
    assert_error(client.post(f"{P}/tokens", json={"name": "a\u0000b"}), 422, "name")
    assert_error(client.post(f"{P}/tokens", json=["not", "an", "object"]), 422)
    too_big = client.post(f"{P}/tokens", json={"name": "x" * (1024 * 1024 + 1)})
    assert_error(too_big, 413)
    # The UI keeps its HTML error pages.
    page = shared_world.app.test_client().get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_openapi_document_and_docs_page_are_self_contained(shared_world):
    client = shared_world.app.test_client()
    spec = client.get(f"{P}/openapi.json")
    assert spec.status_code == 200
    doc = spec.get_json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "PACE Flow API"
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert all(path.startswith(P) for path in doc["paths"])
    assert {"/api/v1/work-items/{item_id}/complete", "/api/v1/children",
            "/api/v1/instances/{instance_id}/history", "/api/v1/measures/aims",
            "/api/v1/process-models", "/api/v1/queues/team", "/api/v1/me"} <= set(doc["paths"])
    page = client.get(f"{P}/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    html = page.get_data(as_text=True)
    for path in doc["paths"]:
        assert f"<code>{path}</code>" in html
    assert "http://" not in html.replace("http://localhost", "") and "https://" not in html
    assert "<script>" not in html and 'src="/static/js/api_docs.mjs"' in html
    assert client.get("/static/js/api_docs.mjs").status_code == 200


def test_token_cli_creates_lists_and_revokes(world):
    runner = world.app.test_cli_runner()
    created = runner.invoke(args=["token", "create", "manager", "--name", "warehouse"])
    assert created.exit_code == 0, created.output
    assert f"expires {clock.now() + timedelta(days=90):%Y-%m-%d}" in created.output
    longer = runner.invoke(args=["token", "create", "manager", "--name", "dw",
                                 "--expires-days", "400"])
    assert f"expires {clock.now() + timedelta(days=400):%Y-%m-%d}" in longer.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("pace_")
    client = ApiClient(world.app.test_client(), secret)
    assert client.get(f"{P}/me").get_json()["username"] == "manager"
    listed = runner.invoke(args=["token", "list", "manager"])
    assert "warehouse" in listed.output and "active" in listed.output
    assert secret not in listed.output
    token_id = next(line.split()[0] for line in listed.output.splitlines() if "warehouse" in line)
    assert runner.invoke(args=["token", "revoke", token_id]).exit_code == 0
    assert_error(client.get(f"{P}/me"), 401)
    assert "already revoked" in runner.invoke(args=["token", "revoke", token_id]).output
    assert runner.invoke(args=["token", "create", "nobody", "--name", "x"]).exit_code != 0
    assert runner.invoke(args=["token", "revoke", "999999"]).exit_code != 0


def test_the_api_tokens_page_creates_shows_once_and_revokes(world):
    browser = sign_in(world.app.test_client(), "sw.north")
    page = browser.get("/account/api-tokens")
    assert page.status_code == 200 and "You have no API tokens." in page.get_data(as_text=True)
    assert post(browser, "/account/api-tokens", {"name": "  ", "password": RIGHT}).status_code == 400
    unchecked = post(browser, "/account/api-tokens", {"name": "weekly report"})
    assert unchecked.status_code == 400 and "Enter your password" in unchecked.get_data(as_text=True)
    wrong = post(browser, "/account/api-tokens", {"name": "weekly report", "password": "not-it"})
    assert wrong.status_code == 401 and "The password is not right" in wrong.get_data(as_text=True)
    assert 'value="weekly report"' in wrong.get_data(as_text=True)
    assert [e.data["when"] for e in _events(world, "sign_in_failed")] == ["creating an API token"]
    created = post(browser, "/account/api-tokens", {"name": "weekly report", "password": RIGHT})
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<code id="new-token" class="app-token">(pace_[^<]+)</code>', html).group(1)
    client = ApiClient(world.app.test_client(), secret)
    assert client.get(f"{P}/me").get_json()["username"] == "sw.north"
    again = browser.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in again and "weekly report" in again and secret[:9] in again
    with world.database.transaction() as session:
        token_id, expires = session.execute(select(ApiToken.id, ApiToken.expires_at).where(
            ApiToken.name == "weekly report")).one()
    assert abs(clock.aware(expires) - clock.now() - timedelta(days=90)) < timedelta(minutes=1)
    other = sign_in(world.app.test_client(), "sw2.north")
    assert post(other, f"/account/api-tokens/{token_id}/revoke").status_code == 404
    assert client.get(f"{P}/me").status_code == 200
    revoked = post(browser, f"/account/api-tokens/{token_id}/revoke")
    assert revoked.status_code == 302
    assert "is revoked" in browser.get("/account/api-tokens").get_data(as_text=True)
    assert_error(client.get(f"{P}/me"), 401)
