"""Process-model versions and the PACE measures through /api/v1 (read-only)."""
from __future__ import annotations

from workflows.measures import aim_results as measures

from .api_client import api, assert_error

P = "/api/v1"


def test_process_model_versions(shared_world):
    body = api(shared_world, "owner").get(f"{P}/process-models").get_json()
    by_process = {m["process_id"]: m for m in body["items"] if m["latest"]}
    journey = by_process["permanence_journey"]
    assert journey["version"] >= 1 and len(journey["content_hash"]) == 64
    assert journey["running_instances"] == 3  # the three children of the test world
    assert journey["deployed_by"] and journey["deployed_at"]
    assert "cso_home_review" in by_process
    only = api(shared_world, "sw.north").get(f"{P}/process-models?process_id=cso_home_review")
    assert {m["process_id"] for m in only.get_json()["items"]} == {"cso_home_review"}
    none = api(shared_world, "sw.north").get(f"{P}/process-models?process_id=nothing")
    assert none.get_json()["items"] == []


def test_measures_for_every_aim_scoped_like_the_measures_pages(shared_world):
    manager = api(shared_world, "manager").get(f"{P}/measures/aims").get_json()
    assert [a["aim"] for a in manager["items"]] == [1, 2, 3]
    aim2 = manager["items"][1]
    assert aim2["team"] is None and aim2["threshold"] == "30w" and aim2["target_pct"] == 75
    assert aim2["definition"] == measures.DEFINITIONS[2]
    assert set(aim2["total"]) >= {"on_time", "late", "overdue", "pending", "decided", "due"}
    leader = api(shared_world, "tl.north").get(f"{P}/measures/aims/2").get_json()
    assert leader["team"] == "north" and leader["aim"] == 2
    one_team = api(shared_world, "manager").get(f"{P}/measures/aims/2?team=south").get_json()
    assert one_team["team"] == "south"
    # Three children accommodated 27 weeks ago: their 30-week deadlines are still ahead.
    assert manager["items"][1]["total"]["pending"] == 3
    assert leader["total"]["pending"] == 2 and one_team["total"]["pending"] == 1
    later = api(shared_world, "manager").get(f"{P}/measures/aims/2?on=2099-01-01").get_json()
    assert later["measured_on"] == "2099-01-01" and later["total"]["overdue"] == 3
    assert later["cohorts"] and later["cohorts"][0]["complete"] is True


def test_measures_refusals(shared_world):
    assert_error(api(shared_world, "sw.north").get(f"{P}/measures/aims"), 403)
    assert_error(api(shared_world, "tl.north").get(f"{P}/measures/aims?team=south"), 403)
    assert_error(api(shared_world, "manager").get(f"{P}/measures/aims?team=east"), 422, "team")
    assert_error(api(shared_world, "manager").get(f"{P}/measures/aims?on=yesterday"), 422, "on")
    assert_error(api(shared_world, "manager").get(f"{P}/measures/aims/4"), 404)
