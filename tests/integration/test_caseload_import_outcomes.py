"""The caseload import carries each Aim 1 review's recommendation, and a review imported
without one is "not recorded", never "continue" (issue 27 item 6), on SQLite and PostgreSQL."""
import pytest
from sqlalchemy import select

from engine.models import OPEN, Milestone, Subject, WorkItem
from workflows.caseload import importer as caseload_import
from workflows.caseload.steps import NotRecordable, answers
from workflows.demo import scotland as demo
from workflows.measures import aims, aim_results as measures
from workflows.measures.data import load_episodes

from .caseload_example import D, TODAY
from .driver import Journey

HEADER = ("reference,name,team,legal_status,CSO_START,AIM1_REVIEW,CSO_HEARING,"
          "aim1_recommendation,hearing_decision\r\n")
# (recommendation, hearing decision) of a cohort whose reviews mostly recommended ending
# the order: what the Aim 1 outcome mix must show however the reviews were recorded.
# A "continue" review goes to no Hearing (docs/caseload-import.md).
COHORT = (("terminate", "terminated"), ("terminate", "continued"), ("terminate", "varied"),
          ("vary", "varied"), ("continue", ""))


@pytest.fixture
def db(database):
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    return database


def row(reference, recommendation="", hearing="", **more):
    return {"reference": reference, "name": f"Child {reference}", "team": "north",
            "legal_status": "cso_home", "CSO_START": "2023-06-01", "AIM1_REVIEW": "2024-11-15",
            "CSO_HEARING": "2024-12-10", "aim1_recommendation": recommendation,
            "hearing_decision": hearing} | more


def recorded(db, prefix=""):
    """reference -> the recommendation the review's milestone holds."""
    with db.transaction() as session:
        found = session.execute(select(Subject.reference, Milestone.data).join(
            Subject, Subject.id == Milestone.subject_id).where(Milestone.code == "AIM1_REVIEW"))
        return {ref: (data or {}).get("recommendation") for ref, data in found
                if ref.startswith(prefix)}


def outcome_mix(db, keep=lambda reference: True):
    with db.transaction() as session:
        episodes = [e for e in load_episodes(session, "cso_home_review")
                    if keep(e.child.reference)]
    return {code: count for code, _label, count, _pct
            in measures.aim1(episodes, aims.DEFAULT_AIMS[1], TODAY).outcome_mix()}


def test_the_forms_codes_and_words_are_accepted_in_any_case(db, tmp_path):
    csv = tmp_path / "outcomes.csv"
    csv.write_text(HEADER + "".join(f"{ref},Child {ref},north,cso_home,2023-06-01,2024-11-15,"
                                    f"2024-12-10,{rec},{hearing}\r\n" for ref, rec, hearing in (
        ("W1", "TERMINATE", "CSO terminated"), ("W2", "Vary the CSO", "cso varied"),
        ("W3", "begin permanence planning away from home", "Continued"),
        ("W5", "permanence away", ""))) + "W4,Child W4,north,cso_home,2023-06-01,2024-11-15,,"
        "Continue  the CSO,\r\n", encoding="utf-8")
    result = caseload_import.import_file(db, csv, today=TODAY)
    assert result.errors == [] and result.imported == 5
    assert recorded(db) == {"W1": "terminate", "W2": "vary", "W3": "permanence_away",
                            "W4": "continue", "W5": "permanence_away"}
    with db.transaction() as session:
        hearings = session.execute(select(Subject.reference, WorkItem.status).join(
            Subject, Subject.id == WorkItem.subject_id).where(
            WorkItem.task_name == "record_hearing_decision")).all()
    # no Hearing after "continue" (the loop's version 2): W4 waits for its next review
    assert sorted(hearings) == [(f"W{i}", "completed") for i in (1, 2, 3, 5)]
    assert result.finished == 1  # W1: the Hearing terminated the order


def test_unknown_values_are_refused_naming_the_row_the_column_and_why(db, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text(HEADER + "B1,Child B1,north,cso_home,2023-06-01,2024-11-15,2024-12-10,stop,\r\n"
                   "B2,Child B2,north,cso_home,2023-06-01,2024-11-15,2024-12-10,Not recorded,\r\n"
                   "B3,Child B3,north,cso_home,2023-06-01,2024-11-15,2024-12-10,,adjourned\r\n",
                   encoding="utf-8")
    result = caseload_import.import_file(db, csv, today=TODAY)
    assert (result.imported, result.written) == (0, False)
    found = {(e.row, e.column): str(e) for e in result.errors}
    assert set(found) == {(2, "aim1_recommendation"), (3, "aim1_recommendation"),
                          (4, "hearing_decision")}
    assert found[(2, "aim1_recommendation")].startswith(
        "row 2 (B1), column aim1_recommendation: 'stop' is not one of terminate, continue, vary, "
        "permanence_away (or the form's words: Terminate the CSO;")
    assert "leave it blank when the records do not say" in found[(3, "aim1_recommendation")]
    assert "'adjourned' is not one of continued, varied, terminated" in found[(4, "hearing_decision")]


def test_a_review_imported_without_a_recommendation_is_not_recorded_never_continue(db):
    rows = [row("N1"), row("N2", hearing="continued"), row("N3", "terminate", "continued")]
    result = caseload_import.import_rows(db, rows, source="old-system.csv", today=TODAY)
    assert result.errors == [] and result.imported == 3
    assert recorded(db) == {"N1": "not_recorded", "N2": "not_recorded", "N3": "terminate"}
    mix = outcome_mix(db)
    assert mix == {"terminate": 1, "continue": 0, "vary": 0, "permanence_away": 0,
                   "not recorded": 2}


def test_the_same_cohort_recorded_through_tasks_or_imported_gives_the_same_outcome_mix(db):
    for number, (recommendation, hearing) in enumerate(COHORT):
        j = Journey(db, f"H-{number}", team="north").place_on_cso(D("2023-06-01"))
        j.sweep(D("2024-10-21"))  # the review alert: CSO start + 18 months - 6 weeks
        j.complete("schedule_aim1_review", D("2024-10-21"), review_date=D("2024-11-15"))
        j.complete("hold_aim1_review", D("2024-11-15"), date_held=D("2024-11-15"),
                   recommendation=recommendation)
        if hearing:  # the Reporter is told on the review's day, then the Hearing decides
            j.complete("notify_reporter", D("2024-11-15"),
                       reporter_notified_date=D("2024-11-15"), action_minute_sent="yes")
            j.complete("record_hearing_decision", D("2024-12-10"), date_held=D("2024-12-10"),
                       hearing_decision=hearing)
        j.sweep(TODAY)
    imported = [row(f"I-{n}", rec, hearing, CSO_HEARING="2024-12-10" if hearing else "")
                for n, (rec, hearing) in enumerate(COHORT)]
    # the same reviews from a file without the column (each with its Hearing: csv_rows)
    unrecorded = [row(f"U-{n}", hearing=hearing or "continued")
                  for n, (_rec, hearing) in enumerate(COHORT)]
    result = caseload_import.import_rows(db, imported + unrecorded, today=TODAY)
    assert result.errors == [] and result.imported == 10

    by_tasks = outcome_mix(db, lambda ref: ref.startswith("H-"))
    assert by_tasks == {"terminate": 3, "continue": 1, "vary": 1, "permanence_away": 0}
    assert outcome_mix(db, lambda ref: ref.startswith("I-")) == by_tasks
    assert recorded(db, "H-") == {f"H-{n}": rec for n, (rec, _h) in enumerate(COHORT)}
    # without the column the same reviews are counted, as not recorded: nothing is guessed
    assert outcome_mix(db, lambda ref: ref.startswith("U-")) == {
        "terminate": 0, "continue": 0, "vary": 0, "permanence_away": 0, "not recorded": 5}
    with db.transaction() as session:
        open_tasks = sorted(session.execute(select(Subject.reference, WorkItem.task_name).join(
            Subject, Subject.id == WorkItem.subject_id).where(WorkItem.status.in_(OPEN))).all())
    # both ways the loop stands at the next review; no Hearing is left waiting
    assert {task for _ref, task in open_tasks} == {"schedule_aim1_review"}
    assert [ref for ref, _t in open_tasks] == sorted(
        [f"{p}-{n}" for p in "HIU" for n, (_r, hearing) in enumerate(COHORT)
         if hearing != "terminated"])
    with db.transaction() as session:  # task by task or imported, the same Reporter notices
        notices = session.scalars(select(Subject.reference).join(
            WorkItem, WorkItem.subject_id == Subject.id).where(
            WorkItem.task_name == "notify_reporter", WorkItem.status == "completed")).all()
    assert sorted(notices) == sorted([f"{p}-{n}" for p in "HI" for n in range(4)]
                                     + [f"U-{n}" for n in range(5)])  # U-4: not recorded


def test_a_review_whose_hearing_is_awaited_needs_its_recommendation(db):
    """Whether a Hearing is due after a review depends on its recommendation (none after
    "continue" once the Reporter notice is in the diagram): a blank one would leave a task
    that may be false, overdue at once. Blank is for reviews the Hearing has decided on."""
    rows = [row("A1", CSO_HEARING=""), row("A2", "terminate", CSO_HEARING="")]
    result = caseload_import.import_rows(db, rows, today=TODAY, dry_run=True)
    assert [(e.row, e.column) for e in result.errors] == [(2, "aim1_recommendation")]
    assert "required while the Hearing on the last review is awaited" in result.errors[0].reason
    assert result.imported == 1


def test_a_form_that_cannot_say_not_recorded_refuses_the_blank_rather_than_guess():
    """A council still on a review form without the import-only choice (version 1)."""
    old_form = {"required": ["recommendation"], "properties": {"recommendation": {
        "type": "string", "oneOf": [{"const": "continue", "title": "Continue the CSO"}]}}}
    with pytest.raises(NotRecordable) as refused:
        answers(old_form, D("2024-11-15"), {}, "note", {"recommendation": "aim1_recommendation"})
    assert refused.value.column == "aim1_recommendation"
    assert "cannot record it as not recorded" in refused.value.reason
    current = dict(old_form, properties={"recommendation": {"type": "string", "oneOf": [
        {"const": "continue"}, {"const": "not_recorded", "x-import-only": True}]}})
    assert answers(current, D("2024-11-15"), {}, "note",
                   {"recommendation": "aim1_recommendation"}) == {"recommendation": "not_recorded"}
