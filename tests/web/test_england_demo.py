"""`pace demo --profile england`: the English caseload and its demo users, then the web UI
of that deployment as its demo users see it (both databases)."""
from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, make_database

from .conftest import sign_in
from .journeys import make_app


@pytest.fixture(params=BACKENDS)
def england_app(request, tmp_path, monkeypatch):
    monkeypatch.setenv("PACE_PROFILES", "england")
    database = make_database(request.param, tmp_path, request, deploy=False)
    return make_app(database, DEMO_MODE=True)


def test_england_demo_builds_a_caseload_the_web_shows_in_english_words(england_app):
    cli = england_app.test_cli_runner()
    init = cli.invoke(args=["init-db"])
    assert init.exit_code == 0, init.output
    assert "eng_looked_after version 1: deployed" in init.output
    assert "permanence_journey" not in init.output
    demo = cli.invoke(args=["demo", "--profile", "england", "--children", "6"])
    assert demo.exit_code == 0, demo.output
    assert "English caseload: 6 children (" in demo.output
    assert "English demo sign-ins" in demo.output and "eng.iro" in demo.output
    # The Scottish demo is refused where only the English profile runs.
    refused = cli.invoke(args=["demo", "--children", "1"])
    assert refused.exit_code != 0

    listed = england_app.test_client().get("/sign-in").get_data(as_text=True)
    assert "eng.iro" in listed and "Independent reviewing officer (IRO)" in listed
    assert "Children in Care East" in listed and "sw.north" not in listed
    client = sign_in(england_app.test_client(), "eng.sw.east")
    queue = client.get("/team-queue").get_data(as_text=True)
    assert "Unclaimed tasks for your role (Social worker) in team East" in queue
    children = client.get("/children").get_data(as_text=True)
    assert "E00001" in children or "E00002" in children
    assert "Add a child" in children
    manager = sign_in(england_app.test_client(), "eng.tm.east")
    assert manager.get("/overview").status_code == 200
