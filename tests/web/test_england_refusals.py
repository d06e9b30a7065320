"""A choice the regulations forbid, through the task page and /api/v1 (both databases): a
3-monthly visit in a placement's first year (regulation 28) is refused with the reason by the
field, the worker's entries kept and nothing saved; never an error page."""
from __future__ import annotations

import html
from datetime import date, timedelta

import pytest

from engine import clock
from engine.models import WorkItem
from tests.conftest import BACKENDS
from tests.integration.england_journey import EnglandJourney, england_database

from .api_client import api, assert_error
from .conftest import post, sign_in
from .journeys import World, make_app

TODAY = date.today()
PLACED = TODAY - timedelta(days=60)
MESSAGE = ("Visits every 3 months are allowed only after the first year of a placement "
           "(regulation 28 of the Care Planning, Placement and Case Review (England) Regulations "
           "2010). In the placement's first year the child must be visited at least every "
           "6 weeks: choose 6 weeks, a month or a week.")


def _at_monthly_visit(database, reference: str) -> int:
    try:
        j = EnglandJourney(database, reference).looked_after(PLACED)
        j.complete("first_visit", PLACED + timedelta(days=3), seen_alone=True,
                   placement_status="continuing", placement_arrangement="long_term",
                   visit_frequency="monthly")
        return j.open_item("visit_monthly").id
    finally:
        clock.set_now(None)


@pytest.fixture(scope="module", params=BACKENDS)
def visits(request, tmp_path_factory) -> World:
    database = england_database(request, tmp_path_factory.mktemp("refusals"), request.param)
    world = World(database, make_app(database))
    world.tasks = {"page": _at_monthly_visit(database, "E00001"),
                   "api": _at_monthly_visit(database, "E00002")}
    return world


def _status(world, item_id) -> str:
    with world.database.transaction() as session:
        return session.get(WorkItem, item_id).status


def test_the_task_page_refuses_three_monthly_in_the_first_year_by_the_field(visits):
    client = sign_in(visits.app.test_client(), "eng.sw.east")
    item = visits.tasks["page"]
    assert post(client, f"/tasks/{item}/claim").status_code == 302
    entries = {"date_held.day": str(TODAY.day), "date_held.month": str(TODAY.month),
               "date_held.year": str(TODAY.year), "seen_alone": "on",
               "child_views": "Likes her new school", "placement_status": "continuing"}
    response = post(client, f"/tasks/{item}", {**entries, "visit_frequency": "three_monthly",
                                               "action": "complete"})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert f'<a href="#f-visit_frequency-0">{MESSAGE}</a>' in page  # the error summary
    assert "Likes her new school" in page  # the entries are kept
    assert _status(visits, item) != "completed"
    response = post(client, f"/tasks/{item}", {**entries, "visit_frequency": "six_weekly",
                                               "action": "complete"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _status(visits, item) == "completed"


def test_the_api_names_the_field_and_the_rule(visits):
    client = api(visits, "eng.sw.east")
    item = visits.tasks["api"]
    answers = {"date_held": TODAY.isoformat(), "seen_alone": True,
               "placement_status": "continuing", "visit_frequency": "three_monthly"}
    body = assert_error(client.post(f"/api/v1/work-items/{item}/complete", json={"data": answers}),
                        422, "data.visit_frequency")
    assert body["errors"]["data.visit_frequency"] == [MESSAGE]
    assert _status(visits, item) != "completed"
    fine = {**answers, "visit_frequency": "monthly"}
    response = client.post(f"/api/v1/work-items/{item}/complete", json={"data": fine})
    assert response.status_code == 200, response.get_json()
