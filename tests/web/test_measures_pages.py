"""Measures pages on the real app and both databases: figures, scoping, downloads, forms."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from workflows.measures.tables import PdsaCycle
from workflows.vocabulary import PERMANENCE

from tests.unit.published import assert_aim_table_safe

from .conftest import csrf_token
from .measures_site import ON, client, text


# -- access -------------------------------------------------------------------------------
USERS = ["anonymous", "sw.north", "tl.north", "tl.south", "chair", "manager", "owner",
         "auditor", "admin"]
MATRIX = {
    # anon sw.n tl.n tl.s chair mgr owner audit admin
    "/measures":                      "302 403 200 200 403 200 200 200 200",
    "/measures/aims/2":               "302 403 200 200 403 200 200 200 200",
    "/measures/aims/9":               "302 403 404 404 403 404 404 404 404",
    "/measures/aims/1.csv":           "302 403 200 200 403 200 200 200 200",
    "/measures/aims/3.svg":           "302 403 200 200 403 200 200 200 200",
    "/measures/aims/2/children":      "302 403 200 200 403 200 403 200 403",
    "/measures/stages":               "302 403 200 200 403 200 200 200 200",
    "/measures/pdsa":                 "302 403 200 200 403 200 200 200 200",
    "/measures/pdsa/new":             "302 403 403 403 403 200 200 403 403",
    "/measures/aims/2/settings":      "302 403 403 403 403 403 200 403 200",
}


@pytest.mark.parametrize("url, user, status", [
    (url, user, int(statuses.split()[i])) for url, statuses in MATRIX.items()
    for i, user in enumerate(USERS)])
def test_who_sees_what(site, url, user, status):
    assert client(site, user).get(url).status_code == status


def test_writes_need_the_right_role_and_a_csrf_token(site):
    auditor = client(site, "auditor")
    token = csrf_token(auditor)
    assert auditor.post("/measures/aims/2/flags", data={"month": "2024-05", "csrf_token": token}
                        ).status_code == 403
    assert auditor.post("/measures/aims/2/settings", data={"csrf_token": token}).status_code == 403
    owner = client(site, "owner")
    assert owner.post("/measures/aims/2/flags", data={"month": "2024-05"}).status_code == 400


# -- figures --------------------------------------------------------------------------------
def test_aim_page_figures_chart_data_and_team_scope(site):
    manager = text(client(site, "manager").get(f"/measures/aims/2?on={ON}"))
    data = json.loads(re.search(r'<script type="application/json" id="run-chart-data">(.*?)</script>',
                                manager, re.S).group(1))
    # 13 north children decided (every third late: 5 late, 8 on time), N13 overdue, S00
    # overdue, S01 on time: 9 on time of 14 decided plus 2 overdue = 56.25%
    assert re.search(r'data-testid="headline">56%', manager)
    assert data["labels"][0] == "2024-08" and len(data["labels"]) == 14
    assert data["target"] == 75.0 and data["median"] is not None
    assert len(data["values"]) == len(data["signals"]) == 14
    north = text(client(site, "tl.north").get(f"/measures/aims/2?on={ON}"))
    assert re.search(r'data-testid="headline">57%', north)  # 8 of 13 decided + 1 overdue
    south = text(client(site, "tl.south").get(f"/measures/aims/2?on={ON}"))
    assert re.search(r'data-testid="headline">50%', south)
    # a team-scoped user cannot widen the scope with ?team=
    widened = text(client(site, "tl.south").get(f"/measures/aims/2?on={ON}&team=north"))
    assert re.search(r'data-testid="headline">50%', widened)
    picked = text(client(site, "manager").get(f"/measures/aims/2?on={ON}&team=south"))
    assert re.search(r'data-testid="headline">50%', picked)


def test_drill_down_lists_only_the_users_team(site):
    manager = text(client(site, "manager").get(f"/measures/aims/2/children?status=overdue&on={ON}"))
    assert "N13" in manager and "S00" in manager
    north = text(client(site, "tl.north").get(f"/measures/aims/2/children?status=overdue&on={ON}"))
    assert "N13" in north and "S00" not in north
    assert f'/children/{site["ids"]["N13"]}' in north
    month = text(client(site, "tl.north").get(f"/measures/aims/2/children?month=2024-08&on={ON}"))
    assert "N00" in month and "N01" not in month
    assert client(site, "tl.north").get("/measures/aims/2/children?status=nonsense").status_code == 404
    assert client(site, "tl.north").get("/measures/aims/2/children?month=1999-01").status_code == 404


def test_aim1_page_shows_the_review_outcomes(site):
    page = text(client(site, "manager").get(f"/measures/aims/1?on={ON}"))
    assert re.search(r'data-testid="headline">50%', page)
    assert "Terminate the CSO" in page


def test_csv_downloads_carry_the_definition_and_suppress_small_numbers(site):
    response = client(site, "manager").get(f"/measures/aims/2.csv?on={ON}")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(text(response))))
    assert rows[1][0].startswith("Definition version")
    header = next(i for i, r in enumerate(rows) if r and r[0] == "cohort_month")
    total = dict(zip(rows[header], rows[-1]))
    assert (total["on_time"], total["late"], total["overdue_undecided"]) == ("9", "5", "2")
    published = list(csv.reader(io.StringIO(text(client(site, "manager").get(
        f"/measures/aims/2.csv?on={ON}&publication=1")))))
    ptotal = dict(zip(published[header], published[-1]))
    # 2 overdue withheld; the 5 late are five months of 1 each, so a total of 5 printed
    # would tell a reader that every one of those months had exactly one: withheld too
    assert (ptotal["on_time"], ptotal["late"], ptotal["overdue_undecided"]) == ("9", "[c]", "[c]")
    assert_aim_table_safe(rows, published)


def test_svg_chart_download(site):
    response = client(site, "manager").get(f"/measures/aims/2.svg?on={ON}")
    assert response.mimetype == "image/svg+xml"
    svg = text(response)
    assert svg.startswith("<svg") and svg.count("<circle") == 14
    assert "Median" in svg and "Target 75.0%" in svg


def test_stage_delays_page_and_version_comparison(site):
    page = text(client(site, "manager").get(f"/measures/stages?on={ON}&before=1&after=1"))
    assert "Looked after and accommodated → Planning meeting" in page
    assert 'data-testid="comparison"' in page
    ranges = text(client(site, "manager").get(
        "/measures/stages?from1=2024-01-01&to1=2024-06-30&from2=2024-07-01&to2=2025-12-31"))
    assert "stages started 01 Jan 2024 to 30 Jun 2024" in ranges


# -- forms ----------------------------------------------------------------------------------
def test_pdsa_cycle_is_recorded_and_annotates_the_chart(site):
    manager = client(site, "manager")
    bad = manager.post("/measures/pdsa/new", data={
        "aim": "2", "change_idea": "", "cycle_number": "1", "csrf_token": csrf_token(manager)})
    assert bad.status_code == 400 and "describe the change idea" in text(bad)
    good = manager.post("/measures/pdsa/new", data={
        "aim": "2", "change_idea": "Two-week review", "cycle_number": "1",
        "start_date": "2024-09-02", "prediction": "Earlier decisions", "act": "adopt",
        "model_version": "1", "csrf_token": csrf_token(manager)})
    assert good.status_code == 302
    with site["db"].transaction() as session:
        cycle = session.scalars(select(PdsaCycle)).one()
        assert (cycle.process_id, cycle.model_version, cycle.created_by) == (PERMANENCE, 1, "manager")
    page = text(manager.get(f"/measures/aims/2?on={ON}"))
    data = json.loads(re.search(r'id="run-chart-data">(.*?)</script>', page, re.S).group(1))
    assert [(a["kind"], a["month"]) for a in data["annotations"] if a["kind"] == "pdsa"] == \
        [("pdsa", "2024-09")]
    assert "PDSA: Two-week review (cycle 1), adopt" in page
    edit = manager.post(f"/measures/pdsa/{cycle.id}", data={
        "aim": "2", "change_idea": "Two-week review", "cycle_number": "1",
        "start_date": "2024-09-02", "end_date": "2024-08-01", "csrf_token": csrf_token(manager)})
    assert edit.status_code == 400 and "end date must be on or after" in text(edit)


def test_settings_change_moves_the_figures_and_is_audited(site):
    owner = client(site, "owner")
    bad = owner.post("/measures/aims/3/settings", data={
        "wording": "x", "target_pct": "60", "threshold": "thirty weeks",
        "csrf_token": csrf_token(owner)})
    assert bad.status_code == 400 and "cannot read the threshold" in text(bad)
    before = text(client(site, "manager").get(f"/measures/aims/3?on={ON}"))
    response = owner.post("/measures/aims/3/settings", data={
        "wording": "60% ratified within 2 weeks", "target_pct": "60", "threshold": "2w",
        "max_age": "", "start_date": "", "end_date": "", "csrf_token": csrf_token(owner)})
    assert response.status_code == 302
    after = text(client(site, "manager").get(f"/measures/aims/3?on={ON}"))
    assert "60% ratified within 2 weeks" in after and "2 weeks" in after
    assert before != after
    with site["db"].transaction() as session:
        assert session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "aim_settings_changed")).all()


def test_flagging_an_astronomical_point(site):
    owner = client(site, "owner")
    response = owner.post("/measures/aims/2/flags", data={
        "month": "2024-10", "note": "Court strike", "csrf_token": csrf_token(owner)})
    assert response.status_code == 302
    page = text(client(site, "manager").get(f"/measures/aims/2?on={ON}"))
    assert "October 2024: Court strike" in page
    data = json.loads(re.search(r'id="run-chart-data">(.*?)</script>', page, re.S).group(1))
    assert "Flagged as unusual" in data["signals"][data["labels"].index("2024-10")]
    owner.post("/measures/aims/2/flags", data={"month": "2024-10", "remove": "1",
                                               "csrf_token": csrf_token(owner)})
    assert "Court strike" not in text(client(site, "manager").get(f"/measures/aims/2?on={ON}"))
