"""Time to decision and breach forecast pages, and every measure's CSV export: each opens
with its versioned definitions and, for publication, suppresses counts of 1 to 4."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest

from tests.unit.published import (assert_aim_table_safe, assert_nothing_small_recoverable,
                                  table)
from workflows.measures import publication
from workflows.measures.disclosure import MARK as M

from .measures_site import ON, client, text

USERS = ["anonymous", "sw.north", "tl.north", "chair", "manager", "owner", "auditor", "admin"]
MATRIX = {
    # anon sw.n tl.n chair mgr owner audit admin
    "/measures/survival":              "302 403 200 403 200 200 200 200",
    "/measures/survival.csv":          "302 403 200 403 200 200 200 200",
    "/measures/forecast":              "302 403 200 403 200 403 200 403",
    "/measures/forecast.csv":          "302 403 200 403 200 403 200 403",
    "/measures/stages.csv":            "302 403 200 403 200 200 200 200",
    "/measures/aims/2/run-chart.csv":  "302 403 200 403 200 200 200 200",
    "/measures/aims/1/outcome-mix.csv": "302 403 200 403 200 200 200 200",
    "/measures/aims/9/run-chart.csv":  "302 403 404 403 404 404 404 404",
}


@pytest.mark.parametrize("url, user, status", [
    (url, user, int(statuses.split()[i])) for url, statuses in MATRIX.items()
    for i, user in enumerate(USERS)])
def test_who_sees_what(site, url, user, status):
    assert client(site, user).get(url).status_code == status


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(text(response))))


EXPORTS = {  # url -> definitions it must print
    "/measures/aims/2.csv": ["aim2"],
    "/measures/aims/2/run-chart.csv": ["aim2", "run_chart"],
    "/measures/aims/1/outcome-mix.csv": ["aim1", "outcome_mix"],
    "/measures/stages.csv": ["stage_delays"],
    "/measures/survival.csv": ["survival"],
    "/measures/forecast.csv": ["forecast"],
}


@pytest.mark.parametrize("url", sorted(EXPORTS))
@pytest.mark.parametrize("for_publication", [False, True])
def test_every_export_prints_its_versioned_definitions(site, url, for_publication):
    query = f"?on={ON}" + ("&publication=1" if for_publication else "")
    rows = rows_of(client(site, "manager").get(url + query))
    head = "\n".join(r[0] for r in rows[:12] if r)
    for key in EXPORTS[url]:
        d = publication.definition(key)
        assert f"Definition version {d.version}" in head and d.text in head, key
    assert ("Small numbers (1-4) suppressed" in head) is for_publication


def test_publication_suppresses_small_counts(site):
    manager = client(site, "manager")
    mix = rows_of(manager.get(f"/measures/aims/1/outcome-mix.csv?on={ON}"))
    published = rows_of(manager.get(f"/measures/aims/1/outcome-mix.csv?on={ON}&publication=1"))
    assert ["terminate", "Terminate the CSO", "1", "100.0"] in mix
    assert ["terminate", "Terminate the CSO", M, M] in published
    assert ["total", "Reviews done", M, ""] in published  # 1 review: the total is the count
    stages = rows_of(manager.get(f"/measures/stages.csv?on={ON}&publication=1"))
    south_stage = next(r for r in stages if r[:3] == ["all", "LA_START", "PERM_RECOMMENDATION"])
    assert south_stage[4:] == [M, M, M]
    forecast = text(manager.get(f"/measures/forecast.csv?on={ON}&publication=1"))
    assert "Child N13" not in forecast and M in forecast
    assert "Child N13" in text(manager.get(f"/measures/forecast.csv?on={ON}"))
    chart = rows_of(manager.get(f"/measures/aims/2/run-chart.csv?on={ON}&publication=1"))
    header = chart.index(["month", "value", "numerator", "denominator", "in_baseline", "signals"])
    assert all(r[1] == M and r[3] == M for r in chart[header + 1:header + 15])


@pytest.mark.parametrize("url", ["/measures/aims/1.csv", "/measures/aims/2.csv",
                                 "/measures/aims/3.csv"])
def test_no_published_aim_table_gives_a_small_count_away(site, url):
    """Downloaded as a council would publish it, then solved as a reader could."""
    manager = client(site, "manager")
    internal = rows_of(manager.get(f"{url}?on={ON}"))
    published = rows_of(manager.get(f"{url}?on={ON}&publication=1"))
    assert_aim_table_safe(internal, published)


def test_published_forecast_counts_per_team_give_no_small_count_away(site):
    manager = client(site, "manager")
    internal = table(rows_of(manager.get(f"/measures/forecast.csv?on={ON}")), "team")
    published = table(rows_of(manager.get(f"/measures/forecast.csv?on={ON}&publication=1")),
                      "team")
    assert len(internal) == len(published) > 0
    parts = ("missed", "forecast_to_be_missed", "on_track", "no_pace_known")
    for truth_row, row in zip(internal, published):
        truth = {k: int(truth_row[k]) for k in ("open", *parts)}
        printed = {k: None if row[k] == M else int(row[k]) for k in truth}
        assert_nothing_small_recoverable(printed, [("open", parts)], truth)


def test_survival_page_draws_the_curve_from_its_data(site):
    page = text(client(site, "manager").get(f"/measures/survival?on={ON}"))
    data = json.loads(re.search(r'id="survival-chart-data">(.*?)</script>', page, re.S).group(1))
    [curve] = data["curves"]
    assert curve["label"] == "All children (16 children)" and data["threshold_weeks"] == 30
    assert curve["points"][0] == {"x": 0, "y": 100.0}
    assert {"x": 26.0, "y": 43.8} in curve["points"]  # 7/16 still waiting after 182 days
    assert "js/survival.mjs" in page and "182 days (26.0 weeks)" in page
    bad = text(client(site, "manager").get("/measures/survival?group=ranges&from1=2024-01-01"))
    assert "Enter both date ranges" in bad


def test_forecast_page_lists_only_the_team_leaders_children(site):
    north = text(client(site, "tl.north").get(f"/measures/forecast?on={ON}"))
    assert "Child N13" in north and "Child S00" not in north
    everyone = text(client(site, "manager").get(f"/measures/forecast?on={ON}"))
    assert "Child N13" in everyone and "Child S00" in everyone
    only_adm = text(client(site, "manager").get(f"/measures/forecast?on={ON}&clock=adm"))
    assert "Child N13" not in only_adm and "ADM decision" in only_adm


PINNED = {  # key: (version, first 12 hex digits of the SHA-256 of the wording)
    "run_chart": ("1", "93351e03ac06"), "outcome_mix": ("1", "1b44a22793cf"),
    "stage_delays": ("1", "5c091c39d062"), "survival": ("2", "99aadf68ff08"),
    "forecast": ("2", "d8afea7dc8db"),
}


def test_definition_texts_are_pinned_to_their_versions():
    """A published figure is comparable only under the same definition: changing a
    definition's wording must come with a new version (then update PINNED)."""
    found = {d.key: (d.version, hashlib.sha256(d.text.encode()).hexdigest()[:12])
             for d in publication.all_definitions() if d.key in PINNED}
    assert found == PINNED
