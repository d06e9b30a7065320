"""The Data quality page and GET /api/v1/measures/data-quality on both databases, and the
stage delays leaving out stages dated backwards (they showed a negative median before).

North: N1 in order; N2 with a planning meeting dated before accommodation (the stage would
last −91 days); N3 with a CAPR dated after the measurement date and no recommendation.
South: S1 with an Aim 1 review and no order recorded. Written into the index tables the
runtime maintains, as the other measures tests are.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from engine.models import ProcessModel
from workflows.demo import scotland as demo
from workflows.vocabulary import CSO_HOME, PERMANENCE

from tests.conftest import BACKENDS, make_database

from .api_client import api
from .journeys import World, make_app
from .measures_site import _child, client, text

ON = "2026-01-15"
D = date.fromisoformat


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory) -> dict:
    database = make_database(request.param, tmp_path_factory.mktemp("quality"), request)
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
        models = {m.process_id: m for m in session.scalars(select(ProcessModel))}
        perm, cso = models[PERMANENCE], models[CSO_HOME]
        _child(session, perm, "N1", "north", [("LA_START", D("2024-01-01"), {}),
                                              ("PLANNING_MTG", D("2024-01-11"), {})])
        _child(session, perm, "N2", "north", [("LA_START", D("2024-04-01"), {}),
                                              ("PLANNING_MTG", D("2024-01-01"), {})])
        _child(session, perm, "N3", "north", [("LA_START", D("2025-01-01"), {}),
                                              ("CAPR", D("2026-02-01"), {})])
        _child(session, cso, "S1", "south", [("AIM1_REVIEW", D("2025-06-01"),
                                              {"recommendation": "continue"})], CSO_HOME)
    app = make_app(database)
    return {"db": database, "app": app, "clients": {}}


def test_page_names_each_problem_for_those_who_open_records(site):
    page = text(client(site, "manager").get(f"/measures/data-quality?on={ON}"))
    assert "3 children with dates to check" in page
    assert "Planning meeting is dated 01 January 2024, before Looked after and accommodated " \
           "(01 April 2024)" in page
    assert "Child&#39;s Adoption and Permanence Report submitted is dated 01 February 2026, after today." in page
    assert "Compulsory Supervision Order at home is not recorded, but Aim 1 review is" in page
    assert "N1" not in re.sub(r"N1\d", "", page.split('id="problems"')[1])  # N1 is fine
    north = text(client(site, "tl.north").get(f"/measures/data-quality?on={ON}"))
    assert "2 children with dates to check" in north and "(S1)" not in north
    owner = text(client(site, "owner").get(f"/measures/data-quality?on={ON}"))
    assert "3 children with dates to check" in owner and "(N2)" not in owner
    assert "Team leaders, service managers and auditors can see which children" in owner
    assert client(site, "sw.north").get("/measures/data-quality").status_code == 403


def test_page_refuses_an_impossible_date_with_a_clear_error(site):
    response = client(site, "manager").get("/measures/data-quality?on=2026-02-31")
    assert response.status_code == 400


def test_stage_delays_leave_out_the_backwards_stage_and_say_so(site):
    page = text(client(site, "manager").get(f"/measures/stages?on={ON}"))
    assert "1 stage left out of these figures" in page
    assert "/measures/data-quality" in page
    assert "-91" not in page and "−91" not in page
    world = World(site["db"], site["app"])
    body = api(world, "manager").get(f"/api/v1/measures/stage-delays?on={ON}").get_json()
    assert body["left_out_out_of_order"] == 1
    planning = [s for s in body["overall"] if s["end"] == "PLANNING_MTG"]
    assert planning[0]["n"] == 1 and planning[0]["median"] == 10


def test_api_lists_the_same_problems_and_hides_names_from_a_process_owner(site):
    world = World(site["db"], site["app"])
    body = api(world, "manager").get(f"/api/v1/measures/data-quality?on={ON}").get_json()
    assert body["counts"] == {"out_of_order": 1, "future": 1, "missing": 2}
    assert body["children"] == 3
    found = {(p["child"]["reference"], p["kind"], p["milestone"]) for p in body["problems"]}
    assert found == {("N2", "out_of_order", "PLANNING_MTG"), ("N3", "future", "CAPR"),
                     ("N3", "missing", "PERM_RECOMMENDATION"), ("S1", "missing", "CSO_START")}
    owner = api(world, "owner").get(f"/api/v1/measures/data-quality?on={ON}").get_json()
    assert owner["counts"] == body["counts"] and owner["problems"] is None
    south = api(world, "tl.south").get(f"/api/v1/measures/data-quality?on={ON}").get_json()
    assert [p["child"]["reference"] for p in south["problems"]] == ["S1"]
    assert api(world, "tl.south").get(
        "/api/v1/measures/data-quality?team=north").status_code == 403
    assert api(world, "sw.north").get("/api/v1/measures/data-quality").status_code == 403
    bad = api(world, "manager").get("/api/v1/measures/data-quality?on=2026-02-31")
    assert bad.status_code == 422
