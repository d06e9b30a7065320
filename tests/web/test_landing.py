"""Each role lands where its work is, and every page a role may use is reachable from the
menu: following links from the landing page (the menu is on every page) reaches every page
of the app that the role's GET opens without a record in its address, the API reference and
the API tokens page included."""
from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

import pytest

from .conftest import cached_client
from .page_routes import page_rules

LANDING = {
    "sw.north": "/my-work", "chair": "/my-work", "legal": "/my-work",
    "tl.north": "/overview", "manager": "/overview",
    "owner": "/models", "admin": "/people", "auditor": "/children",
}
# Pages that are not destinations: signing in and out, and the session's end.
NOT_DESTINATIONS = {"/", "/sign-in", "/sign-in/oidc", "/sign-in/oidc/callback", "/signed-out",
                    "/session/timed-out"}
LINK = re.compile(r'<a [^>]*href="(/[^"#]*)"')


@pytest.mark.parametrize("user, place", sorted(LANDING.items()))
def test_each_role_lands_where_its_work_is(shared_world, user, place):
    response = cached_client(shared_world, user).get("/")
    assert response.status_code == 302 and response.headers["Location"] == place
    page = cached_client(shared_world, user).get(place)
    assert page.status_code == 200


def _reached(client, start: str, depth: int = 3) -> set[str]:
    """The paths reached by following links from ``start``, ``depth`` clicks deep."""
    seen, queue = {start}, deque([(start, 0)])
    while queue:
        path, level = queue.popleft()
        response = client.get(path)
        if response.status_code != 200 or level == depth or \
                not response.content_type.startswith("text/html"):
            continue
        for href in LINK.findall(response.get_data(as_text=True)):
            target = urlsplit(href.replace("&amp;", "&")).path
            if target not in seen and not target.startswith("/static/"):
                seen.add(target)
                queue.append((target, level + 1))
    return seen


def _pages_opened(client) -> set[str]:
    """Every page (not a download) without a record in its address that this user's GET opens."""
    rules = [r for r in page_rules() if "<" not in r and r not in NOT_DESTINATIONS
             and not r.endswith(".csv")]  # downloads, linked from the page they export
    return {r for r in rules if client.get(r).status_code == 200} | {"/api/v1/docs"}


@pytest.mark.parametrize("user", ["sw.north", "tl.north", "manager", "owner", "admin", "auditor"])
def test_every_page_a_role_may_use_is_reachable_from_the_menu(shared_world, user):
    client = cached_client(shared_world, user)
    landing = client.get("/").headers["Location"]
    missing = _pages_opened(client) - _reached(client, landing)
    assert not missing, f"{user} cannot reach {sorted(missing)} from the menu"
    assert "/api/v1/docs" in _reached(client, landing, depth=1)  # in the menu itself
    assert "/account/api-tokens" in _reached(client, "/api/v1/docs", depth=1)

