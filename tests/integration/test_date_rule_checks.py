"""The forms' date rules where they are not typed into a task form (SQLite and PostgreSQL):
the caseload import refuses dates out of order with row, column and reason, and the process
owner's check (``pace models check``, the drafts page) refuses a rule that cannot work."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest

from engine.registry import ModelBundle
from web import create_app
from workflows.caseload import importer as caseload_import
from workflows.caseload.csv_rows import ChildRow
from workflows.demo import scotland as demo
from workflows.engine_config import BPMN_DIR
from workflows.process_models import model_validation

from .caseload_example import TODAY, counts

PJ = "permanence_journey"
KINSHIP = {"reference": "K1", "name": "Kim Kinship", "team": "north", "date_of_birth": "2017-06-01",
           "legal_status": "accommodated", "LA_START": "2025-09-01", "PLANNING_MTG": "2025-09-04",
           "INITIAL_LAR": "2025-09-22", "INTERIM_LAR": "2025-12-01",
           "LEGAL_REFERRAL": "2026-02-10", "LEGAL_OPINION": "2026-02-20",
           "PERM_RECOMMENDATION": "2026-03-02", "route": "kinship",
           "APPLICATION_LODGED": "2026-04-20"}


@pytest.fixture
def db(database):
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    return database


# -- the caseload import ---------------------------------------------------------------------
def test_an_application_lodged_before_the_recommendation_is_refused_with_row_and_column(db):
    early = {**KINSHIP, "APPLICATION_LODGED": "2026-02-28"}
    before = counts(db)
    result = caseload_import.import_rows(db, [KINSHIP, early | {"reference": "K2"}],
                                         source="kin.csv", today=TODAY)
    assert [(e.row, e.column, e.reference) for e in result.errors] == [
        (3, "APPLICATION_LODGED", "K2")]
    assert "2026-02-28 is before PERM_RECOMMENDATION (2026-03-02)" in result.errors[0].reason
    assert not result.written and counts(db) == before
    assert caseload_import.import_rows(db, [KINSHIP], source="kin.csv", today=TODAY).written


def test_dates_before_the_childs_birth_are_refused(db):
    born_later = {**KINSHIP, "date_of_birth": "2025-10-01"}
    result = caseload_import.import_rows(db, [born_later], source="kin.csv", today=TODAY)
    assert [(e.row, e.column) for e in result.errors] == [(2, "date_of_birth")]
    assert result.errors[0].reason == "after the start date; check both"


def test_placing_a_child_applies_the_forms_date_rules_and_names_row_and_column(db):
    """A row that reaches placement (here one built without the file's own checks: born
    after the meeting it names) is still refused by the deployed forms' rules, against the
    row and column of the step."""
    child = ChildRow(7, "K3", "Kim Kinship", "north", "accommodated", date(2025, 10, 1),
                     dates={"LA_START": date(2025, 9, 1), "PLANNING_MTG": date(2025, 9, 4)})
    result = caseload_import.ImportResult("kin.csv", "0" * 64, TODAY)
    context = caseload_import.ImportContext(db.runtime, "kin.csv", "0" * 64, "admin",
                                            caseload_import.import_moment(TODAY), {})
    session = caseload_import.import_session(db)
    try:
        caseload_import.place_children(session, context, [child], result)
    finally:
        session.rollback()
        session.close()
    assert result.imported == 0
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (7, "PLANNING_MTG", "Date of meeting must be on or after 1 October 2025, the child's "
                            "date of birth")]


# -- the process owner's check ------------------------------------------------------------------
@pytest.fixture
def cli(db):
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    app.extensions["pace_db"] = db
    return app.test_cli_runner()


def _with_rule(form: str, field: str, **keywords) -> ModelBundle:
    bundle = ModelBundle.from_directory(BPMN_DIR / PJ)
    schema = json.loads(bundle.forms[form])
    schema["properties"][field].update(keywords)
    bundle.forms[form] = json.dumps(schema, indent=2)
    return bundle


def _write(folder, bundle: ModelBundle) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{PJ}.bpmn").write_text(bundle.bpmn_xml, encoding="utf-8")
    for name, text in bundle.forms.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [str(folder / f"{PJ}.bpmn")] + [str(folder / name) for name in bundle.forms]


def test_the_check_refuses_a_rule_naming_an_unknown_milestone(cli, tmp_path):
    typo = _with_rule("kinship_application.schema.json", "lodged_date",
                      **{"x-not-before": ["PERM_RECOMENDATION"]})
    result = cli.invoke(args=["models", "check", *_write(tmp_path / "typo", typo)])
    assert result.exit_code == 1, result.output
    assert re.search(r"^kinship_application \(Record the kinship carer's application for a kinship care "
                     r"order\), line \d+: form "
                     r"kinship_application.schema.json, field 'lodged_date': x-not-before names "
                     r"'PERM_RECOMENDATION', which is neither a milestone nor a date field of "
                     r"this form", result.output, re.M), result.output
    assert "how to fix it: Name in x-not-before a milestone the diagrams record" in result.output


def test_the_check_refuses_a_date_rule_on_a_field_that_is_not_a_date(cli, tmp_path):
    wrong = _with_rule("kinship_application.schema.json", "kinship_carer",
                       **{"x-not-before": ["LA_START"]})
    result = cli.invoke(args=["models", "check", *_write(tmp_path / "wrong", wrong)])
    assert result.exit_code == 1, result.output
    assert ("form kinship_application.schema.json, field 'kinship_carer': x-not-before is a "
            "date rule, but the field is not a date") in result.output


def test_the_drafts_page_check_finds_the_same_problem_and_the_shipped_rules_pass(db):
    ctx = model_validation.validation_context(db.runtime, PJ)
    typo = _with_rule("adm_decision.schema.json", "decision_date", **{"x-not-before": ["PANNEL"]})
    report = model_validation.validate(typo, ctx)
    assert [(f.element_id, f.message.split(":")[0]) for f in report.findings] == [
        ("adm_decision", "form adm_decision.schema.json, field 'decision_date'")]
    shipped = model_validation.validate(ModelBundle.from_directory(BPMN_DIR / PJ), ctx)
    assert shipped.ok, shipped.findings


# -- the English profile's forms -------------------------------------------------------------
def test_english_court_dates_follow_the_issue_and_the_hearings_before_them(eng_db):
    from engine.errors import InvalidData

    from .england_journey import EnglandJourney

    j = EnglandJourney(eng_db).looked_after(date(2026, 4, 2), legal_status="s31")
    with pytest.raises(InvalidData) as refused:
        j.complete("record_interim_order", date(2026, 4, 7), issue_date=date(2026, 3, 30),
                   order_date=date(2026, 3, 27))
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("order_date", "Date of the interim care order must be on or after 30 March 2026, the "
                       "date the application was issued")]
    j.complete("record_interim_order", date(2026, 4, 7), issue_date=date(2026, 3, 30),
               order_date=date(2026, 4, 2))
    j.complete("case_management_hearing", date(2026, 4, 10), order_made="interim_care_order")
    j.complete("final_evidence", date(2026, 7, 17))
    with pytest.raises(InvalidData) as refused:
        j.complete("issues_resolution_hearing", date(2026, 8, 14), date_held=date(2026, 4, 9),
                   outcome="final_hearing_needed")
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("date_held", "Date of hearing must be on or after 10 April 2026, the date of the case "
                      "management hearing")]
    j.complete("issues_resolution_hearing", date(2026, 8, 14), outcome="final_hearing_needed")
    assert j.actuals("IRH") == [date(2026, 8, 14)]
