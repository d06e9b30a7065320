"""The measures pages speak plain words: each says which figure is the aim's, statistical
terms are said in words ("children still waiting are counted up to today"), no milestone
codes; "on time" on the child page and in the aims do not mean two things under one name.
On the Measures pages' constructed caseload (measures_site.py), both databases."""
from __future__ import annotations

import re

import pytest

from .measures_site import ON, client, text

PAGES = ["/measures", "/measures/aims/1", "/measures/aims/2", "/measures/aims/3",
         "/measures/stages", "/measures/survival", "/measures/survival?group=version",
         "/measures/forecast", "/measures/data-quality", "/measures/pdsa"]
HARD = re.compile(r"censor|log-rank|logrank|lifelines|astronomical|kaplan|"
                  r"\b(LA_START|PERM_RECOMMENDATION|CSO_START|AIM1_REVIEW|INITIAL_LAR|ADM_DECISION)\b",
                  re.I)


def _visible(html: str) -> str:
    """The words a reader sees: no scripts, no tags; what is marked for statisticians (the
    published definition, folded away; the test statistic after a comparison already said
    in words) is left out."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    html = re.sub(r'<span class="govuk-body-s app-for-statisticians">.*?</span>', " ", html,
                  flags=re.S)
    html = re.sub(r'<details class="govuk-details app-for-statisticians">.*?</details>', " ",
                  html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("path", PAGES)
def test_no_statistical_jargon_or_codes(site, path):
    sep = "&" if "?" in path else "?"
    response = client(site, "manager").get(f"{path}{sep}on={ON}")
    assert response.status_code == 200
    seen = _visible(text(response))
    found = [seen[max(0, m.start() - 60):m.end() + 20] for m in HARD.finditer(seen)]
    assert not found, f"{path}: {found}"


@pytest.mark.parametrize("aim", [1, 2, 3])
def test_each_aim_page_says_which_figure_is_the_aims(site, aim):
    page = _visible(text(client(site, "manager").get(f"/measures/aims/{aim}?on={ON}")))
    assert re.search(r"The aim's figure is the first one under Result: \d+% of", page)
    assert "against a target of" in page
    assert "on time among" not in page.lower()


def test_the_dashboard_names_the_aims_figure(site):
    page = _visible(text(client(site, "manager").get(f"/measures?on={ON}")))
    assert "Each aim's figure is in the Result column" in page
    assert "Result (the aim's figure)" in page


def test_survival_says_children_still_waiting_are_counted_up_to_today(site):
    html = text(client(site, "manager").get(f"/measures/survival?on={ON}"))
    assert "Children still waiting are counted up to today" in _visible(html)
    assert "The exact definition, for statisticians" in html  # folded away, not gone


def test_the_child_page_says_planned_date_not_on_time(site):
    child = site["ids"]["N01"]
    page = _visible(text(client(site, "manager").get(f"/children/{child}")))
    assert "On time" not in page
