"""Adding a child through the page and through the API: one service, so the same people may
do it, on the same profiles, and the same mistakes are refused naming the same fields."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import ProcessInstance, Subject

from .api_client import api
from .conftest import cached_client, post

P = "/api/v1/children"


def _page_form(body: dict) -> dict:
    """The API body as the page's fields (GOV.UK date inputs are three fields)."""
    form = {}
    for key, value in body.items():
        if key in ("start_date", "date_of_birth") and value:
            year, month, day = value.split("-")
            form.update({f"{key}.day": str(int(day)), f"{key}.month": str(int(month)),
                         f"{key}.year": year})
        elif value is not None:
            form[key] = value
    return form


def _good(reference: str) -> dict:
    return {"reference": reference, "name": "Test Child", "pathway": "accommodated",
            "start_date": (clock.today() - timedelta(days=1)).isoformat()}


TOMORROW = object()
# (case, user, changes to a good body, page status, API status, fields named)
CASES = [
    ("social worker", "sw.north", {}, 302, 201, ()),
    ("team leader", "tl.north", {}, 302, 201, ()),
    ("service manager names the team", "manager", {"team": "south"}, 302, 201, ()),
    ("service manager without a team", "manager", {}, 422, 422, ("team",)),
    ("a role that does not add children", "legal", {}, 403, 403, ()),
    ("an auditor", "auditor", {}, 403, 403, ()),
    ("a start date tomorrow", "sw.north", {"start_date": TOMORROW}, 422, 422, ("start_date",)),
    ("born after the start", "sw.north", {"date_of_birth": "2020-01-02",
                                          "start_date": "2020-01-01"}, 422, 422, ("start_date",)),
    ("no process chosen", "sw.north", {"pathway": None}, 422, 422, ("pathway",)),
    ("a line break in the reference", "sw.north", {"reference": "B1\r\nBcc: x@example.org"},
     422, 422, ("reference",)),
    ("a reference already in use", "sw.north", {"reference": "N0001"}, 409, 409, ()),
    ("a reference another team holds", "sw.south", {"reference": "N0001"}, 422, 422,
     ("reference",)),
]


@pytest.mark.parametrize("case, user, changes, page_status, api_status, fields", CASES,
                         ids=[c[0] for c in CASES])
def test_page_and_api_accept_and_refuse_alike(shared_world, case, user, changes, page_status,
                                              api_status, fields):
    index = [c[0] for c in CASES].index(case)
    bodies = {}
    for way in ("page", "api"):
        body = {**_good(f"B{index:02d}{way[0].upper()}"), **changes}
        if body.get("start_date") is TOMORROW:
            body["start_date"] = (clock.today() + timedelta(days=1)).isoformat()
        bodies[way] = {k: v for k, v in body.items() if v is not None}

    world = shared_world
    page = post(cached_client(world, user), "/children/new/scotland", _page_form(bodies["page"]))
    answer = api(world, user).post(P, json=bodies["api"])

    assert page.status_code == page_status, page.get_data(as_text=True)[:2000]
    assert answer.status_code == api_status, answer.get_json()
    html = page.get_data(as_text=True)
    for name in fields:
        assert name in answer.get_json()["errors"], answer.get_json()
        assert f'href="#f-{name}' in html or f'href="#{name}"' in html, (name, html[:3000])
    with world.database.transaction() as session:
        added = {reference: session.scalar(select(ProcessInstance.process_id).join(
            Subject, Subject.id == ProcessInstance.subject_id).where(
            Subject.reference == reference)) for reference in
            (bodies["page"]["reference"], bodies["api"]["reference"])}
    if api_status == 201:
        assert set(added.values()) == {"permanence_journey"}
    elif "reference" not in changes:
        assert set(added.values()) == {None}  # nothing half-added


def test_a_reference_held_by_another_team_is_not_disclosed(shared_world):
    """The 404 policy for references: north's N0001 tried from south says only that the
    reference cannot be used, exactly as the API does; north still hears "already exists"."""
    world = shared_world
    from workflows.services.children import REFERENCE_UNUSABLE
    body = {**_good("N0001"), "name": "Someone Else"}
    answer = api(world, "sw.south").post(P, json=body)
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == {"reference": [REFERENCE_UNUSABLE]}
    page = post(cached_client(world, "tl.south"), "/children/new/scotland", _page_form(body))
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and REFERENCE_UNUSABLE in html
    assert "already exists" not in html and "already exists" not in answer.get_data(as_text=True)
    inside = api(world, "tl.north").post(P, json=body)
    assert inside.status_code == 409 and "already exists" in inside.get_json()["message"]
