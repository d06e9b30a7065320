"""The date rules a form declares (engine/date_rules.py), as pure functions: each refusal
names the field and the date it conflicts with, in plain words."""
from __future__ import annotations

import json
from datetime import date

import pytest

from engine import date_rules
from engine.date_rules import Facts, check, declaration_problems, long_date
from workflows import milestone_dates, profiles
from workflows.engine_config import BPMN_DIR

KINSHIP = json.loads((BPMN_DIR / "permanence_journey/forms/kinship_application.schema.json")
                     .read_text())
ADM = json.loads((BPMN_DIR / "permanence_journey/forms/adm_decision.schema.json").read_text())
TODAY = date(2026, 12, 7)
RECORDED = {"LA_START": date(2026, 4, 2), "PERM_RECOMMENDATION": date(2026, 10, 28),
            "PANEL": date(2026, 11, 20)}


def facts(born=date(2019, 5, 1), milestones=None, today=TODAY) -> Facts:
    return Facts(today, born, RECORDED if milestones is None else milestones,
                 lambda code: milestone_dates.phrase(profiles.SCOTLAND_PROFILE, code))


def errors(schema, answers, **kwargs) -> dict[str, str]:
    return {e.field: e.message for e in check(schema, answers, facts(**kwargs))}


def test_dates_are_written_as_people_write_them():
    assert long_date(date(2026, 10, 28)) == "28 October 2026"
    assert long_date(date(2027, 3, 1)) == "1 March 2027"


def test_an_application_lodged_before_the_recommendation_names_the_recommendation():
    # The example: lodged on 28 Feb 2026, before the accommodation (2 Apr) and the
    # recommendation (28 Oct): the latest of the dates it must follow is named.
    found = errors(KINSHIP, {"lodged_date": "2026-02-28", "kinship_carer": "Gran"})
    assert found == {"lodged_date": "Date application lodged must be on or after 28 October "
                                    "2026, the date of the permanence recommendation"}


@pytest.mark.parametrize("lodged", ["2026-10-28", "2026-11-30", TODAY.isoformat()])
def test_on_or_after_the_recommendation_and_not_in_the_future_is_accepted(lodged):
    assert errors(KINSHIP, {"lodged_date": lodged, "kinship_carer": "Gran"}) == {}


def test_a_recorded_date_may_not_lie_in_the_future():
    found = errors(KINSHIP, {"lodged_date": "2027-12-01"})
    assert found == {"lodged_date": "Date application lodged must be today or in the past: it "
                                    "records something that has happened"}


def test_a_recorded_date_may_not_precede_the_childs_birth():
    schema = {"type": "object", "properties": {
        "date_held": {"type": "string", "format": "date", "title": "Date of review"}}}
    found = errors(schema, {"date_held": "2019-04-30"})
    assert found == {"date_held": "Date of review must be on or after 1 May 2019, the child's "
                                  "date of birth"}
    assert errors(schema, {"date_held": "2019-04-30"}, born=None) == {}


def test_a_planned_date_may_lie_in_the_future_but_not_before_the_date_it_follows():
    answers = {"decision_date": "2026-12-01", "next_review_date": "2027-06-01"}
    assert errors(ADM, answers) == {}
    found = errors(ADM, {**answers, "next_review_date": "2026-11-30"})
    assert found == {"next_review_date": "Next looked-after review booked for must be on or "
                                         "after 1 December 2026, the date of decision"}


def test_the_adm_decision_may_not_precede_the_panel():
    found = errors(ADM, {"decision_date": "2026-11-19"})
    assert found == {"decision_date": "Date of decision must be on or after 20 November 2026, "
                                      "the date of the permanence panel"}


def test_a_milestone_not_yet_recorded_constrains_nothing():
    assert errors(ADM, {"decision_date": "2026-11-19"}, milestones={}) == {}


def test_blank_and_unreal_dates_are_left_to_the_form_schema():
    assert errors(KINSHIP, {"lodged_date": ""}) == {}
    assert errors(KINSHIP, {"lodged_date": "2026-02-31"}) == {}
    assert errors(KINSHIP, {}) == {}


def test_a_milestone_without_its_own_words_is_named_by_its_label():
    assert milestone_dates.phrase(profiles.ENGLAND_PROFILE, "VISIT") == \
        "the date recorded for \u201cStatutory visit\u201d"
    policy = milestone_dates.policy([profiles.SCOTLAND_PROFILE, profiles.ENGLAND_PROFILE])
    assert policy.milestone_date("eng_looked_after", "LA_START") == \
        "the date the child started to be looked after"
    assert policy.milestone_date("permanence_journey", "LA_START") == \
        "the date the child was accommodated"
    assert {"PERM_RECOMMENDATION", "PROCEEDINGS_ISSUED"} <= policy.milestones


def _form(**field) -> dict:
    return {"type": "object", "properties": {
        "date_held": {"type": "string", "format": "date", "title": "Date of review"},
        "notes": {"type": "string"}, "extra": field}}


@pytest.mark.parametrize("field, words", [
    ({"type": "string", "format": "date", "x-not-before": ["PERM_RECOMENDATION"]},
     "field 'extra': x-not-before names 'PERM_RECOMENDATION', which is neither a milestone "
     "nor a date field of this form"),
    ({"type": "string", "x-not-before": ["LA_START"]},
     "field 'extra': x-not-before is a date rule, but the field is not a date"),
    ({"type": "string", "x-planned": True}, "field 'extra': x-planned is a date rule, but"),
    ({"type": "string", "format": "date", "x-not-before": ["notes"]},
     "field 'extra': x-not-before names 'notes', a field that is not a date"),
    ({"type": "string", "format": "date", "x-not-before": "LA_START", "x-planned": "yes"},
     "field 'extra': x-planned must be true or false"),
    ({"type": "string", "format": "date", "x-not-before": [3]},
     "field 'extra': x-not-before must be a list of milestone codes or date fields"),
    ({"type": "string", "format": "date", "x-not-before": ["extra"]},
     "field 'extra': x-not-before names the field itself"),
])
def test_declarations_that_cannot_work_are_named_with_their_field(field, words):
    found = declaration_problems(_form(**field), {"LA_START", "PERM_RECOMMENDATION"})
    assert len(found) == 1 and found[0].startswith(words), found


def test_good_declarations_pass():
    good = _form(type="string", format="date", **{"x-planned": True,
                                                  "x-not-before": ["date_held", "LA_START"]})
    assert declaration_problems(good, {"LA_START"}) == []
    assert date_rules.named(good["properties"]["extra"]) == ["date_held", "LA_START"]


def test_every_shipped_form_declares_only_rules_that_can_work():
    for profile in profiles.PROFILES.values():
        for process_id in profile.processes:
            folder = profile.process_folder(process_id) / "forms"
            for path in sorted(folder.glob("*.schema.json")):
                schema = json.loads(path.read_text())
                assert declaration_problems(schema, set(profile.milestones)) == [], path
