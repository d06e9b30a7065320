"""SSDA903-style export: episodes derived from milestones, CSV layout, and the validation
rules (DfE rule numbers, plus the statutory review intervals as PACE-R1..R4)."""
from datetime import date

import pytest

from workflows.returns.ssda903 import _episodes, _Event, _Period
from workflows.returns.ssda903_format import (EPISODE_COLUMNS, HEADER_COLUMNS, REVIEW_COLUMNS,
                                              Export, read_csv, to_csv)
from workflows.returns.ssda903_rules import validate

START, END = date(2025, 4, 1), date(2026, 3, 31)


def period(start, legal_status="s20", events=(), ceased=None, reason=None):
    p = _Period(1, start, {"legal_status": legal_status, "category_of_need": "N1",
                           "home_postcode": "LS1 4AB"})
    p.events = [_Event(start, "placement", {"placement_type": "U6", "placement_provider": "PR1",
                                            "placement_postcode": "LS6 2CD"}), *events]
    p.ceased, p.reason = ceased, reason
    return p


def move(day, place="U4", provider="PR4", post="LS8 3EF", reason="CARPL"):
    return _Event(day, "placement", {"placement_type": place, "placement_provider": provider,
                                     "placement_postcode": post, "reason_place_change": reason})


def order(day, made):
    return _Event(day, "legal", {"order_made": made})


def short(episodes):
    return [(e["DECOM"], e["RNE"], e["LS"], e["PLACE"], e["DEC"], e["REC"], e["REASON_PLACE_CHANGE"])
            for e in episodes]


def test_episodes_from_moves_orders_and_ceasing():
    p = period(date(2025, 5, 1), events=[
        move(date(2025, 6, 10)),
        order(date(2025, 7, 1), "interim_care_order"),          # V2 -> C1: legal status only
        order(date(2025, 8, 1), "interim_care_order"),          # renewed: no change
        move(date(2025, 9, 1), place="K2"), order(date(2025, 9, 1), "care_order"),  # both
        order(date(2025, 10, 1), "special_guardianship_order"),  # no looked-after status
    ], ceased=date(2025, 11, 3), reason="E45")
    assert short(_episodes("E1", p)) == [
        (date(2025, 5, 1), "S", "V2", "U6", date(2025, 6, 10), "X1", "CARPL"),
        (date(2025, 6, 10), "P", "V2", "U4", date(2025, 7, 1), "X1", None),
        (date(2025, 7, 1), "L", "C1", "U4", date(2025, 9, 1), "X1", "CARPL"),
        (date(2025, 9, 1), "B", "C2", "K2", date(2025, 11, 3), "E45", None),
    ]


def test_same_day_changes_belong_to_the_episode_they_start_with():
    p = period(date(2025, 5, 1), legal_status="s31", events=[move(date(2025, 5, 1), place="U3")])
    (only,) = _episodes("E1", p)
    assert (only["RNE"], only["LS"], only["PLACE"], only["DEC"]) == ("S", "C1", "U3", None)


def _clean():
    header = [{"CHILD": "E1", "SEX": "F", "DOB": "01/06/2015", "ETHNIC": "WBRI",
               "UPN": "A123456789012", "MOTHER": "0", "MC_DOB": ""},
              {"CHILD": "E2", "SEX": "M", "DOB": "01/02/2023", "ETHNIC": "MWBC", "UPN": "UN1",
               "MOTHER": "", "MC_DOB": ""}]
    base = {"CIN": "N1", "HOME_POST": "LS1 4AB", "URN": ""}
    episodes = [
        {**base, "CHILD": "E1", "DECOM": "01/05/2025", "RNE": "S", "LS": "V2", "PLACE": "U6",
         "PLACE_PROVIDER": "PR1", "DEC": "10/06/2025", "REC": "X1", "REASON_PLACE_CHANGE": "CARPL",
         "PL_POST": "LS6 2CD"},
        {**base, "CHILD": "E1", "DECOM": "10/06/2025", "RNE": "P", "LS": "V2", "PLACE": "U4",
         "PLACE_PROVIDER": "PR4", "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "",
         "PL_POST": "LS8 3EF"},
        {**base, "CHILD": "E2", "DECOM": "03/11/2025", "RNE": "S", "LS": "C1", "PLACE": "U3",
         "PLACE_PROVIDER": "PR1", "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "",
         "PL_POST": "LS9 7GH"},
    ]
    reviews = [  # first within 20 working days, second within 3 months, then 6 months
        {"CHILD": "E1", "DOB": "01/06/2015", "REVIEW": "28/05/2025", "REVIEW_CODE": "PN1"},
        {"CHILD": "E1", "DOB": "01/06/2015", "REVIEW": "20/08/2025", "REVIEW_CODE": "PN6"},
        {"CHILD": "E1", "DOB": "01/06/2015", "REVIEW": "18/02/2026", "REVIEW_CODE": "PN1"},
        {"CHILD": "E2", "DOB": "01/02/2023", "REVIEW": "28/11/2025", "REVIEW_CODE": "PN0"},
        {"CHILD": "E2", "DOB": "01/02/2023", "REVIEW": "26/02/2026", "REVIEW_CODE": "PN0"},
    ]
    return {"header": header, "episodes": episodes, "reviews": reviews}


def rules(tables):
    return sorted((f.table, f.child, f.field, f.rule) for f in validate(tables, START, END))


def test_clean_return_passes_and_survives_a_csv_round_trip():
    tables = _clean()
    assert rules(tables) == []
    export = Export(START, END, **tables)
    text = {t: export.csv(t) for t in ("header", "episodes", "reviews")}
    assert text["header"].splitlines()[0] == ",".join(HEADER_COLUMNS)
    assert text["episodes"].splitlines()[0] == ",".join(EPISODE_COLUMNS)
    assert text["reviews"].splitlines()[0] == ",".join(REVIEW_COLUMNS)
    assert "E1,01/05/2025,S,V2,N1,U6,PR1,10/06/2025,X1,CARPL,LS1 4AB,LS6 2CD," in text["episodes"]
    assert rules({t: read_csv(v) for t, v in text.items()}) == []
    assert to_csv([{"CHILD": "E9"}], ["CHILD", "DOB"]) == "CHILD,DOB\r\nE9,\r\n"


BROKEN = [
    # (table, row index, changes, expected (field, rule))
    ("header", 0, {"SEX": "1"}, ("SEX", "101")),
    ("header", 0, {"DOB": "2015-06-01"}, ("DOB", "102")),
    ("header", 0, {"ETHNIC": "XXXX"}, ("ETHNIC", "103")),
    ("header", 0, {"UPN": "I123456789012"}, ("UPN", "168")),
    ("header", 0, {"UPN": ""}, ("UPN", "442")),
    ("header", 0, {"MOTHER": ""}, ("MOTHER", "393")),
    ("header", 1, {"MOTHER": "1"}, ("MOTHER", "165")),
    ("header", 1, {"MC_DOB": "01/01/2024"}, ("MC_DOB", "174")),
    ("episodes", 0, {"DECOM": "31/02/2025"}, ("DECOM", "141")),
    ("episodes", 2, {"RNE": "X"}, ("RNE", "143")),
    ("episodes", 2, {"LS": "V1"}, ("LS", "144")),
    ("episodes", 2, {"CIN": "N9"}, ("CIN", "145")),
    ("episodes", 2, {"PLACE": "Z1"}, ("PLACE", "146")),
    ("episodes", 2, {"PLACE_PROVIDER": ""}, ("PLACE_PROVIDER", "526")),
    ("episodes", 2, {"DEC": "01/12/2025"}, ("REC", "148")),
    ("episodes", 2, {"DEC": "01/12/2025", "REC": "E99"}, ("REC", "149")),
    ("episodes", 0, {"REASON_PLACE_CHANGE": "BORED"}, ("REASON_PLACE_CHANGE", "1009")),
    ("episodes", 0, {"REASON_PLACE_CHANGE": ""}, ("REASON_PLACE_CHANGE", "225")),
    ("episodes", 0, {"DEC": "", "REC": ""}, ("DEC", "142")),
    ("episodes", 1, {"DECOM": "01/06/2025"}, ("DECOM", "501")),
    ("episodes", 1, {"DECOM": "12/06/2025"}, ("DECOM", "433")),
    ("episodes", 0, {"REC": "E4A"}, ("RNE", "432")),
    ("episodes", 1, {"RNE": "L"}, ("RNE", "434")),
    ("episodes", 1, {"RNE": "B"}, ("RNE", "436")),
    ("episodes", 1, {"LS": "C1"}, ("RNE", "435")),
    ("episodes", 2, {"DEC": "01/10/2025", "REC": "E4A"}, ("DEC", "356")),
    ("episodes", 2, {"DEC": "03/11/2025", "REC": "E4A"}, ("DEC", "355")),
    ("episodes", 2, {"DEC": "01/04/2026", "REC": "E4A"}, ("DEC", "385")),
    ("episodes", 2, {"DECOM": "01/01/2023", "RNE": "S"}, ("DECOM", "302")),
    ("episodes", 2, {"PLACE": "P1", "LS": "V2"}, ("PLACE", "378")),
    ("episodes", 2, {"PLACE_PROVIDER": "PR0"}, ("PLACE_PROVIDER", "550")),
    ("episodes", 2, {"PL_POST": "LS1 4AB"}, ("PL_POST", "392d")),
    ("reviews", 0, {"REVIEW": "32/05/2025"}, ("REVIEW", "166")),
    ("reviews", 0, {"REVIEW_CODE": "PN9"}, ("REVIEW_CODE", "167")),
    ("reviews", 0, {"REVIEW_CODE": "PN0"}, ("REVIEW_CODE", "440")),
    ("reviews", 3, {"REVIEW_CODE": "PN1"}, ("REVIEW_CODE", "441")),
    ("reviews", 0, {"CHILD": "E7"}, ("CHILD", "INT08")),
    ("reviews", 0, {"DOB": "02/06/2015"}, ("DOB", "INT17")),
    ("reviews", 0, {"REVIEW": "03/06/2025"}, ("REVIEW", "PACE-R1")),   # 21 working days
    ("reviews", 1, {"REVIEW": "29/08/2025"}, ("REVIEW", "PACE-R2")),   # over 3 months
    ("reviews", 2, {"REVIEW": "21/02/2026"}, ("REVIEW", "PACE-R3")),   # over 6 months
    ("reviews", 2, {"REVIEW": "20/04/2025"}, ("REVIEW", "PACE-R4")),   # before care began
]


@pytest.mark.parametrize("table,index,changes,expected", BROKEN,
                         ids=[f"{b[3][1]}-{b[3][0]}" for b in BROKEN])
def test_a_broken_record_is_reported_with_child_field_and_rule(table, index, changes, expected):
    tables = _clean()
    tables[table][index].update(changes)
    findings = validate(tables, START, END)
    child = tables[table][index]["CHILD"]
    assert any((f.child, f.field, f.rule) == (child, *expected) for f in findings), \
        [str(f) for f in findings]
    finding = next(f for f in findings if (f.field, f.rule) == expected)
    assert str(finding).startswith(f"{finding.table} row {finding.row}: child {child}, {expected[0]}: "
                                   f"rule {expected[1]}:")


def test_missing_reviews_are_reported_against_the_period_of_care():
    tables = _clean()
    tables["reviews"] = [r for r in tables["reviews"] if r["CHILD"] != "E2"]
    assert ("episodes", "E2", "REVIEW", "PACE-R1") in rules(tables)
    tables = _clean()
    del tables["reviews"][2]  # E1's third review (due by 20 February 2026) is missing
    assert ("episodes", "E1", "REVIEW", "PACE-R3") in rules(tables)
    tables = _clean()
    # E1 left care before the third review was due: nothing is missing.
    del tables["reviews"][2]
    tables["episodes"][1].update(DEC="01/01/2026", REC="E4A")
    assert rules(tables) == []


def test_review_intervals_are_not_judged_from_before_the_period_in_range():
    tables = _clean()
    # E1's care began before the year: its first review in range may be any review.
    tables["episodes"][0].update(DECOM="01/01/2024")
    tables["reviews"] = [r for r in tables["reviews"] if r["CHILD"] == "E2" or r["REVIEW"] == "18/02/2026"]
    assert [r for r in rules(tables) if r[1] == "E1"] == []
