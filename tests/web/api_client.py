"""Calling /api/v1 in tests: a personal token per demo user, sent as a Bearer header."""
from __future__ import annotations

from sqlalchemy import select

from engine.models import UserAccount
from web.security import api_tokens as tokens


def token_for(world, username: str) -> str:
    """A token for ``username``, made once per world (tokens are cheap: no slow hash)."""
    cache = world.__dict__.setdefault("api_tokens", {})
    if username not in cache:
        with world.database.transaction() as session:
            user = session.scalar(select(UserAccount).where(UserAccount.username == username))
            _row, cache[username] = tokens.create(session, user, "tests", "test")
    return cache[username]


class ApiClient:
    """The Flask test client with ``Authorization: Bearer`` on every request."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def open(self, method: str, path: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.open("POST", path, json=json, **kwargs)

    def put(self, path: str, json=None, **kwargs):
        return self.open("PUT", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.open("DELETE", path, **kwargs)


def api(world, username: str | None) -> ApiClient:
    """A client for ``username`` (None: anonymous, no token)."""
    return ApiClient(world.app.test_client(), token_for(world, username) if username else None)


def assert_error(response, status: int, *fields: str) -> dict:
    """The body is the API's one error shape, with messages for ``fields``."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.content_type
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"}, body
    assert body["code"] == status and body["message"]
    for name in fields:
        assert body["errors"].get(name), (name, body["errors"])
    return body
