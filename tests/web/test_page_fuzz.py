"""Every page's GET route holds under odd query strings: never a 5xx (issue 30).

The routes come from the app's URL map (tests/web/page_routes.py: a page added later is
fuzzed without touching this file), with path arguments filled by real records, each
requested as the first demo user whose roles open it. Every route first gets the cases an
outside probe reported as 500s (a NUL in a filter, ``page=99999999999999999999``,
``on=0001-01-01``, a line break in ``next``), then Hypothesis sends random query strings:
several known parameters at once with huge or negative integers, dates from year 1 to 9999,
months, words the pages know; one parameter holding anything, control characters included;
raw percent-encoded bytes (broken UTF-8, encoded NULs). Any answer but a server error will
do, and every header must be one a WSGI server can send (Latin-1, one line). Bounded: a few
examples per route, derandomized, no example database. Text path arguments (a process id,
a username, a team code) get NULs, line breaks and broken UTF-8 too.
"""
from __future__ import annotations

import os
import re
import string
from datetime import date
from urllib.parse import quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from workflows.demo import scotland as demo

from .api_client import api, assert_error
from .conftest import cached_client, post
from .page_routes import first_user, page_rules, path

# Random examples per route and database, after the explicit ones below; more for a deeper
# run by hand: PACE_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/web/test_page_fuzz.py
EXAMPLES = int(os.environ.get("PACE_FUZZ_EXAMPLES", "4"))
# Every query parameter some page reads, so that generated ones reach the pages' parsing.
NAMES = ("page", "q", "child", "task", "process", "status", "sort", "on", "team", "clock",
         "show", "group", "from1", "to1", "from2", "to2", "before", "after", "baseline_from",
         "baseline_to", "denominator", "month", "publication", "format", "since", "until",
         "instance", "element", "view", "error", "profile", "next", "role", "username",
         # the GOV.UK date boxes of the measures filters (web/shared/date_parts.py)
         "on-day", "on-month", "on-year", "from1-day", "to2-year", "baseline_from-month",
         "baseline_to-year")

INTEGER = st.one_of(st.integers(-10**30, 10**30), st.integers(-3, 3)).map(str)
DAY = st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat)
MONTH = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(0, 13))
WORD = st.sampled_from(("1", "2", "all", "csv", "json", "decided", "ranges", "adm", "unread",
                        "north", "cso_home_review", "overdue", "-due", "scotland", "", "#1"))
PRINTABLE = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=40)
ANYTHING = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
NAME = st.one_of(st.sampled_from(NAMES), st.text(string.ascii_lowercase + "_", max_size=8))
QUERY = st.one_of(
    st.dictionaries(NAME, st.one_of(INTEGER, DAY, MONTH, WORD, PRINTABLE), max_size=8)
    .map(urlencode),
    st.tuples(NAME, st.one_of(ANYTHING, INTEGER, DAY)).map(lambda pair: urlencode([pair])),
    st.lists(st.tuples(st.sampled_from(NAMES), st.binary(max_size=12)), max_size=4).map(
        lambda pairs: "&".join(f"{k}={quote_from_bytes(v)}" for k, v in pairs)),
)
RULES = page_rules()


@pytest.fixture
def shared(shared_world):
    return shared_world


def _sendable(response) -> None:
    for header, value in response.headers.items():
        value.encode("latin-1")  # what a WSGI server must send
        assert "\n" not in value and "\r" not in value, header


@pytest.mark.xdist_group("page-fuzz")
@pytest.mark.parametrize("rule", RULES)
def test_no_query_string_makes_a_page_fail(shared, rule):
    url = path(shared, rule)
    client = cached_client(shared, first_user(shared, url))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(query=QUERY)
    @example(query="q=a%00b&child=a%00b&task=a%00b&process=a%00b&status=a%00b")
    @example(query="page=99999999999999999999")
    @example(query="on=0001-01-01&since=0001-01-01&month=0000-01&from1=0001-01-01"
                   "&to1=0001-01-02&from2=9999-12-30&to2=9999-12-31&group=ranges")
    @example(query="next=/x%0D%0ALocation:%20//evil&instance=99999999999&before=9999999999999"
                   "&after=99999999999999")
    def check(query):
        response = client.get(f"{url}?{query}")
        assert response.status_code < 500, f"GET {url}?{query} -> {response.status_code}"
        _sendable(response)
    check()


@pytest.mark.parametrize("query, words", [
    ("page=99999999999999999999", "‘page’ in the web address must be a whole number from 1 to "
                                  "100,000"),
    ("q=a%00b", "‘q’ in the web address holds a line break or another control character"),
    ("child=R1%0D%0ABcc:x", "‘child’ in the web address holds a line break"),
])
def test_the_400_page_says_what_was_wrong(shared, query, words):
    response = cached_client(shared, "sw.north").get(
        f"/{'children' if query.startswith(('q', 'page')) else 'my-work'}?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "There is a problem with the web address" in page
    assert words in page.replace("&#39;", "'"), page[-2000:]


def test_out_of_range_dates_and_ids(shared):
    manager = cached_client(shared, "manager")
    page = manager.get("/measures/forecast?on=0001-01-01")
    assert page.status_code == 400 and "a date from 1 January 1900 to 31 December 2999" in \
        page.get_data(as_text=True)
    assert manager.get("/measures/forecast?on=2999-12-31").status_code == 200
    assert manager.get("/children/99999999999999999999").status_code == 404  # not an overflow
    assert manager.get(f"/children/{2**31}").status_code == 404


def test_a_line_break_in_next_after_sign_in_goes_to_the_start_page(shared):
    response = post(shared.app.test_client(), "/sign-in", {
        "username": "sw.north", "password": demo.DEMO_PASSWORD,
        "next": "/children\r\nSet-Cookie: x=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/my-work"
    _sendable(response)


@pytest.mark.parametrize("query, field", [
    ("/children?q=R1%0D%0ABcc:x", "q"), ("/queues/team?child=a%01b", "child"),
    ("/queues/team?task=a%00b", "task"), ("/children?page=99999999999999999999", "page"),
    ("/process-models?process_id=a%0Ab", "process_id"),
    ("/measures/aims/2?on=0001-01-01", "on"), ("/measures/aims/2/children?month=0000-01", "month"),
    ("/measures/stage-delays?before=99999999999&after=1", "before"),
])
def test_the_api_refuses_the_same_in_json(shared, query, field):
    assert_error(api(shared, "manager").get(f"/api/v1{query}"), 422, field)


ODD_SEGMENTS = ("a%00b", "a%0D%0Ab", "%FF%FE", "x" * 300, "%2E%2E", "%C2%85")


@pytest.mark.xdist_group("page-fuzz")
@pytest.mark.parametrize("rule", [r for r in RULES if re.search(r"<(?!int)", r)])
def test_no_path_segment_makes_a_page_fail(shared, rule):
    """Text path arguments (a process id, a username, a team code) get NULs, line breaks,
    broken UTF-8 and long text; a control character does not match the route (a 404)."""
    client = cached_client(shared, first_user(shared, path(shared, rule)))
    for odd in ODD_SEGMENTS:
        url = path(shared, rule, text=odd)
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} -> {response.status_code}"
        if "%00" in odd or "%0D" in odd:
            assert response.status_code == 404, url
