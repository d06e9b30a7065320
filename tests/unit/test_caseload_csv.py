"""The caseload CSV: reading, row validation and placement steps, without a database."""
from datetime import date
from pathlib import Path

import pytest

from workflows.caseload import (csv_rows as caseload_csv, importer as caseload_import,
                                sample as caseload_sample)
from workflows.caseload.csv_rows import FileError, parse_date, read_csv, validate
from workflows.caseload.steps import answers, steps

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
TODAY = date(2026, 11, 23)
TEAMS = {"north": "north", "children and families north": "north", "south": "south"}
WORKERS = {"sw.north": "sw.north", "sw2.north": "sw2.north", "sw.south": "sw.south"}


def check(*rows, today=TODAY):
    return validate(list(rows), today, TEAMS, WORKERS)


def errors_of(**cells):
    row = {"reference": "R1", "name": "Test Child", "team": "north"} | cells
    _, errors = check(row)
    return {(e.column, e.reason.split(":")[0].split(";")[0]) for e in errors}


def columns_of(**cells):
    return {column for column, _ in errors_of(**cells)}


ACC = {"legal_status": "accommodated", "LA_START": "2026-01-05"}


# -- reading ---------------------------------------------------------------------------
def test_header_is_forgiving_about_spelling_but_not_about_unknown_columns():
    data = "\ufeffReference,Name,DOB,Team,Legal Status,la_start,Last Aim1 Review,next-review\r\n" \
           "C1,Ava,2019-01-01,north,accommodated,2026-01-05,,\r\n".encode()
    (row,) = read_csv(data)
    assert row == {"reference": "C1", "name": "Ava", "date_of_birth": "2019-01-01",
                   "team": "north", "legal_status": "accommodated", "LA_START": "2026-01-05",
                   "AIM1_REVIEW": "", "next_review_date": ""}
    with pytest.raises(FileError, match="'PLANING_MTG' is not a caseload column"):
        read_csv(b"reference,name,team,legal_status,PLANING_MTG\n")
    with pytest.raises(FileError, match="required column.*name, team"):
        read_csv(b"reference,legal_status\n")
    with pytest.raises(FileError, match="LA_START appears twice"):
        read_csv(b"reference,name,team,legal_status,LA_START,la start\n")
    with pytest.raises(FileError, match="not UTF-8"):
        read_csv("reference,name,team,legal_status\nC1,Zo\u00eb,north,x\n".encode("cp1252"))
    with pytest.raises(FileError, match="empty"):
        read_csv(b"")


def test_short_rows_are_padded_and_long_rows_reported():
    rows = read_csv(b"reference,name,team,legal_status,LA_START\n"
                    b"C1,Ava,north,accommodated\nC2,Ben,north,accommodated,2026-01-05,oops\n")
    assert rows[0]["LA_START"] == ""
    children, errors = check(*rows)
    assert [c.reference for c in children] == []
    assert [(e.row, e.column) for e in errors] == [(2, "LA_START"), (3, "")]
    assert "more cells than the header" in errors[1].reason


def test_dates_in_iso_or_british_order():
    assert parse_date("2026-01-05") == parse_date("05/01/2026") == parse_date("5/1/2026") \
        == parse_date("05.01.2026") == parse_date("2026-01-05 00:00:00") == date(2026, 1, 5)
    with pytest.raises(ValueError, match="not a real date"):
        parse_date("31/02/2026")
    with pytest.raises(ValueError, match="write YYYY-MM-DD or DD/MM/YYYY"):
        parse_date("05/01/26")
    with pytest.raises(ValueError, match="not a date"):
        parse_date("Jan 5th")


# -- validation ------------------------------------------------------------------------
def test_a_clean_row_becomes_a_child():
    (child,), errors = check({"reference": " C1 ", "name": "Ava", "team": "Children and Families North",
                              "allocated_worker": "SW.North", "legal_status": "Accommodated",
                              "date_of_birth": "2019-01-01", "LA_START": date(2026, 1, 5),
                              "PLANNING_MTG": "07/01/2026"})
    assert errors == []
    assert (child.reference, child.team, child.worker, child.process_id, child.start) == \
        ("C1", "north", "sw.north", "permanence_journey", date(2026, 1, 5))
    assert child.dates == {"LA_START": date(2026, 1, 5), "PLANNING_MTG": date(2026, 1, 7)}


@pytest.mark.parametrize("cells, expected", [
    ({"team": "east"} | ACC, {("team", "unknown team 'east'")}),
    ({"allocated_worker": "nobody"} | ACC, {("allocated_worker", "unknown worker 'nobody'")}),
    ({"legal_status": "fostered"}, {("legal_status", "'fostered' is not a legal status")}),
    ({"legal_status": "accommodated"}, {("LA_START", "required for an accommodated child")}),
    (ACC | {"PLANNING_MTG": "2026-13-01"}, {("PLANNING_MTG", "'2026-13-01' is not a real date")}),
    (ACC | {"PLANNING_MTG": "2027-01-01"}, {("PLANNING_MTG", "2027-01-01 is in the future (today is 2026-11-23)")}),
    (ACC | {"PLANNING_MTG": "2026-01-07", "INITIAL_LAR": "2026-01-06"},
     {("INITIAL_LAR", "2026-01-06 is before PLANNING_MTG (2026-01-07)")}),
    (ACC | {"INITIAL_LAR": "2026-01-26"}, {("PLANNING_MTG", "blank, but a later step (INITIAL_LAR) has a date")}),
    ({"date_of_birth": "2026-02-01"} | ACC, {("date_of_birth", "after the start date")}),
    ({"name": ""} | ACC, {("name", "required")}),
    ({"reference": ""} | ACC, {("reference", "required")}),
    ({"reference": "R1\r\nBcc: x@example.org"} | ACC, {("reference", "must be one line of text")}),
    ({"name": "Ava\tSmith"} | ACC, {("name", "must be one line of text")}),
    ({"legal_status": "cso_home", "CSO_START": "2025-01-10", "LA_START": "2025-01-10"},
     {("LA_START", "an accommodated-journey date, but the legal status is cso_home")}),
    ({"legal_status": "cso_home", "CSO_START": "2025-01-10", "route": "home"},
     {("route", "only for accommodated children")}),
    ({"legal_status": "cso_home"}, {("CSO_START", "required for a child on a CSO at home")}),
    ({"legal_status": "cso_home", "CSO_START": "2025-01-10", "CSO_HEARING": "2026-01-10"},
     {("AIM1_REVIEW", "blank, but a later step (CSO_HEARING) has a date")}),
    ({"legal_status": "cso_home", "CSO_START": "2025-01-10", "AIM1_REVIEW": "2026-07-01",
      "aim1_recommendation": "vary", "next_review_date": "2027-01-01"}, {("next_review_date", "the next review is booked after the Hearing decides on the last one")}),
    ({"legal_status": "cso_home", "CSO_START": "2025-01-10", "next_review_date": "2024-01-01"},
     {("next_review_date", "before the last date in the row (2025-01-10)")}),
    ({"bogus": "x"} | ACC, {("bogus", "not a caseload column")}),
])
def test_each_problem_is_named_by_column_and_reason(cells, expected):
    assert errors_of(**cells) == expected


def test_route_rules():
    through_opinion = ACC | {"PLANNING_MTG": "2026-01-07", "INITIAL_LAR": "2026-01-26",
                             "INTERIM_LAR": "2026-04-02", "LEGAL_REFERRAL": "2026-07-15",
                             "LEGAL_OPINION": "2026-07-30"}
    decided = through_opinion | {"PERM_RECOMMENDATION": "2026-08-03"}
    assert columns_of(**decided) == {"route"}
    assert columns_of(**decided, route="fostering") == {"route"}
    assert columns_of(**through_opinion, route="home") == {"PERM_RECOMMENDATION"}
    assert columns_of(**decided, route="home", CAPR="2026-09-01") == {"CAPR"}
    assert columns_of(**through_opinion, CAPR="2026-09-01") == {"CAPR"}
    assert columns_of(**decided, route="adoption", CAPR="2026-09-01") == {"order_sought"}
    assert columns_of(**decided, route="adoption", CAPR="2026-09-01", order_sought="adoption_order") == set()
    assert columns_of(**decided, route="kinship", order_sought="adoption_order") == {"order_sought"}
    assert columns_of(**decided, route="permanence_order", PANEL="2026-10-01") == {"CAPR"}
    assert columns_of(**decided, route="home", next_review_date="2026-12-01") == {"next_review_date"}
    # not yet decided: the undecided review and the review it booked
    assert columns_of(**through_opinion, route="not_decided") == {"last_undecided_lar"}
    assert columns_of(**through_opinion, last_undecided_lar="2026-08-03") == {"next_review_date"}
    assert columns_of(**through_opinion, last_undecided_lar="2026-08-03",
                      next_review_date="2026-10-05") == set()
    assert columns_of(**through_opinion, last_undecided_lar="2026-07-01",
                      next_review_date="2026-10-05") == {"last_undecided_lar"}
    assert columns_of(**ACC, next_review_date="2026-09-01") == {"next_review_date"}


def test_duplicates_are_reported_on_the_later_row_and_blank_rows_ignored():
    row = {"reference": "C1", "name": "Ava", "team": "north"} | ACC
    children, errors = check(row, {"reference": "", "name": " "}, dict(row))
    assert [c.row for c in children] == [2]
    assert [str(e) for e in errors] == ["row 4 (C1), column reference: duplicate: C1 is also on row 2"]


def test_same_facts_written_differently_have_the_same_digest():
    (a,), _ = check({"reference": "C1", "name": "Ava", "team": "north"} | ACC)
    (b,), _ = check({"reference": "C1", "name": "Ava", "team": "NORTH", "legal_status": "accommodated",
                     "LA_START": "05/01/2026"})
    (c,), _ = check({"reference": "C1", "name": "Ava B", "team": "north"} | ACC)
    assert a.digest() == b.digest() != c.digest()


# -- placement steps -------------------------------------------------------------------
def test_journey_steps_carry_the_row_dates_and_choices():
    (child,), errors = check({"reference": "C1", "name": "Ava", "team": "north"} | ACC | {
        "PLANNING_MTG": "2026-01-07", "INITIAL_LAR": "2026-01-26", "INTERIM_LAR": "2026-04-02",
        "LEGAL_REFERRAL": "2026-07-15", "LEGAL_OPINION": "2026-07-30",
        "PERM_RECOMMENDATION": "2026-08-03", "route": "adoption", "CAPR": "2026-09-20",
        "order_sought": "permanence_order_with_authority_to_adopt", "PANEL": "2026-10-20"})
    assert errors == []
    found = [(s.task, s.day, s.answers) for s in steps(child)]
    assert [t for t, _, _ in found] == ["planning_meeting", "initial_lar", "interim_lar",
                                        "legal_referral", "legal_opinion", "substantive_lar",
                                        "capr", "panel"]
    assert found[5] == ("substantive_lar", date(2026, 8, 3), {"route": "adoption"})
    assert found[6][2] == {"plan_in_report": "permanence_order_with_authority_to_adopt"}
    assert found[7] == ("panel", date(2026, 10, 20), {"panel_recommendation": "agrees"})


def test_a_booked_substantive_review_is_recorded_where_a_worker_records_it():
    base = {"reference": "C1", "name": "Ava", "team": "north"} | ACC | {
        "PLANNING_MTG": "2026-01-07", "INITIAL_LAR": "2026-01-26", "INTERIM_LAR": "2026-04-02"}
    (child,), _ = check(base | {"next_review_date": "2026-07-27"})
    assert steps(child)[-1].answers == {"substantive_lar_date": "2026-07-27"}
    (child,), _ = check(base | {"LEGAL_REFERRAL": "2026-07-15", "LEGAL_OPINION": "2026-07-30",
                                "last_undecided_lar": "2026-08-03", "next_review_date": "2026-10-05"})
    assert steps(child)[2].answers == {}
    assert (steps(child)[-1].task, steps(child)[-1].answers) == \
        ("substantive_lar", {"route": "not_decided", "next_review_date": "2026-10-05"})


def test_cso_steps_wait_for_the_alert_before_booking():
    row = {"reference": "C1", "name": "Ava", "team": "north", "legal_status": "cso_home",
           "CSO_START": "2024-02-05"}
    (child,), _ = check(row)
    assert steps(child) == []
    (child,), _ = check(row | {"AIM1_REVIEW": "2025-07-10", "CSO_HEARING": "2025-08-14",
                               "next_review_date": "2026-01-12"})
    assert [(s.task, s.day, s.column) for s in steps(child)] == [
        ("schedule_aim1_review", None, "AIM1_REVIEW"),
        ("hold_aim1_review", date(2025, 7, 10), "AIM1_REVIEW"),
        # version 2 of the loop: the Reporter is told (on the review's day: not in the CSV)
        ("notify_reporter", date(2025, 7, 10), "AIM1_REVIEW"),
        ("record_hearing_decision", date(2025, 8, 14), "CSO_HEARING"),
        ("schedule_aim1_review", None, "next_review_date")]
    assert steps(child)[0].answers == {"review_date": "2025-07-10"}
    assert steps(child)[2].optional  # a deployed version 1 has no such task
    assert steps(child)[3].answers == {"hearing_decision": "continued"}


def test_answers_fill_required_dates_and_say_what_was_not_recorded():
    schema = {"required": ["date_held", "chair", "route"],
              "properties": {"date_held": {"type": "string", "format": "date"},
                             "chair": {"type": "string", "maxLength": 10},
                             "route": {"type": "string", "oneOf": [{"const": "home"}]},
                             "notes": {"type": "string"}}}
    assert answers(schema, date(2026, 8, 3), {"route": "home"}, "Not recorded: imported") == \
        {"date_held": "2026-08-03", "chair": "Not record", "route": "home"}


# -- files -----------------------------------------------------------------------------
def test_rejects_file_reads_back_as_a_caseload():
    rows = [{"reference": "C1", "name": "Ava", "team": "east"} | ACC,
            {"reference": "C2", "name": "Ben", "team": "north"} | ACC]
    _, errors = check(*rows)
    text = caseload_import.rejects_csv(rows, errors)
    assert text.splitlines()[0] == "reference,name,team,legal_status,LA_START,source_row,import_errors"
    assert text.splitlines()[1].startswith('C1,Ava,east,accommodated,2026-01-05,2,"team: unknown team')
    (again,) = read_csv(text.replace("east", "north").encode())
    assert check(again)[1] == []


def test_template_and_example_files_match_the_format():
    template = (EXAMPLES / "caseload-template.csv").read_bytes().decode("utf-8")
    assert template == caseload_import.template_csv()
    assert tuple(template.strip().split(",")) == caseload_csv.COLUMNS
    rows = read_csv((EXAMPLES / "caseload-example.csv").read_bytes())
    children, errors = check(*rows)
    assert errors == [] and len(children) == len(rows) == 26


def test_sample_rows_are_valid():
    rows = caseload_sample.sample_rows(400, TODAY, workers={"north": "sw.north"})
    children, errors = check(*rows)
    assert errors == [] and len(children) == 400
    assert {c.legal_status for c in children} == {"accommodated", "cso_home"}
    assert {c.route for c in children} >= {"home", "kinship", "permanence_order", "adoption",
                                           "not_decided", None}
