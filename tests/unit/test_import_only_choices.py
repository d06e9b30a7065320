"""The review form's import-only choice ("not recorded") and the caseload CSV's outcome words:
what a worker is offered, what the demo fills in, and that the CSV accepts the form's words."""
import json
import random
from datetime import date
from pathlib import Path

from engine import form_schemas
from workflows.caseload import csv_rows, outcomes
from workflows import sample_answers

FORMS = Path(__file__).resolve().parents[2] / "bpmn" / "cso_home_review" / "forms"


def _form(name: str) -> dict:
    return json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))


def test_the_csv_accepts_the_words_the_shipped_forms_show():
    review = _form("hold_aim1_review")["properties"]["recommendation"]["oneOf"]
    assert {o["const"]: o["title"] for o in review if not o.get("x-import-only")} \
        == outcomes.AIM1_RECOMMENDATIONS
    assert [o["const"] for o in review if o.get("x-import-only")] == [outcomes.NOT_RECORDED]
    hearing = _form("record_hearing_decision")["properties"]["hearing_decision"]["oneOf"]
    titles = {o["const"]: o["title"] for o in hearing}
    assert {code: titles[code] for code in outcomes.HEARING_DECISIONS} == outcomes.HEARING_DECISIONS


def test_a_worker_is_offered_every_choice_but_the_import_only_one():
    schema = _form("hold_aim1_review")
    offered = form_schemas.for_workers(schema)
    assert [o["const"] for o in offered["properties"]["recommendation"]["oneOf"]] == \
        ["terminate", "continue", "vary", "permanence_away"]
    assert len(schema["properties"]["recommendation"]["oneOf"]) == 5  # the form is untouched
    assert form_schemas.import_only_answers(schema, {"recommendation": "not_recorded",
                                                     "chair": "not_recorded"}) == ["recommendation"]
    assert form_schemas.import_only_answers(schema, {"recommendation": "continue"}) == []
    plain = _form("record_hearing_decision")
    assert form_schemas.for_workers(plain) is plain


def test_the_demo_never_records_not_recorded():
    schema, rng = _form("hold_aim1_review"), random.Random(7)
    wanted = {"recommendation": {"not_recorded": 50, "continue": 1}}  # even when weighted
    picked = {sample_answers.fill(schema, date(2026, 1, 5), rng, wanted)["recommendation"]
              for _ in range(50)}
    assert picked == {"continue"}


def test_outcome_cells_read_codes_and_words_in_any_case_and_refuse_the_rest():
    read = outcomes.read_outcome
    assert read("aim1_recommendation", " Begin Permanence Planning away from HOME ") == \
        ("permanence_away", None)
    assert read("aim1_recommendation", "PERMANENCE-AWAY") == ("permanence_away", None)
    assert read("aim1_recommendation", "") == (None, None)
    assert read("hearing_decision", "cso terminated") == ("terminated", None)
    value, reason = read("hearing_decision", "Child to be looked after away from home")
    assert value is None and "import the child as accommodated" in reason
    value, reason = read("aim1_recommendation", "unknown")
    assert value is None and "leave it blank when the records do not say" in reason


def test_a_continue_review_may_book_the_next_review_without_a_hearing():
    """Whether it fits is the deployed diagram's call at placement (docs/caseload-import.md)."""
    row = {"reference": "C1", "name": "Child C1", "team": "north", "legal_status": "cso_home",
           "CSO_START": "2024-01-10", "AIM1_REVIEW": "2025-06-01", "next_review_date": "2025-12-01"}
    teams = {"north": "north"}
    children, errors = csv_rows.validate([row | {"aim1_recommendation": "Continue the CSO"}],
                                         date(2026, 1, 5), teams, {})
    assert errors == [] and children[0].aim1_recommendation == "continue"
    _children, errors = csv_rows.validate([row | {"aim1_recommendation": "vary"}],
                                          date(2026, 1, 5), teams, {})
    assert [e.column for e in errors] == ["next_review_date"]
