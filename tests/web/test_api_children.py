"""Children and process instances through /api/v1: team scoping, registering a child onto
the right process, detail with milestones, instance state and history."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, ProcessInstance, Subject, WorkItem

from .api_client import api, assert_error

P = "/api/v1"


def _instance_id(world, key: str) -> int:
    with world.database.transaction() as session:
        return session.get(WorkItem, world.tasks[key]).instance_id


def test_children_are_listed_in_the_callers_scope(shared_world):
    north = api(shared_world, "sw.north").get(f"{P}/children").get_json()
    assert {c["reference"] for c in north["items"]} == {"N0001", "N0002"}
    assert north["total"] == 2 and north["pages"] == 1
    child = next(c for c in north["items"] if c["reference"] == "N0001")
    assert child["team"] == "north" and child["open_tasks"] >= 1
    assert child["date_of_birth"] and child["allocated_worker"] is None
    everyone = api(shared_world, "manager").get(f"{P}/children").get_json()
    assert {c["reference"] for c in everyone["items"]} == {"N0001", "N0002", "S0001"}
    search = api(shared_world, "auditor").get(f"{P}/children?q=south").get_json()
    assert [c["reference"] for c in search["items"]] == ["S0001"]
    paged = api(shared_world, "manager").get(f"{P}/children?per_page=2&page=2").get_json()
    assert [c["reference"] for c in paged["items"]] == ["S0001"] and paged["pages"] == 2
    assert api(shared_world, "sw.north").get(f"{P}/children?q=S0001").get_json()["total"] == 0
    assert_error(api(shared_world, "owner").get(f"{P}/children"), 403)


def test_child_detail_has_processes_tasks_and_milestones(shared_world):
    child_id = shared_world.children["north"]
    detail = api(shared_world, "sw.north").get(f"{P}/children/{child_id}").get_json()
    assert detail["reference"] == "N0001" and detail["team_name"]
    assert [i["process_id"] for i in detail["instances"]] == ["permanence_journey"]
    assert detail["instances"][0]["status"] == "running"
    assert detail["instances"][0]["model_version"] >= 1
    assert [t["task_name"] for t in detail["tasks"]] == ["legal_referral"]
    codes = [m["code"] for m in detail["milestones"]]
    assert codes[0] == "LA_START" and "INITIAL_LAR" in codes
    la_start = detail["milestones"][0]
    assert la_start["actual_date"] and la_start["status"] in ("done", "on_time", "late")
    planned = [m for m in detail["milestones"] if m["actual_date"] is None]
    assert planned and all(m["planned_date"] for m in planned)


def test_a_child_outside_scope_is_404_like_a_missing_one(shared_world):
    client = api(shared_world, "sw.north")
    south = client.get(f"{P}/children/{shared_world.children['south']}")
    assert_error(south, 404)
    assert south.get_json() == client.get(f"{P}/children/999999").get_json()
    south_instance = _instance_id(shared_world, "south")
    assert client.get(f"{P}/instances/{south_instance}").get_json() == \
        client.get(f"{P}/instances/999999").get_json()
    assert_error(client.get(f"{P}/instances/{south_instance}/history"), 404)


def test_an_auditors_reading_is_recorded(world):
    child_id = world.children["south"]
    assert api(world, "auditor").get(f"{P}/children/{child_id}").status_code == 200
    instance = _instance_id(world, "south")
    assert api(world, "auditor").get(f"{P}/instances/{instance}/history").status_code == 200
    with world.database.transaction() as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "record_viewed", AuditEvent.subject_id == child_id)).all()
    assert [(e.actor, e.data) for e in events] == [
        ("auditor", {"page": "child", "via": "api"}),
        ("auditor", {"page": "instance_history", "via": "api"})]


def test_instance_state_and_history(shared_world):
    instance_id = _instance_id(shared_world, "north")
    client = api(shared_world, "tl.north")
    state = client.get(f"{P}/instances/{instance_id}").get_json()
    assert state["id"] == instance_id and state["status"] == "running"
    assert state["process_id"] == "permanence_journey" and state["model_version"] >= 1
    assert state["child"]["reference"] == "N0001"
    assert [t["task_name"] for t in state["open_tasks"]] == ["legal_referral"]
    assert "LA_START" in [m["code"] for m in state["milestones"]]
    history = client.get(f"{P}/instances/{instance_id}/history").get_json()
    kinds = [e["event_type"] for e in history["items"]]
    assert kinds[0] == "instance_started" and "task_completed" in kinds and "task_ready" in kinds
    seqs = [e["seq"] for e in history["items"]]
    assert seqs == sorted(seqs) and history["total"] == len(kinds)
    assert all(len(e["hash"]) == 64 for e in history["items"])
    second = client.get(f"{P}/instances/{instance_id}/history?per_page=2&page=2").get_json()
    assert [e["seq"] for e in second["items"]] == seqs[2:4]
    assert_error(client.get(f"{P}/instances/{instance_id}/history?per_page=0"), 422, "per_page")


def test_registering_an_accommodated_child_starts_the_permanence_journey(world):
    today = clock.today()
    body = {"reference": "N0100", "name": "New Child", "pathway": "accommodated",
            "start_date": (today - timedelta(days=3)).isoformat(),
            "date_of_birth": "2019-04-01", "allocated_worker": "sw2.north"}
    response = api(world, "sw.north").post(f"{P}/children", json=body)
    assert response.status_code == 201, response.get_json()
    child = response.get_json()
    assert child["team"] == "north" and child["allocated_worker"]["username"] == "sw2.north"
    assert [i["process_id"] for i in child["instances"]] == ["permanence_journey"]
    assert child["milestones"][0]["code"] == "LA_START"
    assert child["milestones"][0]["actual_date"] == body["start_date"]
    assert child["tasks"] and child["open_tasks"] == len(child["tasks"])
    with world.database.transaction() as session:
        subject = session.scalar(select(Subject).where(Subject.reference == "N0100"))
        kinds = [e.event_type for e in session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == subject.id).order_by(AuditEvent.chain_seq))]
        actors = {e.actor for e in session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == subject.id))}
    assert kinds[:2] == ["child_registered", "instance_started"] and actors == {"sw.north"}
    listed = api(world, "sw.north").get(f"{P}/children?q=N0100").get_json()
    assert listed["total"] == 1


def test_registering_a_child_on_a_cso_at_home_starts_the_review_loop(world):
    body = {"reference": "S0100", "name": "Home Child", "pathway": "cso_home", "team": "south",
            "start_date": (clock.today() - timedelta(days=30)).isoformat()}
    response = api(world, "manager").post(f"{P}/children", json=body)
    assert response.status_code == 201, response.get_json()
    child = response.get_json()
    assert child["team"] == "south"
    assert [i["process_id"] for i in child["instances"]] == ["cso_home_review"]
    assert "CSO_START" in [m["code"] for m in child["milestones"]]
    with world.database.transaction() as session:
        instance = session.scalar(select(ProcessInstance).where(
            ProcessInstance.subject_id == child["id"]))
    assert instance.status == "running"


def test_registering_a_child_refuses_what_it_cannot_do(world):
    client = api(world, "sw.north")
    good = {"reference": "N0200", "name": "Child", "pathway": "accommodated",
            "start_date": clock.today().isoformat()}
    assert_error(client.post(f"{P}/children", json={**good, "reference": "N0001"}), 409)
    assert_error(client.post(f"{P}/children", json={**good, "team": "south"}), 403)
    assert_error(client.post(f"{P}/children", json={**good, "pathway": "boarding"}), 422,
                 "pathway")
    future = (clock.today() + timedelta(days=1)).isoformat()
    assert_error(client.post(f"{P}/children", json={**good, "start_date": future}), 422,
                 "start_date")
    assert_error(client.post(f"{P}/children", json={**good, "start_date": "1900-01-01"}), 422,
                 "start_date")
    assert_error(client.post(f"{P}/children", json={**good, "date_of_birth": future}), 422,
                 "date_of_birth")
    born_later = {**good, "start_date": "2020-01-01", "date_of_birth": "2021-01-01"}
    assert_error(client.post(f"{P}/children", json=born_later), 422, "start_date")
    assert_error(client.post(f"{P}/children", json={**good, "allocated_worker": "sw.south"}),
                 422, "allocated_worker")
    assert_error(client.post(f"{P}/children", json={**good, "reference": "  "}), 422,
                 "reference")
    assert_error(client.post(f"{P}/children", json={**good, "start_date": "2026-02-30"}), 422,
                 "start_date")
    # A line break in a reference would forge a mail header (Bcc) in every reminder.
    forged = assert_error(client.post(f"{P}/children", json={
        **good, "reference": "N0201\r\nBcc: someone@example.org"}), 422, "reference")
    assert "one line of text" in forged["errors"]["reference"][0]
    assert_error(client.post(f"{P}/children", json={**good, "name": "Ava\u2028Smith"}), 422, "name")
    with world.database.transaction() as session:
        assert session.scalar(select(Subject).where(Subject.reference.like("N0201%"))) is None
    assert_error(client.post(f"{P}/children", json={"name": "x"}), 422, "reference",
                 "pathway", "start_date")
    manager = api(world, "manager")
    assert_error(manager.post(f"{P}/children", json=good), 422, "team")
    assert_error(manager.post(f"{P}/children", json={**good, "team": "east"}), 422, "team")
    assert_error(api(world, "legal").post(f"{P}/children", json=good), 403)
    with world.database.transaction() as session:
        assert session.scalar(select(Subject).where(Subject.reference == "N0200")) is None
