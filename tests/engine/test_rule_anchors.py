"""Due rules and timer dates of the shipped permanence journey, changed as a process owner
might slip: a misspelt anchor names the nearest milestones or fields the process records;
an ISO 8601 duration or repeating interval gets the PACE Flow equivalent; a date centuries
ahead is refused. Checked as the draft page and ``pace models check`` check."""
from __future__ import annotations

import pytest

from engine.registry import ModelBundle
from workflows.due_rules import HORIZON_YEARS, RuleError, parse_offsets, parse_rule
from workflows.engine_config import BPMN_DIR, pace_config
from workflows.process_models import model_validation


class _Runtime:
    config = pace_config()


CSO_ALERT = "AIM1_REVIEW+6m-6w | CSO_START+{aims.1.threshold}-6w"  # the review loop's timer


def findings(**replace: str) -> list[str]:
    bundle = ModelBundle.from_directory(BPMN_DIR / "permanence_journey")
    for old, new in replace.items():
        assert old in bundle.bpmn_xml, old
        bundle.bpmn_xml = bundle.bpmn_xml.replace(old, new, 1)
    ctx = model_validation.validation_context(_Runtime, "permanence_journey")
    report = model_validation.validate(bundle, ctx)
    return [f"{f.element_id}: {f.message} | {f.fix}" for f in report.findings]


def test_the_shipped_diagrams_name_only_what_they_record():
    for folder in sorted(p.parent for p in BPMN_DIR.rglob("*.bpmn")):
        bundle = ModelBundle.from_directory(folder)
        ctx = model_validation.validation_context(_Runtime, bundle.process_id)
        assert model_validation.validate(bundle, ctx).ok, folder


@pytest.mark.parametrize("old, new, element, says", [
    ('"LA_START+3d"', '"LA_STRAT+3d"', "planning_meeting",
     "counts from LA_STRAT, which this process does not record: did you mean LA_START?"),
    ('"reconvene_date | PERM_RECOMMENDATION+12w"', '"reconvene_date | PERM_RECOMENDATION+10w"',
     "panel",
     "counts from PERM_RECOMENDATION, which this process does not record: did you mean "
     "PERM_RECOMMENDATION or PERM_RECOMMENDATION_PLANNED?"),
    ('"next_review_date |', '"next_reveiw_date |', "substantive_lar",
     "counts from next_reveiw_date, which this process does not record: did you mean "
     "next_review_date?"),
])
def test_a_misspelt_anchor_is_an_error_with_the_nearest_valid_names(old, new, element, says):
    found = findings(**{old: new})
    assert len(found) == 1, found
    assert found[0].startswith(f"{element}: due rule ") and says in found[0]


@pytest.mark.parametrize("value, says", [
    ("P7D", "'P7D' is an ISO 8601 duration; PACE Flow counts from a milestone or a date "
            "field: write ANCHOR+7d, for example LA_START+7d"),
    ("R6/P1D", "'R6/P1D' is an ISO 8601 repeating interval; PACE Flow has no repeating "
               "timers"),
    ("LA_START+9999y", f"'LA_START+9999y' reaches 9,999 years ahead; the limit is "
                       f"{HORIZON_YEARS} years"),
])
def test_iso_durations_and_far_dates_are_refused_with_what_to_write(value, says):
    as_due = findings(**{'"LA_START+3d"': f'"{value}"'})
    assert len(as_due) == 1 and as_due[0].startswith("planning_meeting: due rule ") \
        and says in as_due[0], as_due
    bundle = ModelBundle.from_directory(BPMN_DIR / "cso_home_review")  # forms, templates
    assert CSO_ALERT in bundle.bpmn_xml
    bundle.bpmn_xml = bundle.bpmn_xml.replace(CSO_ALERT, value)
    ctx = model_validation.validation_context(_Runtime, "cso_home_review")
    report = model_validation.validate(bundle, ctx)
    assert [f.message.startswith("timer ") and says in f.message for f in report.findings] \
        == [True], [f.message for f in report.findings]


def test_a_quoted_iso_date_stays_a_valid_timer():
    bundle = ModelBundle.from_directory(BPMN_DIR / "cso_home_review")
    assert CSO_ALERT in bundle.bpmn_xml
    bundle.bpmn_xml = bundle.bpmn_xml.replace(CSO_ALERT,
                                              "'2027-01-04T00:00:00+00:00'")
    ctx = model_validation.validation_context(_Runtime, "cso_home_review")
    assert model_validation.validate(bundle, ctx).ok


def test_reminders_and_escalations_are_bounded_too():
    with pytest.raises(RuleError, match="reaches 27 years ahead"):
        parse_offsets("+2d +9999d")
    with pytest.raises(RuleError, match="ISO 8601 duration"):
        parse_offsets("P5D")
    assert parse_rule(f"LA_START+{HORIZON_YEARS}y")[0].anchor == "LA_START"


@pytest.mark.parametrize("old, new, says", [
    ("{aims.1.threshold}-6w<", "{aims.1.treshold}-6w<",
     "review_alert: timer 'AIM1_REVIEW+6m-6w | CSO_START+{aims.1.treshold}-6w': there is no "
     "setting aims.1.treshold; did you mean aims.1.threshold?"),
    ('value="cso_review.chair"', 'value="cso_review.chiar"',
     "hold_aim1_review: laneFromSetting 'cso_review.chiar': there is no setting "
     "cso_review.chiar; did you mean cso_review.chair?"),
    ('value="cso_review.chair"', 'value="aims.1.threshold"',
     "hold_aim1_review: laneFromSetting 'aims.1.threshold': the setting aims.1.threshold does "
     "not hold a role"),
])
def test_a_setting_a_diagram_names_must_exist_and_hold_the_right_kind(old, new, says):
    """Aim 1's threshold is named, not copied, by the review loop (docs/bpmn-authoring.md,
    Settings a diagram names): a misspelt name gets the nearest valid ones."""
    bundle = ModelBundle.from_directory(BPMN_DIR / "cso_home_review")
    assert old in bundle.bpmn_xml
    bundle.bpmn_xml = bundle.bpmn_xml.replace(old, new, 1)
    ctx = model_validation.validation_context(_Runtime, "cso_home_review")
    found = [f"{f.element_id}: {f.message}" for f in model_validation.validate(bundle, ctx).findings]
    assert len(found) == 1 and found[0].startswith(says), found
