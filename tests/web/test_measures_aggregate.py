"""The national programme's aggregate export on both databases: the API's JSON and CSV and
``pace measures export --aggregate`` give the same rows (one service), in the documented
format, with small numbers suppressed and no child named; who may have it."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from engine.models import ProcessModel, Subject, UserAccount
from workflows.measures import aggregate
from workflows.measures.disclosure import MARK
from workflows.services import pdsa_cycles
from workflows.vocabulary import PERMANENCE

from .api_client import api, assert_error
from .journeys import World
from .measures_site import ON

P = "/api/v1/measures/aggregate"


@dataclass(frozen=True)
class Actor:  # the shape workflows.policy.Actor describes
    id: int
    username: str
    roles: tuple[str, ...]
    team: str | None


@pytest.fixture(scope="module")
def world(site):
    """The measures' caseload with the permanence journey deployed in June 2023 and a PDSA
    cycle of Aim 2 begun in May 2024."""
    world = World(site["db"], site["app"])
    with world.database.transaction() as session:
        session.execute(update(ProcessModel).where(ProcessModel.process_id == PERMANENCE)
                        .values(deployed_at=datetime(2023, 6, 1, tzinfo=timezone.utc)))
        owner = session.scalars(select(UserAccount).where(UserAccount.username == "owner")).one()
        pdsa_cycles.record(session, Actor(owner.id, owner.username, tuple(owner.roles),
                                          owner.team), "default",
                           {"aim": 2, "change_idea": "Legal referral at 20 weeks",
                            "start_date": "2024-05-06"})
    return world


def test_the_export_in_the_documented_format(world):
    body = _ok(api(world, "manager").get(f"{P}?on={ON}")).get_json()
    assert (body["format"], body["format_version"]) == ("pace-flow-aggregate", "1")
    assert body["council"] == "default" and body["measured_on"] == ON
    assert body["suppression"].startswith("Small numbers (1-4) suppressed")
    aims = {row["aim"] for row in body["rows"]}
    assert aims == {1, 2, 3}
    aim2 = {row["month"]: row for row in body["rows"] if row["aim"] == 2}
    # every aim 2 cohort month rests on one or two children: nothing but zeros printed
    cohorts = _ok(api(world, "manager").get(f"/api/v1/measures/aims/2?on={ON}")).get_json()
    # May 2024 has no deadline, but a PDSA cycle began in it: a row of 0 of 0
    assert list(aim2) == sorted(["2024-05", *(c["month"] for c in cohorts["cohorts"])])
    assert {k: aim2["2024-05"][k] for k in ("numerator", "denominator", "percentage",
                                             "complete", "withheld")} == {
        "numerator": 0, "denominator": 0, "percentage": None, "complete": True, "withheld": []}
    for c in cohorts["cohorts"]:
        row, tally = aim2[c["month"]], c["tally"]
        numerator, denominator = tally["on_time"], tally["due"]
        small_rest = 0 < denominator - numerator < 5  # those not on time: never printed
        assert row["numerator"] == (None if numerator and (numerator < 5 or small_rest)
                                    else numerator), c["month"]
        assert row["denominator"] == (None if 0 < denominator < 5 else denominator)
        assert row["percentage"] is None
        assert row["target_pct"] == 75.0 and row["diagram_version"] == 1
    assert aim2["2024-12"]["pdsa_cycles"] == []
    may = [row for row in body["rows"] if row["pdsa_cycles"]]
    assert [(r["aim"], r["pdsa_cycles"]) for r in may] == \
        [(2, ["Legal referral at 20 weeks (cycle 1)"])] and may[0]["month"] == "2024-05"
    assert {frozenset(r["withheld"]) for r in body["rows"]} <= {
        frozenset(), frozenset({"numerator", "percentage"}),
        frozenset({"denominator", "percentage"}),  # none on time of 1 to 4
        frozenset({"numerator", "denominator", "percentage"})}


def test_the_csv_and_the_command_line_give_the_same_rows_and_name_no_child(world):
    response = _ok(api(world, "manager").get(f"{P}.csv?on={ON}"))
    assert response.mimetype == "text/csv" and "attachment" in response.headers[
        "Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == list(aggregate.COLUMNS)
    assert {r[0] for r in rows[1:]} == {"1"} and MARK in {r[6] for r in rows[1:]}
    body = _ok(api(world, "manager").get(f"{P}?on={ON}")).get_json()
    assert [(int(r[3]), r[4]) for r in rows[1:]] == [(r["aim"], r["month"])
                                                      for r in body["rows"]]
    runner = world.app.test_cli_runner()
    done = runner.invoke(args=["measures", "export", "--aggregate", "--on", ON])
    assert done.exit_code == 0, done.output
    assert list(csv.reader(io.StringIO(done.output))) == rows
    as_json = runner.invoke(args=["measures", "export", "--aggregate", "--on", ON,
                                  "--format", "json"])
    assert as_json.exit_code == 0 and json.loads(as_json.output)["rows"] == body["rows"]
    with world.database.transaction() as session:
        children = session.scalars(select(Subject)).all()
    text = response.get_data(as_text=True) + as_json.output
    assert children and not [c for c in children if c.reference in text.split(",")
                             or c.display_name in text]


def test_who_may_have_it(world):
    assert _ok(api(world, "auditor").get(f"{P}?on={ON}")).is_json
    assert _ok(api(world, "owner").get(f"{P}.csv?on={ON}")).mimetype == "text/csv"
    assert_error(api(world, "tl.north").get(f"{P}?on={ON}"), 403)  # one team's figures only
    assert_error(api(world, "tl.north").get(f"{P}.csv?on={ON}"), 403)
    assert_error(api(world, "sw.north").get(f"{P}?on={ON}"), 403)
    assert api(world, None).get(f"{P}?on={ON}").status_code == 401


@pytest.mark.parametrize("query", ["on=2026-02-30", "on=yesterday", "on=1899-12-31"])
def test_a_bad_date_is_a_clear_error(world, query):
    assert_error(api(world, "manager").get(f"{P}?{query}"), 422, "on")
    assert_error(api(world, "manager").get(f"{P}.csv?{query}"), 422, "on")


@pytest.mark.parametrize("args, message", [
    (["--on", "2026-02-30"], "is not a date"),
    (["--on", "1899-12-31"], "1900-01-01"),
    (["--format", "xml"], "xml"),
])
def test_the_command_refuses_bad_options_without_a_traceback(world, args, message):
    done = world.app.test_cli_runner().invoke(args=["measures", "export", "--aggregate", *args])
    assert done.exit_code == 2 and message in done.output and "Traceback" not in done.output


def test_the_command_needs_to_be_told_it_is_the_aggregate(world, tmp_path):
    runner = world.app.test_cli_runner()
    done = runner.invoke(args=["measures", "export"])
    assert done.exit_code == 2 and "--aggregate" in done.output
    target = tmp_path / "aggregate.csv"
    done = runner.invoke(args=["measures", "export", "--aggregate", "--on", ON,
                               "--output", str(target)])
    assert done.exit_code == 0
    assert target.read_text(encoding="utf-8").splitlines()[0] == ",".join(aggregate.COLUMNS)


def _ok(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return response

