"""A Scotland-only deployment (the default) looks as it did before profiles existed: no
profile row on the child's page, no "Add a child" (Scottish children come through the API
and the caseload import), Scottish role names and escalation wording."""
from __future__ import annotations

from .conftest import cached_client


def test_no_profile_choice_but_the_scottish_entry_form(shared_world):
    client = cached_client(shared_world, "sw.north")
    children = client.get("/children").get_data(as_text=True)
    assert "Add a child" in children
    assert client.get("/children/new").headers["Location"] == "/children/new/scotland"
    form = client.get("/children/new/scotland").get_data(as_text=True)
    assert "Accommodate a child" in form and "Start date" in form and "Sex" not in form
    assert client.get("/children/new/england").status_code == 404
    page = client.get(f"/children/{shared_world.children['north']}").get_data(as_text=True)
    assert ">Processes<" not in page and "England" not in page and "Scotland:" not in page
    assert "Looked after and accommodated" in page, "the Scottish label of LA_START"
    assert "Social worker</td>" in page  # the queue of the open referral


def test_scottish_queue_wording_is_unchanged(shared_world):
    chair = cached_client(shared_world, "legal").get("/team-queue").get_data(as_text=True)
    assert "Unclaimed tasks for your role (Legal services) across all teams" in chair
    assert "Team manager" not in chair and "IRO" not in chair
