"""The measures filters use the GOV.UK date pattern (day, month and year boxes; a month
filter has month and year), and a date typed wrong is named in a clear 400 page, never a 500.
On the Measures pages' constructed caseload (measures_site.py), both databases."""
from __future__ import annotations

import re

import pytest

from .measures_site import ON, client, text


def test_the_filters_are_govuk_date_inputs_filled_with_the_date_shown(site):
    page = text(client(site, "manager").get(f"/measures/aims/2?on={ON}"))
    assert 'type="date"' not in page and 'type="month"' not in page
    for part, value in (("day", "15"), ("month", "1"), ("year", "2026")):
        assert re.search(rf'name="on-{part}" type="text" inputmode="numeric" autocomplete="off" '
                         rf'value="{value}"', page)
    assert 'name="baseline_from-month"' in page and 'name="baseline_from-day"' not in page
    stages = text(client(site, "manager").get("/measures/stages"))
    assert all(f'name="{k}-day"' in stages for k in ("from1", "to1", "from2", "to2"))
    assert 'class="govuk-date-input"' in stages


def test_typed_boxes_give_the_same_figures_as_the_link(site):
    manager = client(site, "manager")
    typed = text(manager.get("/measures/aims/2?on-day=15&on-month=1&on-year=2026"))
    linked = text(manager.get(f"/measures/aims/2?on={ON}"))
    headline = re.compile(r'data-testid="headline">([^<]+)<')
    assert headline.search(typed)[1] == headline.search(linked)[1] == "56%"
    assert "as at 15 January 2026" in typed or "15 Jan 2026" in typed
    # the links the page writes carry the date typed
    assert f"on={ON}" in typed


def test_a_baseline_typed_as_month_and_year_moves_the_median(site):
    page = text(client(site, "manager").get(
        f"/measures/aims/2?on={ON}&baseline_from-month=8&baseline_from-year=2024"
        "&baseline_to-month=10&baseline_to-year=2024"))
    assert "the baseline Aug 2024 to Oct 2024" in page


@pytest.mark.parametrize("query, message", [
    ("on-day=31&on-month=2&on-year=2026",
     "Figures as at must be a real date: 31 February 2026 does not exist (February 2026 has "
     "28 days)."),
    ("on-day=29&on-month=2&on-year=2025", "29 February 2025 does not exist"),
    ("on-day=&on-month=2&on-year=2026", "Figures as at must include a day."),
    ("on-day=1&on-month=13&on-year=2026", "the month must be a number from 1 to 12"),
    ("on-day=1&on-month=x&on-year=2026", "the month must be a number"),
    ("on-day=1&on-month=2&on-year=26", "the year must have 4 numbers"),
    ("on-day=1&on-month=2&on-year=3001", "must be between 1900 and 2999"),
    ("baseline_from-month=2&baseline_from-year=", "Baseline from must include a year."),
])
def test_a_date_typed_wrong_is_named_in_a_400_page(site, query, message):
    response = client(site, "manager").get(f"/measures/aims/2?{query}")
    assert response.status_code == 400
    assert message in text(response)


def test_date_ranges_typed_into_boxes_compare_stages_and_survival(site):
    parts = ("from1-day=1&from1-month=1&from1-year=2024&to1-day=30&to1-month=6&to1-year=2024"
             "&from2-day=1&from2-month=7&from2-year=2024&to2-day=31&to2-month=12&to2-year=2025")
    stages = text(client(site, "manager").get(f"/measures/stages?on={ON}&{parts}"))
    assert "stages started 01 Jan 2024 to 30 Jun 2024 and 01 Jul 2024 to 31 Dec 2025" in stages
    survival = client(site, "manager").get(f"/measures/survival?on={ON}&group=ranges&{parts}")
    assert survival.status_code == 200
    assert "from1=2024-01-01" in text(survival)
    wrong = client(site, "manager").get(f"/measures/stages?{parts.replace('to1-day=30', 'to1-day=31')}")
    assert wrong.status_code == 400
    assert "First range to must be a real date: 31 June 2024 does not exist" in text(wrong)


def test_the_flag_form_takes_month_and_year_boxes(site):
    from .conftest import csrf_token
    owner = client(site, "owner")
    response = owner.post("/measures/aims/3/flags", data={
        "month-month": "11", "month-year": "2024", "note": "Court strike",
        "csrf_token": csrf_token(owner)}, follow_redirects=True)
    assert "November 2024 flagged as unusual." in text(response)
    owner.post("/measures/aims/3/flags", data={"month": "2024-11", "remove": "1",
                                               "csrf_token": csrf_token(owner)})
    wrong = owner.post("/measures/aims/3/flags", data={
        "month-month": "13", "month-year": "2024", "csrf_token": csrf_token(owner)},
        follow_redirects=True)
    assert wrong.status_code == 200 and "flagged as unusual." not in text(wrong)
