"""Aim 1 reviews imported without their recommendation: "Not recorded" on the aim's page, in
its outcome-mix CSV and in the API, never "continue"; and the choice that records it is
offered to no worker (task page, API) and refused from one. Both databases."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from engine.models import Subject, WorkItem
from tests.conftest import BACKENDS, make_database
from workflows.caseload import importer as caseload_import
from workflows.demo import scotland as demo

from .api_client import api, assert_error
from .conftest import post, sign_in
from .journeys import World, make_app

TODAY = "2026-11-23"


def _row(reference, recommendation="", **more):
    return {"reference": reference, "name": f"Child {reference}", "team": "north",
            "legal_status": "cso_home", "CSO_START": "2023-06-01", "AIM1_REVIEW": "2024-11-15",
            "CSO_HEARING": "2024-12-10", "aim1_recommendation": recommendation} | more


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory) -> World:
    """Three reviews imported without a recommendation, one with "terminate", and a child
    whose booked review is open for the chair."""
    database = make_database(request.param, tmp_path_factory.mktemp("outcomes"), request)
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    rows = [_row("U1"), _row("U2"), _row("U3"), _row("T1", "Terminate the CSO"),
            {"reference": "B1", "name": "Child B1", "team": "north", "legal_status": "cso_home",
             "CSO_START": "2025-03-03", "next_review_date": "2026-12-01"}]
    result = caseload_import.import_rows(database, rows, source="old.csv",
                                         today=date.fromisoformat(TODAY))
    assert result.errors == [] and result.imported == 5
    return World(database, make_app(database))


def _review_task(world) -> int:
    with world.database.transaction() as session:
        return session.scalar(select(WorkItem.id).join(Subject, Subject.id == WorkItem.subject_id)
                              .where(Subject.reference == "B1",
                                     WorkItem.task_name == "hold_aim1_review"))


def test_the_aim_page_csv_and_api_count_them_as_not_recorded(world):
    manager = sign_in(world.app.test_client(), "manager")
    page = manager.get(f"/measures/aims/1?on={TODAY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Not recorded" in html and "Continue the CSO" in html
    response = manager.get(f"/measures/aims/1/outcome-mix.csv?on={TODAY}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = {r[0]: r[1:] for r in csv.reader(io.StringIO(response.get_data(as_text=True))) if r}
    assert rows["not recorded"] == ["Not recorded", "3", "75.0"]
    assert rows["continue"] == ["Continue the CSO", "0", "0.0"]
    assert rows["terminate"] == ["Terminate the CSO", "1", "25.0"]
    assert rows["total"][:2] == ["Reviews done", "4"]
    body = api(world, "manager").get(f"/api/v1/measures/aims/1?on={TODAY}")
    assert body.status_code == 200, body.get_data(as_text=True)
    mix = {m["code"]: (m["label"], m["count"]) for m in body.get_json()["outcome_mix"]}
    assert mix["not recorded"] == ("Not recorded", 3) and mix["continue"] == ("Continue the CSO", 0)


def test_no_worker_is_offered_the_import_only_choice(world):
    item = _review_task(world)
    chair = sign_in(world.app.test_client(), "chair")
    post(chair, f"/tasks/{item}/claim")  # the form shows once the task is claimed
    html = chair.get(f"/tasks/{item}").get_data(as_text=True)
    assert "Terminate the CSO" in html and "Continue the CSO" in html
    assert "not_recorded" not in html and "Not recorded (imported" not in html
    detail = api(world, "chair").get(f"/api/v1/work-items/{item}")
    assert detail.status_code == 200, detail.get_data(as_text=True)
    offered = detail.get_json()["form"]["schema"]["properties"]["recommendation"]["oneOf"]
    assert [o["const"] for o in offered] == ["terminate", "continue", "vary", "permanence_away"]


def test_a_worker_submitting_it_is_refused_and_nothing_is_saved(world):
    item = _review_task(world)
    answers = {"date_held": "2026-11-23", "chair": "I. Chalmers", "grounds_still_relevant": "yes",
               "family_situation_changed": "no", "support_without_order": "no",
               "action_minute": "Agreed actions.", "recommendation": "not_recorded",
               "reasons": "None."}
    refused = api(world, "chair").post(f"/api/v1/work-items/{item}/complete", json={"data": answers})
    body = assert_error(refused, 422)
    assert any("recorded only by a caseload import" in str(m) for m in body["errors"].values())
    with world.database.transaction() as session:
        assert session.get(WorkItem, item).status != "completed"
