"""Which steps place an imported child on its process: pure, from a validated row.

Each step is a user task of the deployed diagram completed on the row's date for it, with
the choices the row implies (the route, a ratified ADM decision, a continued CSO...).
Dates of other outcomes are not in the CSV: a row describes the child's current pass
through the journey (docs/caseload-import.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from datetime import date

from engine.form_schemas import import_only_choices

from workflows.caseload.csv_rows import (ACCOMMODATED, COMMON_STEPS, NOT_DECIDED, ROUTE_STEPS,
                                         ChildRow)
from workflows.caseload.outcomes import RECOMMENDATION_FIELD


@dataclass(frozen=True)
class Step:
    """Complete ``task`` on ``day`` with ``answers``. ``day`` None: on the day the task
    opens (a review booked when the review alert fires). ``column`` is blamed if it fails."""
    task: str
    day: date | None
    column: str
    answers: dict = field(default_factory=dict)
    # form field -> the column that left it blank: recorded as the form's import-only choice
    not_recorded: dict = field(default_factory=dict)
    # a step the deployed diagram may not ask for (a Hearing after a "continue"
    # recommendation): it must be open straight after the step before, no timer fired
    follows: bool = False
    # a step an older version of the diagram does not have (the Reporter's notice, version 2
    # of the CSO loop): skipped when it is not open straight after the step before
    optional: bool = False


class NotRecordable(ValueError):
    """The deployed form has no import-only choice for a field the row left blank."""

    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column, self.reason = column, reason


def steps(child: ChildRow) -> list[Step]:
    return _journey_steps(child) if child.legal_status == ACCOMMODATED else _cso_steps(child)


def _journey_steps(child: ChildRow) -> list[Step]:
    dates, route = child.dates, child.route
    decided = route not in (None, NOT_DECIDED)
    found = []
    for column, task in COMMON_STEPS[1:6]:
        if column not in dates:
            return found
        given = {}
        if column == "INTERIM_LAR" and child.next_review_date and not child.last_undecided_lar:
            given["substantive_lar_date"] = child.next_review_date.isoformat()
        found.append(Step(task, dates[column], column, given))
    if child.last_undecided_lar:
        booked = child.next_review_date.isoformat()
        found.append(Step("substantive_lar", child.last_undecided_lar, "last_undecided_lar",
                          {"route": NOT_DECIDED, "next_review_date": booked}))
    if not decided or "PERM_RECOMMENDATION" not in dates:
        return found
    found.append(Step("substantive_lar", dates["PERM_RECOMMENDATION"], "PERM_RECOMMENDATION",
                      {"route": route}))
    order = child.order_sought or ("permanence_order" if route == "permanence_order" else None)
    choices = {"return_home_review": {"return_home_outcome": "sustained"},
               "kinship_order": {"kinship_order_outcome": "granted"},
               "capr": {"plan_in_report": order}, "panel": {"panel_recommendation": "agrees"},
               "adm_decision": {"adm_decision": "ratified"},
               # the council applies for a permanence order, with authority to adopt for
               # adoption; the adoption petition is the adopters' (version 2 of the journey)
               "lodge_application": {"application_type": "permanence_order"
                                     if order == "permanence_order"
                                     else "permanence_order_with_authority_to_adopt"},
               "court_order": {"court_outcome": "granted"}}
    for column, task in ROUTE_STEPS[route]:
        if column not in dates:
            break
        if task == "kinship_application":  # version 2: the carer is assessed first
            found.append(Step("kinship_assessment", dates[column], column,
                              {"kinship_assessment_outcome": "suitable"}, optional=True))
        found.append(Step(task, dates[column], column, dict(choices.get(task, {}))))
    return found


# The review's other choices are not in the CSV: what the form asks before a recommendation
AIM1_REVIEWED = {"grounds_still_relevant": "yes", "family_situation_changed": "no",
                 "support_without_order": "no"}


def _cso_steps(child: ChildRow) -> list[Step]:
    """The last review with its own recommendation, or "not recorded" when the row has none
    (never "continue": the Aim 1 outcome mix counts it); then the Hearing, if dated."""
    dates, found = child.dates, []
    review = dates.get("AIM1_REVIEW")
    if review:
        found.append(Step("schedule_aim1_review", None, "AIM1_REVIEW",
                          {"review_date": review.isoformat()}))
        held, unknown = dict(AIM1_REVIEWED), {}
        if child.aim1_recommendation:
            held[RECOMMENDATION_FIELD] = child.aim1_recommendation
        else:
            unknown[RECOMMENDATION_FIELD] = "aim1_recommendation"
        found.append(Step("hold_aim1_review", review, "AIM1_REVIEW", held, unknown))
        if "CSO_HEARING" in dates and child.aim1_recommendation != "continue":
            # Version 2 of the loop tells the Reporter before the hearing; the CSV has no
            # date for the notice, so it is recorded on the review's day (follows: a
            # version 1 diagram has no such task, and then none is completed).
            found.append(Step("notify_reporter", review, "AIM1_REVIEW",
                              {"action_minute_sent": "yes"}, follows=True, optional=True))
        if "CSO_HEARING" in dates:
            found.append(Step("record_hearing_decision", dates["CSO_HEARING"], "CSO_HEARING",
                              {"hearing_decision": child.hearing_decision or "continued"},
                              follows=True))
    if child.next_review_date and (not review or "CSO_HEARING" in dates
                                   or child.aim1_recommendation == "continue"):
        found.append(Step("schedule_aim1_review", None, "next_review_date",
                          {"review_date": child.next_review_date.isoformat()}))
    return found


def answers(schema: dict, day: date, given: Mapping, note: str,
            not_recorded: Mapping[str, str] | None = None) -> dict:
    """A form answer for an imported step: required dates are the step's date, required
    free text says it was not recorded, choices come from the row (``given``), and a
    choice the row left blank (``not_recorded``: field -> column) is the form's
    import-only choice; a form without one cannot say "not recorded", so the row is
    refused rather than given a guessed value."""
    props = schema.get("properties", {})
    data = {}
    for name in schema.get("required", []):
        prop = props.get(name, {})
        if prop.get("format") == "date":
            data[name] = day.isoformat()
        elif prop.get("type") == "string" and "oneOf" not in prop and "enum" not in prop:
            data[name] = note[:prop.get("maxLength", len(note))]
    data.update(given)
    for name in schema.get("required", []):  # e.g. the legal basis of the accommodation
        choices = import_only_choices(props.get(name, {}))
        if name not in data and choices:
            data[name] = choices[0]
    for name, column in (not_recorded or {}).items():
        choices = import_only_choices(props.get(name, {}))
        if not choices:
            raise NotRecordable(column, f"blank, and the deployed form '{schema.get('title', '')}'"
                                " cannot record it as not recorded; give the value, or deploy "
                                "the current diagrams (their form has a 'not recorded' choice "
                                "that only the import writes)")
        data[name] = choices[0]
    return data
