"""Every page's title names the page (WCAG 2.4.2), and the shared layout is accessible."""
from __future__ import annotations

import re

import pytest

from .conftest import cached_client, hold

TITLES = [
    ("anonymous", "/sign-in", "Sign in"),
    ("sw.north", "/my-work", "My work"),
    ("sw.north", "/team-queue", "Team queue"),
    ("sw.north", "/children", "Children"),
    ("sw.north", "/children?q=north", "Children matching “north”"),
    ("sw.north", "/children/{north}", "North Child 1 (N0001)"),
    ("sw.north", "/tasks/{t_north}", "Send referral for legal advice for North Child 1"),
    ("tl.north", "/overview", "Overview: Children and Families North"),
    ("manager", "/overview", "Overview"),
    ("owner", "/models", "Processes"),
    ("owner", "/my-work", "You do not have access to this page"),
    ("sw.north", "/children/999999", "Page not found"),
]


@pytest.mark.parametrize("user,path,title", TITLES, ids=[f"{u}-{p}" for u, p, _ in TITLES])
def test_page_title_names_the_page(shared_world, user, path, title):
    hold(shared_world, None)
    values = {**shared_world.children, **{f"t_{k}": v for k, v in shared_world.tasks.items()}}
    page = cached_client(shared_world, user).get(path.format(**values)).get_data(as_text=True)
    assert f"<title>{title} – PACE Flow</title>" in page
    assert len(re.findall(r"<h1 ", page)) == 1  # one main heading per page


def test_layout_landmarks_and_language(shared_world):
    hold(shared_world, None)
    client = cached_client(shared_world, "sw.north")
    page = client.get(f"/tasks/{shared_world.tasks['north']}").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert page.index('class="govuk-skip-link"') < page.index("<header")
    assert '<main class="govuk-main-wrapper" id="main-content">' in page
    assert re.search(r'<nav aria-label="Back">\s*<a href="/team-queue" class="govuk-back-link">', page)
    assert '<nav aria-label="Menu"' in page
    assert "<script>" not in page  # no inline script: the CSP allows only the app's own files
