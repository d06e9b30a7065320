"""/api/v1/measures/aims lists the children whose journey ended early, by reason, for Aims
1 and 2: the same counts as the aim page and CSV (``early_endings.published``), small
numbers withheld with ``?publication=true`` as in the CSV for publication (SQLite and
PostgreSQL)."""
from __future__ import annotations

from datetime import date


from tests.integration.driver import Journey
from workflows import accounts
from workflows.measures import early_endings, reports
from workflows.services import journey_endings

from .api_client import api, assert_error
from .journeys import World, make_app

ON = date(2025, 12, 1)
P = "/api/v1/measures/aims"


def _end(journey: Journey, reason: str, on: date) -> None:
    with journey.db.transaction() as session:
        leader = accounts.find_user(session, "tl.north")
        journey_endings.end_journey_early(session, journey.db.runtime, leader, journey.child_id,
                                          reason, on, "")


def test_the_aims_api_counts_early_endings_by_reason_and_withholds_small_ones(database, at):
    journeys = [Journey(database, f"C{n:05d}").accommodate(date(2025, 1, 6)) for n in range(1, 8)]
    at(date(2025, 10, 1))
    for journey in journeys[:6]:  # before the 30-week deadline (4 August 2025): leave the aim
        _end(journey, "removed_by_parent", date(2025, 3, 3))
    _end(journeys[6], "moved_council", date(2025, 9, 30))  # after it: still overdue
    at(ON)
    world = World(database, make_app(database))

    aims = {a["aim"]: a for a in _get(world, "manager", f"{P}?on={ON}")["items"]}
    assert aims[3]["early_endings"] is None
    assert aims[1]["early_endings"] == {"reasons": [], "total": 0, "left_the_aim": 0,
                                        "publication": False, "withheld": []}
    early = aims[2]["early_endings"]
    assert early["reasons"] == [
        {"code": "removed_by_parent", "children": 6,
         "label": "A parent removed the child from voluntary care (section 25)"},
        {"code": "moved_council", "children": 1,
         "label": "The child moved to another local authority"}]
    assert (early["total"], early["left_the_aim"], early["withheld"]) == (7, 6, [])
    assert _get(world, "tl.north", f"{P}/2?on={ON}")["early_endings"] == early

    published = _get(world, "manager", f"{P}/2?on={ON}&publication=true")["early_endings"]
    # the 1 is withheld, and the 6 with it (the total would give it away), as in the CSV
    assert [r["children"] for r in published["reasons"]] == [None, None]
    assert (published["total"], published["left_the_aim"]) == (7, 6)
    assert published["withheld"] == ["removed_by_parent", "moved_council"]
    assert published["publication"] is True
    with database.transaction(read_only=True) as session:
        result = reports.aim_results(session, "default", None, ON, (2,))[2]
        csv = early_endings.csv_rows(early_endings.for_aim(session, result, None), True)
    assert [row[2] for row in csv[3:]] == ["[c]", "[c]", "7", "6"]

    # another team's leader sees none of them; asking for the north team is refused
    south = _get(world, "tl.south", f"{P}/2?on={ON}")["early_endings"]
    assert (south["reasons"], south["total"]) == ([], 0)
    assert_error(api(world, "tl.south").get(f"{P}/2?team=north"), 403)
    assert_error(api(world, "manager").get(f"{P}/2?publication=maybe"), 422, "publication")


def _get(world, user: str, path: str) -> dict:
    response = api(world, user).get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()
