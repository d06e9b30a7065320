"""CSRF: every POST route refuses a request without a valid token, and changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, WorkItem

from .conftest import cached_client, csrf_token, hold, sign_in

# route template -> (who posts, form data)
POSTS = {
    "/sign-in": (None, {"username": "sw.north", "password": "pace-demo-2026"}),
    "/sign-out": ("sw.north", {}),
    "/tasks/<int:item_id>/claim": ("sw.north", {}),
    "/tasks/<int:item_id>/release": ("sw.north", {}),
    "/tasks/<int:item_id>/reassign": ("tl.north", {"assignee": "sw2.north",
                                                   "reason": "Covering leave"}),
    "/tasks/<int:item_id>": ("sw.north", {"action": "complete", "referral_date.day": "1",
                                          "referral_date.month": "2",
                                          "referral_date.year": "2026", "questions": "Q"}),
    "/notifications/<int:item_id>/read": ("sw.north", {}),
    "/notifications/read-all": ("sw.north", {}),
    "/notifications/preferences": ("sw.north", {"escalation": "digest"}),
    "/notifications/outbox/<int:item_id>/retry": ("sw.north", {}),  # refused before the role check
    # process models (web/pages/process_models.py); the draft routes are in test_models_views.py
    "/models/<process_id>/drafts": ("owner", {"version": "1"}),
    "/models/<process_id>/upload": ("owner", {}),
    "/models/upload": ("owner", {}),
    # adding a child (web/pages/children.py); a Scottish-only deployment answers 404 once past CSRF
    "/children/new/<profile>": ("sw.north", {"first_name": "Ann"}),
    # drafts saved while typing and "Stay signed in" (web/pages/task_drafts.py,
    # web/security/session_timeout.py): JSON for the page's script
    "/tasks/<int:item_id>/autosave": ("sw.north", {"questions": "Q"}),
    "/session/keep-alive": ("sw.north", {}),
}


def _refused(response, signed_in: bool) -> bool:
    """Refused, changing nothing: 400 when signed in; signed out (a session that ended), the
    sign-in page or, for the pages' background requests, 401."""
    if signed_in:
        return response.status_code == 400
    return response.status_code == 401 or (
        response.status_code == 303 and response.headers["Location"].startswith("/sign-in"))


def _state(world):
    with world.database.transaction() as session:
        item = session.get(WorkItem, world.tasks["north"])
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        return item.status, item.assignee_id, item.draft, events


def test_the_worker_ui_post_routes_are_all_listed(shared_world):
    worker_ui = {"auth", "queue", "tasks", "children", "overview", "task_drafts",
                 "session_timeout"}
    rules = [r for r in shared_world.app.url_map.iter_rules() if "POST" in r.methods]
    assert {r.rule for r in rules if r.endpoint.split(".")[0] in worker_ui} <= set(POSTS)
    assert set(POSTS) <= {r.rule for r in rules}


@pytest.mark.parametrize("user", ["anonymous", "manager", "owner"])
def test_every_post_route_of_every_blueprint_needs_the_token(shared_world, user):
    """Flask-WTF checks before any view runs, so this holds for routes added later too."""
    client = cached_client(shared_world, user)
    refused = []
    for rule in shared_world.app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        if rule.rule.startswith("/api/"):  # token-only writes, CSRF-exempt by design (web/api/auth.py)
            continue
        path = "/".join("1" if part.startswith("<") else part for part in rule.rule.split("/"))
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(path, data=data)
            if not _refused(response, user != "anonymous"):
                refused.append(f"POST {path} {data}: {response.status_code}")
    assert not refused, refused


@pytest.mark.parametrize("route", list(POSTS))
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_post_without_a_valid_token_is_refused(shared_world, route, token):
    world = shared_world
    user, data = POSTS[route]
    client = world.app.test_client()  # its own session: a sign-out must not end the cached one
    if user:
        sign_in(client, user)
    hold(world, "sw.north" if route.endswith("/release") else None)
    data = dict(data)
    if "assignee" in data:
        data["assignee"] = str(world.users[data["assignee"]])
    if token == "wrong":
        data["csrf_token"] = "not-the-token"
    before = _state(world)
    path = route.replace("<int:item_id>", str(world.tasks["north"])).replace("<profile>", "scotland")
    response = client.post(path, data=data)
    assert _refused(response, bool(user))
    if user:
        assert "did not come from this service" in response.get_data(as_text=True)
    else:  # the sign-in form had expired: shown again, saying so
        assert "sign-in page had expired" in client.get(response.headers["Location"]).get_data(
            as_text=True)
    assert _state(world) == before
    if user:  # still signed in: the refused sign-out did not happen
        home = client.get("/")
        assert not home.headers.get("Location", "").startswith("/sign-in")


def test_the_same_posts_succeed_with_the_token(shared_world):
    hold(shared_world, None)
    client = cached_client(shared_world, "sw.north")
    item = shared_world.tasks["north"]
    # A refused claim (a Conflict) redirects too: the work item's state is what shows it worked.
    claimed = client.post(f"/tasks/{item}/claim", data={"csrf_token": csrf_token(client)})
    assert claimed.status_code == 302 and claimed.headers["Location"] == f"/tasks/{item}"
    status, assignee, _, _ = _state(shared_world)
    assert (status, assignee) == ("claimed", shared_world.users["sw.north"])
    released = client.post(f"/tasks/{item}/release", data={"csrf_token": csrf_token(client)})
    assert released.status_code == 302
    assert _state(shared_world)[:2] == ("ready", None)
