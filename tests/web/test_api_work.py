"""Queues and work items through /api/v1: every operation's success and failure paths.
Each mutating test gets its own database (both backends)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from engine import work_items
from engine.db import STALE_MESSAGE
from engine.errors import Conflict
from engine.models import AuditEvent, UserAccount, WorkItem

from .api_client import api, assert_error
from .conftest import hold

P = "/api/v1"
# A week ago: after the child was accommodated (27 weeks before the run) and not in the future.
REFERRAL = {"referral_date": (date.today() - timedelta(days=7)).isoformat(),
            "solicitor": "Ms A. Law",
            "route_under_consideration": "adoption",
            "questions": "Are the grounds for a permanence order met?"}


def _item(world, item_id) -> WorkItem:
    with world.database.transaction() as session:
        return session.get(WorkItem, item_id)


def _events(world, kind: str, subject_id: int) -> list[AuditEvent]:
    with world.database.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == kind, AuditEvent.subject_id == subject_id)
            .order_by(AuditEvent.id)))


# -- queues --------------------------------------------------------------------------------------
def test_team_queue_lists_my_teams_unclaimed_tasks(shared_world):
    hold(shared_world, None)
    body = api(shared_world, "sw.north").get(f"{P}/queues/team").get_json()
    ids = [i["id"] for i in body["items"]]
    assert shared_world.tasks["north"] in ids and shared_world.tasks["south"] not in ids
    assert body["page"] == 1 and body["per_page"] == 25 and body["total"] == len(ids)
    item = next(i for i in body["items"] if i["id"] == shared_world.tasks["north"])
    assert item["task_name"] == "legal_referral" and item["status"] == "ready"
    assert item["child"] == {"id": shared_world.children["north"], "reference": "N0001",
                             "name": "North Child 1"}
    assert item["assignee"] is None and item["role"] == "social_worker"
    assert item["due_status"] in ("overdue", "this_week", "upcoming")
    legal = api(shared_world, "legal").get(f"{P}/queues/team").get_json()
    assert [i["task_name"] for i in legal["items"]] == ["legal_opinion"]
    manager = api(shared_world, "manager").get(f"{P}/queues/team").get_json()
    assert manager["total"] == 0  # service managers hold no lane of these tasks


def test_queue_filters_sort_and_pages(shared_world):
    hold(shared_world, "sw.north")
    client = api(shared_world, "sw.north")
    try:
        mine = client.get(f"{P}/queues/my-work").get_json()
        assert [i["id"] for i in mine["items"]] == [shared_world.tasks["north"]]
        assert mine["items"][0]["assignee"]["username"] == "sw.north"
        assert client.get(f"{P}/queues/my-work?child=N0001").get_json()["total"] == 1
        assert client.get(f"{P}/queues/my-work?child=nobody").get_json()["total"] == 0
        assert client.get(f"{P}/queues/my-work?task=legal_referral").get_json()["total"] == 1
        assert client.get(f"{P}/queues/my-work?task=planning_meeting").get_json()["total"] == 0
        status = mine["items"][0]["due_status"]
        assert client.get(f"{P}/queues/my-work?status={status}").get_json()["total"] == 1
        other = next(s for s in ("overdue", "this_week", "upcoming") if s != status)
        assert client.get(f"{P}/queues/my-work?status={other}").get_json()["total"] == 0
        page2 = client.get(f"{P}/queues/my-work?per_page=1&page=2&sort=-due").get_json()
        assert page2["items"] == [] and page2["pages"] == 1 and page2["total"] == 1
    finally:
        hold(shared_world, None)
    assert_error(client.get(f"{P}/queues/team?status=late"), 422, "status")
    assert_error(client.get(f"{P}/queues/team?per_page=1000"), 422, "per_page")
    assert_error(client.get(f"{P}/queues/team?child=" + "x" * 81), 422, "child")
    assert_error(api(shared_world, "auditor").get(f"{P}/queues/my-work"), 403)


# -- one task ------------------------------------------------------------------------------------
def test_task_detail_has_the_form_and_permissions(shared_world):
    hold(shared_world, None)
    item = shared_world.tasks["north"]
    detail = api(shared_world, "sw.north").get(f"{P}/work-items/{item}").get_json()
    assert detail["form"]["schema"]["title"] == "Send referral for legal advice"
    assert detail["form"]["schema"]["required"] == ["referral_date", "questions"]
    assert detail["permissions"] == {"claim": True, "release": False, "edit": True,
                                     "reassign": False}
    assert detail["draft"] is None and detail["assignees"] == []
    leader = api(shared_world, "tl.north").get(f"{P}/work-items/{item}").get_json()
    assert leader["permissions"]["reassign"] is True and leader["permissions"]["edit"] is False
    assert {a["username"] for a in leader["assignees"]} == {"sw.north", "sw2.north"}


def test_records_outside_scope_look_exactly_like_missing_ones(shared_world):
    south = api(shared_world, "sw.north").get(f"{P}/work-items/{shared_world.tasks['south']}")
    missing = api(shared_world, "sw.north").get(f"{P}/work-items/999999")
    assert_error(south, 404)
    assert south.get_json() == missing.get_json()
    assert south.headers.get("Content-Length") == missing.headers.get("Content-Length")


def test_claim_then_a_second_claim_is_a_conflict(world):
    item = world.tasks["north"]
    response = api(world, "sw.north").post(f"{P}/work-items/{item}/claim")
    assert response.status_code == 200
    assert response.get_json()["status"] == "claimed"
    assert response.get_json()["assignee"]["username"] == "sw.north"
    again = api(world, "sw.north").post(f"{P}/work-items/{item}/claim")
    assert again.status_code == 200  # a double click claims once
    conflict = assert_error(api(world, "sw2.north").post(f"{P}/work-items/{item}/claim"), 409)
    assert "Sam Wilson claimed this task first" in conflict["message"]
    assert "reload" in conflict["message"].lower()
    assert_error(api(world, "tl.north").post(f"{P}/work-items/{item}/claim"), 403)
    claims = _events(world, "task_claimed", world.children["north"])
    assert [e.actor for e in claims[-1:]] == ["sw.north"] and len(
        [e for e in claims if e.task_id == _item(world, item).task_id]) == 1


def test_release_by_holder_and_by_team_leader(world):
    item = world.tasks["north"]
    holder = api(world, "sw.north")
    holder.post(f"{P}/work-items/{item}/claim")
    assert_error(api(world, "sw2.north").post(f"{P}/work-items/{item}/release"), 403)
    released = holder.post(f"{P}/work-items/{item}/release")
    assert released.status_code == 200 and released.get_json()["status"] == "ready"
    assert released.get_json()["assignee"] is None
    holder.post(f"{P}/work-items/{item}/claim")
    by_leader = api(world, "tl.north").post(f"{P}/work-items/{item}/release")
    assert by_leader.status_code == 200 and _item(world, item).status == "ready"
    events = _events(world, "task_released", world.children["north"])
    assert [e.actor for e in events] == ["sw.north", "tl.north"]


def test_team_leader_reassigns(world):
    item = world.tasks["north"]
    leader = api(world, "tl.north")
    # the reason is required, and refused blank, too long or over several lines: nothing moves
    assert_error(leader.post(f"{P}/work-items/{item}/reassign", json={"assignee": "sw2.north"}),
                 422, "reason")
    for reason in ("   ", "x" * 301, "Covering\nleave"):
        assert_error(leader.post(f"{P}/work-items/{item}/reassign",
                                 json={"assignee": "sw2.north", "reason": reason}), 422, "reason")
    assert _item(world, item).assignee_id is None
    assert not _events(world, "task_reassigned", world.children["north"])
    response = leader.post(f"{P}/work-items/{item}/reassign",
                           json={"assignee": "sw2.north", "reason": "Sam is on leave this week"})
    assert response.status_code == 200
    assert response.get_json()["assignee"]["username"] == "sw2.north"
    assert_error(leader.post(f"{P}/work-items/{item}/reassign",
                             json={"assignee": "sw.south", "reason": "Covering"}), 422, "assignee")
    assert_error(leader.post(f"{P}/work-items/{item}/reassign", json={}), 422, "assignee")
    assert_error(api(world, "sw.north").post(f"{P}/work-items/{item}/reassign",
                                             json={"assignee": "sw.north", "reason": "Mine"}), 403)
    event = _events(world, "task_reassigned", world.children["north"])[-1]
    assert event.actor == "tl.north" and event.data["to"] == "sw2.north"
    assert event.data["reason"] == "Sam is on leave this week"
    with world.database.transaction() as session:
        done = session.get(WorkItem, item)
        done.status = "completed"
    assert_error(leader.post(f"{P}/work-items/{item}/reassign",
                             json={"assignee": "sw.north", "reason": "Back from leave"}), 409)


def test_draft_is_saved_and_shown_and_checked(world):
    item = world.tasks["north"]
    client = api(world, "sw.north")
    response = client.put(f"{P}/work-items/{item}/draft", json={"data": {"solicitor": "Mr B."}})
    assert response.status_code == 200
    assert response.get_json()["draft"] == {"solicitor": "Mr B."}
    assert response.get_json()["status"] == "claimed"  # saving a draft claims the task
    assert _item(world, item).draft == {"solicitor": "Mr B."}
    assert_error(client.put(f"{P}/work-items/{item}/draft", json={"data": {"colour": "red"}}),
                 422, "data.colour")
    assert_error(client.put(f"{P}/work-items/{item}/draft", json={"data": "text"}), 422, "data")
    held = assert_error(api(world, "sw2.north").put(f"{P}/work-items/{item}/draft",
                                                    json={"data": {}}), 409)
    assert "Sam Wilson holds this task" in held["message"]
    assert_error(api(world, "legal").put(f"{P}/work-items/{item}/draft", json={"data": {}}), 404)


def test_invalid_completion_is_422_per_field_and_changes_nothing(world):
    item = world.tasks["north"]
    client = api(world, "sw.north")
    bad = {**REFERRAL, "referral_date": "2026-02-31", "questions": None,
           "route_under_consideration": "wherever"}
    body = assert_error(client.post(f"{P}/work-items/{item}/complete", json={"data": bad}), 422,
                        "data.referral_date", "data.questions", "data.route_under_consideration")
    assert set(body["errors"]) == {"data.referral_date", "data.questions",
                                   "data.route_under_consideration"}
    missing = assert_error(client.post(f"{P}/work-items/{item}/complete",
                                       json={"data": {"solicitor": "x"}}), 422)
    assert {"data.referral_date", "data.questions"} <= set(missing["errors"])
    assert_error(client.post(f"{P}/work-items/{item}/complete",
                             json={"data": {**REFERRAL, "route": "adoption"}}), 422, "data.route")
    assert_error(client.post(f"{P}/work-items/{item}/complete",
                             json={"data": {**REFERRAL, "questions": "nul\u0000"}}), 422,
                 "data.questions")
    assert_error(client.post(f"{P}/work-items/{item}/complete", json={}), 422, "data")
    assert_error(client.post(f"{P}/work-items/{item}/complete",
                             json={"data": REFERRAL, "extra": 1}), 422, "extra")
    found = _item(world, item)
    assert found.status == "ready" and found.assignee_id is None  # the claim rolled back
    assert not [e for e in _events(world, "task_completed", world.children["north"])
                if e.data["task"] == "legal_referral"]


def test_completion_moves_the_process_on_and_repeats_are_idempotent(world):
    item = world.tasks["north"]
    client = api(world, "sw.north")
    response = client.post(f"{P}/work-items/{item}/complete", json={"data": REFERRAL})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["repeated"] is False and result["work_item"]["status"] == "completed"
    assert result["work_item"]["completed_by"]["username"] == "sw.north"
    assert result["instance"]["process_id"] == "permanence_journey"
    assert "legal_opinion" in [t["task_name"] for t in result["open_tasks"]]
    again = client.post(f"{P}/work-items/{item}/complete", json={"data": REFERRAL})
    assert again.status_code == 200 and again.get_json()["repeated"] is True
    assert again.get_json()["work_item"]["id"] == item
    changed = assert_error(client.post(f"{P}/work-items/{item}/complete",
                                       json={"data": {**REFERRAL, "questions": "Other?"}}), 409)
    assert "already completed" in changed["message"] and "reload" in changed["message"]
    completions = [e for e in _events(world, "task_completed", world.children["north"])
                   if e.data["task"] == "legal_referral"]
    assert len(completions) == 1 and completions[0].actor == "sw.north"
    # The completed task: a worker without the role is refused, not told the outcome.
    assert_error(api(world, "tl.north").post(f"{P}/work-items/{item}/complete",
                                             json={"data": REFERRAL}), 403)


def test_a_task_held_by_someone_else_or_moved_on_is_409(world):
    item = world.tasks["north"]
    with world.database.transaction() as session:
        work_items.claim(session, item, session.get(UserAccount, world.users["sw2.north"]))
    held = assert_error(api(world, "sw.north").post(f"{P}/work-items/{item}/complete",
                                                    json={"data": REFERRAL}), 409)
    assert "Priya Shah holds this task" in held["message"]
    with world.database.transaction() as session:
        session.get(WorkItem, item).status = "cancelled"
    gone = assert_error(api(world, "sw.north").post(f"{P}/work-items/{item}/complete",
                                                    json={"data": REFERRAL}), 409)
    assert "no longer open" in gone["message"]
    assert_error(api(world, "sw.north").post(f"{P}/work-items/{item}/claim"), 409)


def test_a_stale_write_is_409_with_reload_and_nothing_saved(world, monkeypatch):
    item = world.tasks["north"]
    runtime = world.database.runtime
    original = runtime.save

    def racing_save(*args, **kwargs):
        raise Conflict(STALE_MESSAGE)  # what save() raises when another writer got there first
    monkeypatch.setattr(runtime, "save", racing_save)
    body = assert_error(api(world, "sw.north").post(f"{P}/work-items/{item}/complete",
                                                    json={"data": REFERRAL}), 409)
    assert "reload" in body["message"] and body["errors"] == {}
    monkeypatch.setattr(runtime, "save", original)
    found = _item(world, item)
    assert found.status == "ready" and found.assignee_id is None
    assert api(world, "sw.north").post(f"{P}/work-items/{item}/complete",
                                       json={"data": REFERRAL}).status_code == 200


def test_hostile_bodies_are_refused_without_a_server_error(world):
    """What the databases or the JSON decoder would choke on is a 400 or 422, never a 500."""
    item = world.tasks["north"]
    client = api(world, "sw.north")
    deep = "[" * 50_000 + "]" * 50_000
    raw = {"Content-Type": "application/json"}
    assert_error(client.open("POST", f"{P}/work-items/{item}/complete",
                             data='{"data": {"questions": ' + deep + "}}", headers=raw), 400)
    for text, field in (('{"data": {"solicitor": NaN}}', "data.solicitor"),
                        ('{"data": {"solicitor": [1e999]}}', "data.solicitor.0"),
                        ('{"data": {"solicitor": "\\ud800"}}', "data.solicitor"),
                        ('{"data": {"sol\\u0000": "x"}}', "data")):
        assert_error(client.open("PUT", f"{P}/work-items/{item}/draft", data=text, headers=raw),
                     422, field)
    assert_error(client.open("POST", f"{P}/work-items/{item}/complete",
                             data='{"data": {"questions": NaN}}', headers=raw), 422,
                 "data.questions")
    assert _item(world, item).draft is None
