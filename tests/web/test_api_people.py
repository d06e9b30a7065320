"""/api/v1/teams, /api/v1/people and /api/v1/roles (web/api/people.py): the services of the
administrators' pages, as JSON, on both databases."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import work_items
from engine.models import AuditEvent, WorkItem
from workflows import accounts

from .api_client import api, assert_error

P = "/api/v1"


@pytest.fixture
def admin(world):
    return api(world, "admin")


def test_teams_are_created_listed_renamed_and_closed(world, admin):
    created = admin.post(f"{P}/teams", json={"code": "east", "name": "East"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json() == {"code": "east", "name": "East", "closed": False,
                                  "closed_at": None, "people": 0, "open_children": 0}
    renamed = admin.open("PATCH", f"{P}/teams/east", json={"name": "East and Islands"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "East and Islands"
    closed = admin.post(f"{P}/teams/east/close")
    assert closed.status_code == 200 and closed.get_json()["closed"] is True
    listed = admin.get(f"{P}/teams").get_json()["items"]
    assert [t["code"] for t in listed] == ["north", "south", "east"]
    north = admin.get(f"{P}/teams/north").get_json()
    assert north["open_children"] == 2 and north["people"] == 3
    assert_error(admin.post(f"{P}/teams/north/close"), 409)
    assert_error(admin.post(f"{P}/teams", json={"code": "Bad Code", "name": ""}), 422,
                 "code", "name")
    assert_error(admin.get(f"{P}/teams/nowhere"), 404)


def test_a_person_is_added_changed_and_deactivated(world, admin):
    body = {"username": "jb", "display_name": "Jo Bloggs", "email": "jo@council.gov.uk",
            "roles": ["social_worker"], "team": "north", "password": "a-long-password"}
    created = admin.post(f"{P}/people", json=body)
    assert created.status_code == 201, created.get_json()
    person = created.get_json()
    assert "password" not in person and person["local_sign_in"] is True
    assert (person["username"], person["roles"], person["team"], person["active"]) == \
        ("jb", ["social_worker"], "north", True)
    assert admin.get(f"{P}/people/jb").get_json() == person

    with world.database.transaction() as session:
        work_items.claim(session, world.tasks["north"], accounts.find_user(session, "jb"))
    changed = admin.open("PATCH", f"{P}/people/jb", json={"team": "south", "email": None})
    assert changed.status_code == 200
    result = changed.get_json()
    assert result["changed"] == ["email", "team"]
    assert result["returned_tasks"] == [world.tasks["north"]] and result["told"] == ["tl.north"]
    assert result["person"]["email"] is None

    deactivated = admin.post(f"{P}/people/jb/deactivate").get_json()
    assert deactivated["person"]["active"] is False and deactivated["told"] == ["tl.south"]
    assert admin.post(f"{P}/people/jb/reactivate").get_json()["active"] is True

    removed = admin.put(f"{P}/people/jb/password", json={"password": None})
    assert removed.status_code == 200 and removed.get_json()["local_sign_in"] is False
    with world.database.transaction() as session:
        kinds = [e.event_type for e in session.scalars(select(AuditEvent).where(
            AuditEvent.actor == "admin").order_by(AuditEvent.id))]
    assert kinds[-5:] == ["user_updated", "task_released", "user_deactivated",
                          "user_reactivated", "user_password_removed"]


def test_what_is_sent_is_checked_field_by_field(world, admin):
    response = admin.post(f"{P}/people", json={"username": "x y", "display_name": "",
                                               "email": "nope", "roles": [], "team": "nowhere"})
    assert_error(response, 422, "username", "display_name", "email", "roles", "team")
    assert_error(admin.post(f"{P}/people", json={"username": "x"}), 422, "display_name", "roles")
    assert_error(admin.post(f"{P}/people", json={
        "username": "x", "display_name": "X", "roles": ["auditor"], "password": "short"}),
        422, "password")
    assert_error(admin.open("PATCH", f"{P}/people/sw.north", json={"roles": ["chief_cook"]}),
                 422, "roles")


def test_the_last_administrator_stays(world, admin):
    body = assert_error(admin.post(f"{P}/people/admin/deactivate"), 409)
    assert "last active administrator" in body["message"]
    assert_error(admin.open("PATCH", f"{P}/people/admin", json={"roles": ["auditor"]}), 409)


def test_people_are_listed_and_by_role(world, admin):
    found = admin.get(f"{P}/people?role=social_worker&team=north").get_json()["items"]
    assert [p["username"] for p in found] == ["sw2.north", "sw.north"]
    wide = admin.get(f"{P}/people?service_wide=true&active=true").get_json()["items"]
    assert "chair" in [p["username"] for p in wide] and all(p["team"] is None for p in wide)
    roles = {r["code"]: r for r in admin.get(f"{P}/roles").get_json()["items"]}
    assert [p["username"] for p in roles["team_leader"]["people"]] == ["tl.south", "tl.north"]  # by name: Tina, Tom
    assert roles["admin"]["label"] == "Administrator" and roles["admin"]["in_use"]


def test_others_get_403_and_nothing_changes(world):
    for user in ("sw.north", "tl.north", "manager", "owner", "auditor"):
        client = api(world, user)
        assert_error(client.get(f"{P}/people"), 403)
        assert_error(client.post(f"{P}/teams", json={"code": "east", "name": "East"}), 403)
        assert_error(client.post(f"{P}/people/sw.north/deactivate"), 403)
    assert_error(api(world, None).get(f"{P}/teams"), 401)
    with world.database.transaction() as session:
        assert accounts.find_user(session, "sw.north").active
        assert session.get(WorkItem, world.tasks["north"]).status == "ready"
