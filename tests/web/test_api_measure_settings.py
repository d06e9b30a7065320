"""An aim's settings and PDSA cycles through /api/v1 and through their pages: one service
each, so the API and the page refuse the same values naming the same fields, every change
is audited alike, and both act for the council the deployment names (``PACE_COUNCIL``).
On the measures' constructed caseload (measures_site.py), both databases."""
from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from workflows.measures import aim_store
from workflows.app import Settings

from .api_client import api, assert_error
from .conftest import csrf_token, sign_in
from .journeys import World, make_app
from .measures_site import ON, client, text

SETTINGS = "/api/v1/measures/aims/{}/settings"
CYCLES = "/api/v1/pdsa-cycles"
SUMMARY = re.compile(r'class="govuk-error-summary".*?</ul>', re.S)


@pytest.fixture(scope="module")
def world(site):
    return World(site["db"], site["app"])


def _page_errors(response) -> tuple[set[str], str]:
    """The fields the page's error summary links to, and its text."""
    found = SUMMARY.search(text(response))
    assert found, "no error summary on the page"
    return set(re.findall(r'<a href="#([a-z_]+)">', found.group(0))), html.unescape(found.group(0))


def _events(site, kind: str) -> list[AuditEvent]:
    with site["db"].transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event_type == kind)
                                    .order_by(AuditEvent.id)))


# -- an aim's settings ----------------------------------------------------------------------------
def test_settings_are_read_and_changed_as_on_the_page(site, world):
    shown = api(world, "auditor").get(SETTINGS.format(2))
    assert shown.status_code == 200, shown.get_data(as_text=True)
    body = shown.get_json()
    assert (body["aim"], body["council"], body["target_pct"], body["threshold"],
            body["max_age"], body["teams"], body["start_date"]) == (2, "default", 75.0, "30w",
                                                                   None, [], None)
    before = len(_events(site, "aim_settings_changed"))
    changed = api(world, "owner").put(SETTINGS.format(2), json={
        "target_pct": 80, "threshold": "7.5m", "max_age": 12, "start_date": "2024-01-01"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert (changed.get_json()["threshold_description"], changed.get_json()["population"]) == \
        ("7.5 months", "under 12")
    page = text(client(site, "manager").get(f"/measures/aims/2?on={ON}"))
    assert "7.5 months" in page
    events = _events(site, "aim_settings_changed")[before:]
    assert [(e.actor, e.data["after"]["threshold"]) for e in events] == [("owner", "7.5m")]
    # null clears an optional setting; what is not sent keeps its value
    cleared = api(world, "admin").put(SETTINGS.format(2), json={
        "max_age": None, "start_date": None, "threshold": "30w", "target_pct": 75})
    assert (cleared.get_json()["max_age"], cleared.get_json()["start_date"],
            cleared.get_json()["target_pct"]) == (None, None, 75.0)
    with site["db"].transaction() as session:
        assert aim_store.load(session)[2].threshold.text == "30w"


def test_the_api_refuses_whom_and_what_the_page_refuses(site, world):
    assert_error(api(world, "manager").put(SETTINGS.format(2), json={"target_pct": 80}), 403)
    assert_error(api(world, "sw.north").get(SETTINGS.format(2)), 403)
    assert_error(api(world, "owner").put(SETTINGS.format(9), json={"target_pct": 80}), 404)
    assert_error(api(world, "owner").get(SETTINGS.format(9)), 404)
    assert_error(api(world, "owner").put(SETTINGS.format(2), json={}), 422, "body")
    assert_error(api(world, "owner").put(SETTINGS.format(2), json={"colour": "red"}), 422,
                 "colour")
    assert_error(world.app.test_client().get(SETTINGS.format(2)), 401)


# (case, the page's form fields changed, the same values as JSON, fields named by both)
BAD_SETTINGS = [
    ("target above 100", {"target_pct": "150"}, {"target_pct": 150}, {"target_pct"}),
    ("target of zero", {"target_pct": "0"}, {"target_pct": 0}, {"target_pct"}),
    ("unreadable threshold", {"threshold": "thirty weeks"}, {"threshold": "thirty weeks"},
     {"threshold"}),
    ("threshold of 11 years", {"threshold": "11y"}, {"threshold": "11y"}, {"threshold"}),
    ("blank wording", {"wording": "  "}, {"wording": "  "}, {"wording"}),
    ("end before start", {"start_date": "2025-06-01", "end_date": "2025-05-31"},
     {"start_date": "2025-06-01", "end_date": "2025-05-31"}, {"end_date"}),
    ("impossible date", {"start_date": "2025-02-30"}, {"start_date": "2025-02-30"},
     {"start_date"}),
    ("age over 25", {"max_age": "30"}, {"max_age": 30}, {"max_age"}),
    ("three at once", {"target_pct": "101", "threshold": "soon", "max_age": "40"},
     {"target_pct": 101, "threshold": "soon", "max_age": 40},
     {"target_pct", "threshold", "max_age"}),
]


@pytest.mark.parametrize("case, form, body, fields", BAD_SETTINGS,
                         ids=[c[0] for c in BAD_SETTINGS])
def test_page_and_api_refuse_the_same_settings_naming_the_same_fields(site, world, case, form,
                                                                      body, fields):
    before = len(_events(site, "aim_settings_changed"))
    owner = client(site, "owner")
    page = owner.post("/measures/aims/3/settings", data={
        "wording": "60% ratified within 30 weeks", "target_pct": "60", "threshold": "30w",
        "max_age": "", "start_date": "", "end_date": "", **form,
        "csrf_token": csrf_token(owner)})
    assert page.status_code == 400
    page_fields, summary = _page_errors(page)
    response = api(world, "owner").put(SETTINGS.format(3), json=body)
    errors = assert_error(response, 422, *fields)["errors"]
    assert page_fields == set(errors) == fields
    if case != "impossible date":  # the API's schema reads dates before the service does
        for messages in errors.values():
            assert all(message in summary for message in messages), (messages, summary)
    assert len(_events(site, "aim_settings_changed")) == before


# -- PDSA cycles ------------------------------------------------------------------------------
def test_a_cycle_recorded_by_api_is_the_pages_cycle(site, world):
    made = api(world, "manager").post(CYCLES, json={
        "aim": 2, "change_idea": "Legal referral at 20 weeks", "start_date": "2024-10-01",
        "prediction": "Fewer late recommendations", "model_version": 1})
    assert made.status_code == 201, made.get_data(as_text=True)
    cycle = made.get_json()
    assert (cycle["cycle_number"], cycle["process_id"], cycle["created_by"], cycle["act"]) == \
        (1, "permanence_journey", "manager", None)
    changed = api(world, "owner").put(f"{CYCLES}/{cycle['id']}", json={
        "end_date": "2024-12-20", "study": "Two of three on time", "act": "adapt"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert (changed.get_json()["act"], changed.get_json()["prediction"]) == \
        ("adapt", "Fewer late recommendations")
    assert api(world, "auditor").get(f"{CYCLES}/{cycle['id']}").get_json()["study"] == \
        "Two of three on time"
    listed = api(world, "tl.north").get(f"{CYCLES}?aim=2").get_json()["items"]
    assert cycle["id"] in [c["id"] for c in listed]
    assert api(world, "tl.north").get(f"{CYCLES}?aim=1").get_json()["items"] == []
    assert "Legal referral at 20 weeks" in text(client(site, "auditor").get("/measures/pdsa"))
    chart = api(world, "manager").get(f"/api/v1/measures/aims/2/run-chart?on={ON}").get_json()
    assert "PDSA: Legal referral at 20 weeks (cycle 1), adapt" in \
        [a["label"] for a in chart["annotations"]]
    assert [e.event_type for e in _events(site, "pdsa_cycle_recorded")
            if e.data["id"] == cycle["id"]] == ["pdsa_cycle_recorded"]
    assert [e.actor for e in _events(site, "pdsa_cycle_updated")
            if e.data["id"] == cycle["id"]] == ["owner"]
    editable = client(site, "owner").get(f"/measures/pdsa/{cycle['id']}")
    assert editable.status_code == 200 and "Legal referral at 20 weeks" in text(editable)


def test_the_cycles_api_refuses_whom_and_what_the_page_refuses(world):
    good = {"aim": 2, "change_idea": "x", "start_date": "2024-10-01"}
    assert_error(api(world, "auditor").post(CYCLES, json=good), 403)
    assert_error(api(world, "sw.north").get(CYCLES), 403)
    assert_error(api(world, "manager").get(f"{CYCLES}/999999"), 404)
    assert_error(api(world, "manager").put(f"{CYCLES}/999999", json={"study": "x"}), 404)
    assert_error(api(world, "manager").get(f"{CYCLES}?aim=7"), 422, "aim")
    assert_error(api(world, "manager").post(CYCLES, json={}), 422, "aim", "change_idea",
                 "start_date")


# (case, the page's form fields changed, the same values as JSON, fields named by both)
GOOD_FORM = {"aim": "2", "change_idea": "Earlier planning", "cycle_number": "1",
             "start_date": "2024-09-02", "end_date": "", "plan": "", "prediction": "",
             "what_happened": "", "study": "", "act": "", "model_version": ""}
BAD_CYCLES = [
    ("no change idea", {"change_idea": " "}, {"change_idea": " "}, {"change_idea"}),
    ("end before start", {"end_date": "2024-09-01"}, {"end_date": "2024-09-01"}, {"end_date"}),
    ("unknown act", {"act": "keep"}, {"act": "keep"}, {"act"}),
    ("no such aim", {"aim": "9"}, {"aim": 9}, {"aim"}),
    ("undeployed version", {"model_version": "99"}, {"model_version": 99}, {"model_version"}),
    ("cycle number 0", {"cycle_number": "0"}, {"cycle_number": 0}, {"cycle_number"}),
    ("two at once", {"change_idea": "", "act": "keep"}, {"change_idea": "", "act": "keep"},
     {"change_idea", "act"}),
]


@pytest.mark.parametrize("case, form, body, fields", BAD_CYCLES, ids=[c[0] for c in BAD_CYCLES])
def test_page_and_api_refuse_the_same_cycle_naming_the_same_fields(site, world, case, form,
                                                                   body, fields):
    before = len(_events(site, "pdsa_cycle_recorded"))
    manager = client(site, "manager")
    page = manager.post("/measures/pdsa/new", data={**GOOD_FORM, **form,
                                                   "csrf_token": csrf_token(manager)})
    assert page.status_code == 400
    page_fields, summary = _page_errors(page)
    json_body = {"aim": 2, "change_idea": "Earlier planning", "start_date": "2024-09-02", **body}
    errors = assert_error(api(world, "manager").post(CYCLES, json=json_body), 422)["errors"]
    assert page_fields == set(errors) == fields
    for messages in errors.values():
        assert all(message in summary for message in messages), (messages, summary)
    assert len(_events(site, "pdsa_cycle_recorded")) == before


# -- PACE_COUNCIL ----------------------------------------------------------------------------------
def test_pages_and_api_act_for_the_council_the_deployment_names(site):
    """Another deployment over the same database with PACE_COUNCIL=midlothian: its changes
    are Midlothian's, and the default council's aims and cycles are not its own."""
    database = replace(site["db"], settings=Settings(council="midlothian"))
    other = World(database, make_app(database))
    response = api(other, "owner").put(SETTINGS.format(2), json={"threshold": "7.5m",
                                                                 "max_age": 12})
    assert response.status_code == 200 and response.get_json()["council"] == "midlothian"
    assert api(other, "owner").get(SETTINGS.format(2)).get_json()["threshold"] == "7.5m"
    made = api(other, "owner").post(CYCLES, json={"aim": 2, "change_idea": "Midlothian test",
                                                  "start_date": "2024-10-01"})
    assert made.status_code == 201
    with database.transaction() as session:
        assert aim_store.load(session, "midlothian")[2].threshold.text == "7.5m"
        assert aim_store.load(session, "default")[2].threshold.text == "30w"
    default_cycles = api(World(site["db"], site["app"]), "owner").get(CYCLES).get_json()["items"]
    assert "Midlothian test" not in [c["change_idea"] for c in default_cycles]
    assert [c["change_idea"] for c in api(other, "owner").get(CYCLES).get_json()["items"]] == \
        ["Midlothian test"]
    page = text(sign_in(other.app.test_client(), "owner").get("/measures/aims/2/settings"))
    assert 'value="7.5m"' in page
    assert 'value="30w"' in text(client(site, "owner").get("/measures/aims/2/settings"))
