"""Every CSV the service hands out opens in a spreadsheet as text, never as a formula.

A child named ``=HYPERLINK("http://x","Open")`` (reference ``@N0099``) is on the permanence
journey and an upload has the same name in a rejected row. Every CSV route of the pages
(each ``*.csv`` in the URL map, and the audit exports as CSV) is downloaded by a user who
may open it, and no cell may start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return unless it is a plain number; where the child is named, the name is there with the
apostrophe that makes it text. The command line's CSV (``pace audit export``) and the
SSDA903 files go through the same writer (engine/csv_cells.py): checked below too.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest

from engine import csv_cells
from engine.csv_cells import FORMULA_START
from workflows.returns import ssda903_format as england_export

from .journeys import child_at
from .page_routes import IMPORT_REJECTED_NAME, first_user, page_rules, path, records
from .conftest import cached_client

NAME = '=HYPERLINK("http://x","Open")'
REFERENCE = "@N0099"
NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?%?")
CSV_ROUTES = [rule for rule in page_rules() if rule.endswith(".csv")] + [
    "/audit/export?format=csv", "/audit/children/<int:subject_id>/export?format=csv"]
NAMING = {"/measures/forecast.csv": (REFERENCE, NAME),
          "/import/jobs/<int:job_id>/rejects.csv": ("-F1", IMPORT_REJECTED_NAME)}


@pytest.fixture(scope="module")
def site(shared_world):
    if "formula" not in shared_world.children:
        subject_id, _ = child_at(shared_world.database, REFERENCE, "north", "legal_referral",
                                 date.today() - timedelta(weeks=27), name=NAME)
        shared_world.children["formula"] = subject_id
        records(shared_world)
    return shared_world


def cells(text: str) -> list[str]:
    return [value for row in csv.reader(io.StringIO(text)) for value in row]


def runnable(value: str) -> bool:
    return value.startswith(FORMULA_START) and not NUMBER.fullmatch(value)


@pytest.mark.parametrize("rule", CSV_ROUTES)
def test_no_csv_cell_runs_as_a_formula(site, rule):
    url = path(site, rule.replace("<int:subject_id>", str(site.children["formula"])))
    response = cached_client(site, first_user(site, url)).get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv", url
    found = cells(response.get_data(as_text=True))
    assert found, url
    assert [c for c in found if runnable(c)] == [], url
    for value in NAMING.get(rule, ()):
        assert "'" + value in found, (url, value)


def test_every_csv_route_of_the_pages_is_listed():
    """A new CSV page is found by the URL map; this says which ones name children."""
    assert set(NAMING) <= set(CSV_ROUTES)
    assert "/measures/forecast.csv" in CSV_ROUTES and len(CSV_ROUTES) >= 9


@pytest.mark.parametrize("value, written", [
    (NAME, "'" + NAME), ("+44 7700 900123", "'+44 7700 900123"), ("-F1", "'-F1"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("'=x", "''=x"),
    ("-12", "-12"), ("+1.5", "+1.5"), ("-3%", "-3%"), (-4, "-4"), ("O'Brien", "O'Brien"),
    ("", ""), (None, ""), ("plain", "plain")])
def test_cells_are_neutralised_and_read_back_exactly(value, written):
    assert csv_cells.cell(value) == written
    assert csv_cells.uncell(written) == ("" if value is None else str(value))


def test_ssda903_files_use_the_same_writer():
    text = england_export.to_csv([{"CHILD": NAME, "SEX": "1"}], ["CHILD", "SEX"])
    assert cells(text) == ["CHILD", "SEX", "'" + NAME, "1"]
