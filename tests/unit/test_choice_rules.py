"""Choices a form refuses (engine/choice_rules.py): when a rule applies, and what the process
owner's check says about a rule written wrong."""
from datetime import date

from engine import choice_rules
from engine.date_rules import Facts
from workflows.due_rules import DueRules

RULES = DueRules()
FIELD = {
    "type": "string",
    "oneOf": [{"const": "weekly"}, {"const": "six_weekly"}, {"const": "three_monthly"}],
    "x-refuse": [
        {"answers": ["three_monthly"], "until": "PLACEMENT_START+1y",
         "message": "Not in the first year."},
        {"answers": ["six_weekly", "three_monthly"], "until": "REVIEW_FIRST",
         "when": "arrangement == 'temporary'", "message": "Weekly until the first review."},
        {"answers": ["weekly"], "from": "REVIEW_FIRST+1d", "on": "date_held",
         "message": "Not weekly after the first review."},
    ],
}
SCHEMA = {"type": "object", "properties": {
    "date_held": {"type": "string", "format": "date"}, "frequency": FIELD}}


def facts(today=date(2026, 3, 1), data=None, **milestones):
    return Facts(today=today, born=None, milestones=milestones, milestone_date=str,
                 anchors=milestones, data=data or {}, resolve=RULES.resolve)


def messages(answers, f):
    return [e.message for e in choice_rules.check(SCHEMA, answers, f)]


def test_until_compares_the_forms_date_with_the_rule():
    placed = {"PLACEMENT_START": date(2025, 3, 10)}
    assert messages({"date_held": "2026-03-09", "frequency": "three_monthly"},
                    facts(**placed)) == ["Not in the first year."]
    assert messages({"date_held": "2026-03-10", "frequency": "three_monthly"},
                    facts(today=date(2026, 3, 10), **placed)) == []
    # No date on the form: today.
    assert messages({"frequency": "three_monthly"}, facts(**placed)) == ["Not in the first year."]


def test_an_anchor_not_recorded_yet_keeps_until_applying_and_from_not():
    temporary = {"arrangement": "temporary"}
    placed = {"PLACEMENT_START": date(2026, 1, 5)}
    # Before the first review: only weekly.
    assert messages({"date_held": "2026-02-01", "frequency": "six_weekly"},
                    facts(data=temporary, **placed)) == ["Weekly until the first review."]
    assert messages({"date_held": "2026-02-01", "frequency": "weekly"},
                    facts(data=temporary, **placed)) == []
    # After it: 6-weekly is fine, weekly is refused by the "from" rule (a day after).
    reviewed = {**placed, "REVIEW_FIRST": date(2026, 2, 2)}
    assert messages({"date_held": "2026-02-10", "frequency": "six_weekly"},
                    facts(data=temporary, **reviewed)) == []
    assert messages({"date_held": "2026-02-02", "frequency": "weekly"},
                    facts(data=temporary, **reviewed)) == []
    assert messages({"date_held": "2026-02-03", "frequency": "weekly"},
                    facts(data=temporary, **reviewed)) == ["Not weekly after the first review."]


def test_when_reads_the_answers_over_the_task_data_and_a_missing_name_does_not_hold():
    placed = {"PLACEMENT_START": date(2026, 1, 5)}
    answers = {"date_held": "2026-02-01", "frequency": "six_weekly"}
    assert messages(answers | {"arrangement": "other"}, facts(data={"arrangement": "temporary"},
                                                              **placed)) == []
    # A child moved from a version whose forms never asked: the rule does not apply.
    assert messages(answers, facts(**placed)) == []


def test_declaration_problems_name_the_field_and_what_is_wrong():
    bad = {"type": "object", "properties": {
        "date_held": {"type": "string", "format": "date"},
        "note": {"type": "string"},
        "frequency": {**FIELD, "x-refuse": [
            {"answers": ["fortnightly"], "message": "x"},
            {"answers": ["weekly"], "until": "PLACEMENT_START+1q", "message": "x"},
            {"answers": ["weekly"], "when": "__import__('os')", "message": "x"},
            {"answers": ["weekly"], "on": "note", "message": "x"},
            {"answers": ["weekly"], "unless": "x", "message": " "},
            "weekly",
        ]},
        "flag": {"type": "boolean", "x-refuse": {"answers": [False]}},
    }}
    problems = choice_rules.declaration_problems(bad, RULES.check_rule)
    assert problems[0] == ("field 'frequency': x-refuse rule 1: answers names 'fortnightly', "
                           "which the field does not offer")
    assert problems[1].startswith("field 'frequency': x-refuse rule 2: until ")
    assert problems[2].startswith("field 'frequency': x-refuse rule 3: when ")
    assert problems[3] == ("field 'frequency': x-refuse rule 4: on names 'note', which is not a "
                           "date field of this form")
    assert problems[4].startswith("field 'frequency': x-refuse rule 5 has unknown keys unless")
    assert problems[5] == "field 'frequency': x-refuse rule 5 has no message for the worker"
    assert problems[6] == ("field 'frequency': x-refuse rule 6 must be an object with answers "
                           "and a message")
    assert problems[7] == "field 'flag': x-refuse must be a list of rules"
    assert len(problems) == 8
    assert choice_rules.declaration_problems(SCHEMA, RULES.check_rule) == []
