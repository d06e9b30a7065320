"""The "End this journey early" page and ``/api/v1/children/<id>/early-ending`` (issue 29):
both only translate for workflows/services/journey_endings.py, on both databases. The
page's refusals show next to their fields with what was typed kept; the child page then
says the journey ended early and why; the API answers the same."""
from __future__ import annotations

from datetime import date

from engine import clock

from .api_client import api
from .conftest import post, sign_in


def test_a_team_leader_ends_a_journey_from_the_child_page(world):
    north = world.children["north"]
    client = sign_in(world.app.test_client(), "tl.north")
    child_page = client.get(f"/children/{north}").get_data(as_text=True)
    assert "End this journey early" in child_page
    form = client.get(f"/children/{north}/end-early").get_data(as_text=True)
    assert "A parent removed the child from voluntary care (section 25)" in form
    assert 'class="govuk-date-input"' in form
    today = clock.today()
    refused = post(client, f"/children/{north}/end-early",
                   {"reason": "other", "ended_on-day": "31", "ended_on-month": "2",
                    "ended_on-year": str(today.year), "note": "Kept"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "does not exist" in text and "Kept" in text and "govuk-error-summary" in text
    no_note = post(client, f"/children/{north}/end-early",
                   {"reason": "other", "ended_on-day": str(today.day),
                    "ended_on-month": str(today.month), "ended_on-year": str(today.year)})
    assert no_note.status_code == 422 and "another reason" in no_note.get_data(as_text=True)
    done = post(client, f"/children/{north}/end-early",
                {"reason": "moved_council", "ended_on-day": str(today.day),
                 "ended_on-month": str(today.month), "ended_on-year": str(today.year),
                 "note": "Now with Fife Council."})
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "journey has ended" in page and "open task was withdrawn" in page
    assert "(ended early)" in page and "The child moved to another local authority" in page
    assert "Now with Fife Council." in page and "End this journey early" not in page
    again = post(client, f"/children/{north}/end-early",
                 {"reason": "died", "ended_on-day": str(today.day),
                  "ended_on-month": str(today.month), "ended_on-year": str(today.year)})
    assert again.status_code == 409 and "already ended" in again.get_data(as_text=True)
    # the team queue no longer holds the child's task, and the task's page says why
    worker = sign_in(world.app.test_client(), "sw.north")
    assert "North Child 1" not in worker.get("/team-queue").get_data(as_text=True)
    task = worker.get(f"/tasks/{world.tasks['north']}").get_data(as_text=True)
    assert "Withdrawn: the child&#39;s journey ended early (The child moved to another local " \
           "authority" in task


def test_the_api_ends_a_journey_and_refuses_a_second_ending(world):
    south = world.children["south"]
    today = clock.today()
    reader = api(world, "sw.south")
    before = reader.get(f"/api/v1/children/{south}/early-ending").get_json()
    assert before["running"] is True and before["ended"] == []
    assert "turned_18" in [r["code"] for r in before["reasons"]]
    assert reader.post(f"/api/v1/children/{south}/early-ending",
                       json={"reason": "removed_by_parent",
                             "ended_on": today.isoformat()}).status_code == 403
    leader = api(world, "tl.south")
    future = leader.post(f"/api/v1/children/{south}/early-ending",
                         json={"reason": "removed_by_parent",
                               "ended_on": date(today.year + 1, 1, 1).isoformat()})
    assert future.status_code == 422 and "ended_on" in future.get_json()["errors"]
    done = leader.post(f"/api/v1/children/{south}/early-ending",
                       json={"reason": "removed_by_parent", "ended_on": today.isoformat()})
    assert done.status_code == 200, done.get_data(as_text=True)
    body = done.get_json()
    assert body["running"] is False and body["cancelled_tasks"] == 1
    [ended] = body["ended"]
    assert ended["reason"] == "removed_by_parent" and ended["ended_on"] == today.isoformat()
    assert "section 25" in ended["reason_label"]
    again = leader.post(f"/api/v1/children/{south}/early-ending",
                        json={"reason": "died", "ended_on": today.isoformat()})
    assert again.status_code == 409
    child = reader.get(f"/api/v1/children/{south}").get_json()
    assert [i["status"] for i in child["instances"]] == ["ended_early"] and child["tasks"] == []
    # Aim 2's page: the child left the aim (ended before the deadline), with the reason; the
    # children are named only for those who may open the drill-downs
    leader_page = sign_in(world.app.test_client(), "tl.south").get("/measures/aims/2")
    text = leader_page.get_data(as_text=True)
    assert leader_page.status_code == 200 and "Children whose journey ended early" in text
    assert "section 25" in text and "South Child 1" in text and "Ended before the deadline" in text
    owner = sign_in(world.app.test_client(), "owner").get("/measures/aims/2").get_data(as_text=True)
    assert "section 25" in owner and "South Child 1" not in owner
    csv = sign_in(world.app.test_client(), "manager").get("/measures/aims/2.csv?publication=1")
    assert "Children whose journey ended early" in csv.get_data(as_text=True)
