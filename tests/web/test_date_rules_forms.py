"""Dates that make sense, through the task page and /api/v1 (both databases).

The forms declare which milestone a date may not precede (``x-not-before``) and which dates
are planned (``x-planned``); a recorded date may not lie in the future. A refusal keeps the
worker's entries, names the field and the date it conflicts with, and saves nothing.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.date_rules import long_date
from engine.models import AuditEvent, Milestone, WorkItem
from tests.conftest import BACKENDS, make_database
from tests.integration.driver import Journey

from .api_client import api, assert_error
from .conftest import post, sign_in
from .journeys import World, make_app

P = "/api/v1"
TODAY = date.today()
LA_START = TODAY - timedelta(days=300)
RECOMMENDED = LA_START + timedelta(days=200)


def _to_kinship_application(database, reference: str) -> int:
    """A child accommodated 300 days ago, kinship recommended 100 days ago: the work item of
    the open kinship application."""
    try:
        j = Journey(database, reference, date_of_birth=date(2018, 3, 9)).accommodate(LA_START)
        j.complete("planning_meeting", LA_START + timedelta(days=3))
        j.complete("initial_lar", LA_START + timedelta(days=21))
        j.complete("interim_lar", LA_START + timedelta(days=90))
        j.complete("legal_referral", LA_START + timedelta(days=150))
        j.complete("legal_opinion", LA_START + timedelta(days=160))
        j.complete("substantive_lar", RECOMMENDED, route="kinship")
        j.complete("kinship_assessment", RECOMMENDED, completed_date=RECOMMENDED,
                   kinship_assessment_outcome="suitable")
        return j.open_item("kinship_application").id
    finally:
        clock.set_now(None)


def _to_interim_review(database, reference: str) -> int:
    try:
        j = Journey(database, reference).accommodate(TODAY - timedelta(days=80))
        j.complete("planning_meeting", TODAY - timedelta(days=77))
        j.complete("initial_lar", TODAY - timedelta(days=60))
        return j.open_item("interim_lar").id
    finally:
        clock.set_now(None)


@pytest.fixture(scope="module", params=BACKENDS)
def dated(request, tmp_path_factory) -> World:
    database = make_database(request.param, tmp_path_factory.mktemp("dates"), request)
    world = World(database, make_app(database))
    world.tasks = {"page": _to_kinship_application(database, "D0001"),
                   "api": _to_kinship_application(database, "D0002"),
                   "review": _to_interim_review(database, "D0003")}
    return world


def _item(world, item_id) -> WorkItem:
    with world.database.transaction() as session:
        return session.get(WorkItem, item_id)


def _completions(world, item_id) -> int:
    with world.database.transaction() as session:
        item = session.get(WorkItem, item_id)
        return len(session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "task_completed",
            AuditEvent.task_id == item.task_id)).all())


def _date_fields(name: str, day: date) -> dict:
    return {f"{name}.day": str(day.day), f"{name}.month": str(day.month),
            f"{name}.year": str(day.year)}


def test_the_page_refuses_an_application_lodged_before_the_recommendation(dated):
    client = sign_in(dated.app.test_client(), "sw.north")
    item = dated.tasks["page"]
    assert post(client, f"/tasks/{item}/claim").status_code == 302  # the form is shown
    early = date(RECOMMENDED.year - 1, 2, 28)
    entries = {**_date_fields("lodged_date", early), "kinship_carer": "Margaret Reid (gran)",
               "court": "Ayr Sheriff Court"}
    response = post(client, f"/tasks/{item}", {**entries, "action": "complete"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = (f"Date application lodged must be on or after {long_date(RECOMMENDED)}, the date "
               "of the permanence recommendation")
    assert f'<a href="#f-lodged_date-day">{message}</a>' in page  # the error summary
    assert re.search(r'class="govuk-error-message">\s*<span class="govuk-visually-hidden">'
                     r'Error:</span>\s*' + re.escape(message), page), "no error by the field"
    assert 'value="Margaret Reid (gran)"' in page and f'value="{early.year}"' in page
    assert _item(dated, item).status != "completed" and _completions(dated, item) == 0

    future = TODAY + timedelta(days=365)
    response = post(client, f"/tasks/{item}", {**entries, **_date_fields("lodged_date", future),
                                               "action": "complete"})
    assert response.status_code == 422
    assert ("Date application lodged must be today or in the past"
            in response.get_data(as_text=True))

    response = post(client, f"/tasks/{item}", {**entries, **_date_fields("lodged_date", TODAY),
                                               "action": "complete"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _item(dated, item).status == "completed"
    with dated.database.transaction() as session:
        order = session.scalar(select(WorkItem).where(
            WorkItem.subject_id == _item(dated, item).subject_id,
            WorkItem.task_name == "kinship_order"))
        assert order.due_date == TODAY + timedelta(weeks=16)  # due from the lodged date


def test_the_api_names_the_field_and_the_date_it_conflicts_with(dated):
    client = api(dated, "sw.north")
    item = dated.tasks["api"]
    answers = {"lodged_date": LA_START.isoformat(), "kinship_carer": "Tom Reid (uncle)"}
    body = assert_error(client.post(f"{P}/work-items/{item}/complete", json={"data": answers}),
                        422, "data.lodged_date")
    assert body["errors"]["data.lodged_date"] == [
        f"Date application lodged must be on or after {long_date(RECOMMENDED)}, the date of the "
        "permanence recommendation"]
    future = {**answers, "lodged_date": (TODAY + timedelta(days=1)).isoformat()}
    body = assert_error(client.post(f"{P}/work-items/{item}/complete", json={"data": future}),
                        422, "data.lodged_date")
    assert "must be today or in the past" in body["errors"]["data.lodged_date"][0]
    assert _completions(dated, item) == 0
    fine = {**answers, "lodged_date": RECOMMENDED.isoformat()}  # the same day is allowed
    response = client.post(f"{P}/work-items/{item}/complete", json={"data": fine})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["work_item"]["status"] == "completed"


def test_a_review_dated_a_year_ahead_is_refused_but_a_booking_a_year_ahead_is_not(dated):
    item = dated.tasks["review"]
    ahead = (TODAY + timedelta(days=365)).isoformat()
    answers = {"date_held": ahead, "chair": "A. Reid", "decisions": "Plan for permanence."}
    independent = api(dated, "chair")
    body = assert_error(independent.post(f"{P}/work-items/{item}/complete",
                                         json={"data": answers}), 422, "data.date_held")
    assert body["errors"]["data.date_held"] == [
        "Date of review must be today or in the past: it records something that has happened"]
    before = {**answers, "date_held": TODAY.isoformat(), "substantive_lar_date":
              (TODAY - timedelta(days=1)).isoformat()}
    body = assert_error(independent.post(f"{P}/work-items/{item}/complete",
                                         json={"data": before}), 422, "data.substantive_lar_date")
    assert body["errors"]["data.substantive_lar_date"] == [
        "Substantive looked-after review booked for must be on or after "
        f"{long_date(TODAY)}, the date of review"]
    booked = {**answers, "date_held": TODAY.isoformat(), "substantive_lar_date": ahead}
    response = independent.post(f"{P}/work-items/{item}/complete", json={"data": booked})
    assert response.status_code == 200, response.get_json()
    with dated.database.transaction() as session:  # the booking plans the next review
        planned = session.scalars(select(Milestone.planned_date).where(
            Milestone.subject_id == _item(dated, item).subject_id,
            Milestone.code == "PERM_RECOMMENDATION")).all()
    assert planned == [TODAY + timedelta(days=365)]
