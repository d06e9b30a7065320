"""Importing a caseload mid-journey through the real runtime, on SQLite and PostgreSQL."""
import pytest
from sqlalchemy import select

from engine import audit
from engine.models import AuditEvent, Milestone, Subject, UserAccount, WorkItem
from web import create_app
from workflows.measures import aims, aim_results as measures, stage_delays
from workflows.caseload import csv_rows as caseload_csv, importer as caseload_import
from workflows.children import records as children
from workflows.demo import scotland as demo
from workflows.measures.data import load_episodes

from .caseload_example import D, EXAMPLE, EXPECTED, TODAY, counts, placement
from .driver import Journey

@pytest.fixture
def db(database):
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    return database


def import_example(db, **options):
    options = {"today": TODAY, "imported_by": "admin"} | options
    return caseload_import.import_file(db, EXAMPLE, **options)


def test_every_stage_lands_in_the_right_queue_with_the_right_due_date(db):
    result = import_example(db)
    assert result.errors == [] and result.written
    assert (result.imported, result.by_status["accommodated"], result.by_status["cso_home"]) == (26, 19, 7)
    # version 2 of the permanence journey: six-monthly reviews open beside the route, and
    # the adoption child (EX018) goes on from the council's order to family finding
    assert (result.waiting, result.finished, sum(result.open_tasks.values())) == (2, 1, 30)
    assert result.overdue == 23
    assert placement(db) == EXPECTED
    with db.transaction() as session:
        child = session.scalar(select(Subject).where(Subject.reference == "EX014"))
        worker = session.scalar(select(UserAccount).where(UserAccount.username == "sw.south"))
        assert (child.date_of_birth, child.allocated_worker_id) == (D("2023-03-03"), worker.id)
        milestones = {(m.code, m.occurrence): (m.planned_date, m.actual_date) for m in
                      session.scalars(select(Milestone).where(Milestone.subject_id == child.id))}
        # real dates recorded; planned dates are the due dates computed from them
        assert milestones == {
            ("LA_START", 1): (None, D("2025-12-01")),
            ("PLANNING_MTG", 1): (D("2025-12-04"), D("2025-12-02")),
            ("INITIAL_LAR", 1): (D("2025-12-22"), D("2025-12-22")),
            ("INTERIM_LAR", 1): (D("2026-03-01"), D("2026-03-02")),
            ("LEGAL_REFERRAL", 1): (D("2026-06-15"), D("2026-06-08")),
            ("LEGAL_OPINION", 1): (D("2026-06-28"), D("2026-06-22")),
            ("PERM_RECOMMENDATION", 1): (D("2026-06-29"), D("2026-06-29")),
            ("CAPR", 1): (D("2026-08-24"), D("2026-08-20")),
            ("PANEL", 1): (D("2026-09-21"), None),
        }
        completed = session.scalars(select(WorkItem).where(WorkItem.subject_id == child.id,
                                                           WorkItem.status == "completed")
                                    .order_by(WorkItem.id)).all()
        assert [(w.task_name, w.completed_at.date()) for w in completed][-1] == ("capr", D("2026-08-20"))


def test_history_says_imported_from_which_file_by_whom(db):
    result = import_example(db)
    with db.transaction() as session:
        child = session.scalar(select(Subject).where(Subject.reference == "EX024"))
        events = session.scalars(select(AuditEvent).where(AuditEvent.subject_id == child.id)
                                 .order_by(AuditEvent.chain_seq)).all()
        assert audit.verify(session) is None
    assert child.attributes["imported"] | {"at": None} == {
        "file": "caseload-example.csv", "sha256": result.sha256, "row": 25, "by": "admin",
        "row_digest": child.attributes["imported"]["row_digest"], "at": None}
    assert result.sha256 == caseload_csv.sha256(EXAMPLE.read_bytes())
    imported = events[-1]
    assert (imported.event_type, imported.actor) == ("child_imported", "admin")
    assert imported.data["file"] == "caseload-example.csv" and imported.data["sha256"] == result.sha256
    assert imported.at.date() == TODAY
    actors = {e.actor for e in events[:-1]}
    assert actors == {f"import:{result.sha256[:8]}"}
    kinds = [e.event_type for e in events]
    assert kinds[:2] == ["child_registered", "instance_started"]
    assert kinds.count("timer_fired") == 2 and kinds.count("task_completed") == 4
    completed = [e for e in events if e.event_type == "task_completed"]
    assert [(e.data["task"], e.at.date()) for e in completed] == [  # "vary" needs a hearing
        ("schedule_aim1_review", D("2025-09-25")), ("hold_aim1_review", D("2025-10-01")),
        ("notify_reporter", D("2025-10-01")), ("record_hearing_decision", D("2025-11-05"))]


def test_reimport_is_a_no_op(db):
    first = import_example(db)
    before = counts(db)
    again = import_example(db)
    assert (again.imported, again.already_imported, again.errors) == (0, 26, [])
    assert counts(db) == before
    # the same facts in another file (different spelling) are recognised too
    rows = caseload_csv.read_csv(EXAMPLE.read_bytes())
    rows[0] = rows[0] | {"LA_START": "20/11/2026", "team": "NORTH"}
    other = caseload_import.import_rows(db, rows, source="other.csv", today=TODAY)
    assert (other.imported, other.already_imported, other.errors) == (0, 26, [])
    # but a child already there with different details is not silently changed
    rows[1] = rows[1] | {"name": "Ben Renamed"}
    changed = caseload_import.import_rows(db, rows, source="changed.csv", today=TODAY)
    assert [(e.row, e.column) for e in changed.errors] == [(3, "reference")]
    assert "already in PACE Flow with different details (imported from caseload-example.csv" \
        in changed.errors[0].reason
    assert counts(db) == before and first.sha256 != other.sha256


BAD_ROWS = [
    {"reference": "B1", "name": "Ok Child", "team": "north", "legal_status": "accommodated",
     "LA_START": "2026-10-01"},
    {"reference": "B2", "name": "Bad Team", "team": "east", "legal_status": "accommodated",
     "LA_START": "2026-10-01"},
    {"reference": "B3", "name": "Bad Date", "team": "north", "legal_status": "accommodated",
     "LA_START": "2026-10-01", "PLANNING_MTG": "31/09/2026"},
    {"reference": "B4", "name": "Out Of Order", "team": "south", "legal_status": "accommodated",
     "LA_START": "2026-10-01", "PLANNING_MTG": "2026-09-30", "allocated_worker": "ghost"},
    {"reference": "B1", "name": "Duplicate", "team": "north", "legal_status": "cso_home",
     "CSO_START": "2025-01-10"},
    {"reference": "B6", "name": "No Route", "team": "north", "legal_status": "accommodated",
     "LA_START": "2026-01-05", "PLANNING_MTG": "2026-01-07", "INITIAL_LAR": "2026-01-26",
     "INTERIM_LAR": "2026-04-02", "LEGAL_REFERRAL": "2026-07-15", "LEGAL_OPINION": "2026-07-30",
     "PERM_RECOMMENDATION": "2026-08-03"},
    {"reference": "B7", "name": "Future", "team": "north", "legal_status": "cso_home",
     "CSO_START": "2026-12-01"},
]


def test_a_file_with_errors_writes_nothing_and_reports_each_error(db):
    with db.transaction() as session:  # a child entered in PACE Flow, not by an import
        children.register_child(session, "B9", "Already Here", "north", "test")
    before = counts(db)
    rows = BAD_ROWS + [{"reference": "B9", "name": "Already Here", "team": "north",
                        "legal_status": "accommodated", "LA_START": "2026-10-01"}]
    result = caseload_import.import_rows(db, rows, source="bad.csv", today=TODAY)
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "team"), (4, "PLANNING_MTG"), (5, "allocated_worker"), (5, "PLANNING_MTG"),
        (6, "reference"), (7, "route"), (8, "CSO_START"), (9, "reference")]
    assert result.errors[-1].reason == "a child with this reference is already in PACE Flow"
    assert not result.written and result.imported == 0
    assert str(result.errors[0]) == "row 3 (B2), column team: unknown team 'east'; known: north, south"
    assert "2026-12-01 is in the future" in result.errors[-2].reason
    assert counts(db) == before
    assert "Nothing was written" in result.summary()


def test_a_row_the_diagram_cannot_place_rolls_everything_back(db):
    rows = caseload_csv.read_csv(EXAMPLE.read_bytes())[:5] + [
        {"reference": "EARLY", "name": "Early Review", "team": "north", "legal_status": "cso_home",
         "CSO_START": "2024-01-10", "AIM1_REVIEW": "2024-03-08", "aim1_recommendation": "vary"},
        {"reference": "BOOKED", "name": "Booked Early", "team": "north", "legal_status": "cso_home",
         "CSO_START": "2026-01-05", "next_review_date": "2027-07-05"}]
    before = counts(db)
    result = caseload_import.import_rows(db, rows, source="mixed.csv", today=TODAY)
    assert [(e.row, e.column) for e in result.errors] == [(7, "AIM1_REVIEW"), (8, "next_review_date")]
    assert "2024-03-08 is before the review alert (2025-05-29" in result.errors[0].reason
    assert "fires on 2027-05-24, after 2026-11-23" in result.errors[1].reason
    assert not result.written and result.imported == 0 and counts(db) == before
    rehearsal = caseload_import.import_rows(db, rows, source="mixed.csv", today=TODAY, dry_run=True)
    assert (rehearsal.imported, len(rehearsal.errors), rehearsal.written) == (5, 2, False)
    assert sum(rehearsal.open_tasks.values()) == 5 and counts(db) == before
    kept = caseload_import.import_rows(db, rows, source="mixed.csv", today=TODAY, skip_invalid=True)
    assert (kept.imported, kept.written, kept.rejected_rows) == (5, True, [7, 8])
    assert counts(db)["Subject"] == 5
    rejects = caseload_import.rejects_csv(rows, kept.errors)
    assert [line.split(",")[0] for line in rejects.splitlines()] == ["reference", "EARLY", "BOOKED"]


def test_cli_import_with_progress_summary_and_rejects(db, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    app.extensions["pace_db"] = db
    cli = app.test_cli_runner()
    template = cli.invoke(args=["import", "--template"])
    assert template.output.strip() == caseload_import.template_csv().strip()
    source = tmp_path / "caseload.csv"
    source.write_bytes(EXAMPLE.read_bytes())
    dry = cli.invoke(args=["import", str(source), "--dry-run", "--today", "2026-11-23"])
    assert dry.exit_code == 0, dry.output
    assert "would import 26 children" in dry.output and "Dry run: nothing was written." in dry.output
    assert counts(db)["Subject"] == 0
    done = cli.invoke(args=["import", str(source), "--today", "2026-11-23", "--by", "admin"])
    assert done.exit_code == 0, done.output
    assert "imported 26 children (19 accommodated, 7 on a CSO at home)" in done.output
    assert "30 tasks open (23 overdue), 2 waiting for a timer, 1 finished" in done.output
    assert "schedule_aim1_review (team leader)" in done.output
    again = cli.invoke(args=["import", str(source), "--today", "2026-11-23"])
    assert "imported 0 children; skipped 26 already imported" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_text("reference,name,team,legal_status,LA_START\nB1,Ok,north,accommodated,2026-10-01\n"
                   "B2,Bad,east,accommodated,2026-10-01\n", encoding="utf-8")
    failed = cli.invoke(args=["import", str(bad), "--today", "2026-11-23"])
    assert failed.exit_code == 1
    assert "row 3 (B2), column team: unknown team 'east'" in failed.output
    skipped = cli.invoke(args=["import", str(bad), "--today", "2026-11-23", "--skip-invalid"])
    assert skipped.exit_code == 0, skipped.output
    rejects = tmp_path / "bad.rejects.csv"
    assert rejects.read_text(encoding="utf-8").splitlines()[1].startswith("B2,Bad,east")
    assert counts(db)["Subject"] == 27
    assert cli.invoke(args=["import", str(bad), "--by", "sw.north"]).exit_code == 2
    header = tmp_path / "header.csv"
    header.write_text("reference,name,team,status,PLANING_MTG\n", encoding="utf-8")
    unreadable = cli.invoke(args=["import", str(header)])
    assert unreadable.exit_code == 1 and "'PLANING_MTG' is not a caseload column" in unreadable.output


# -- the measures are the same whether a caseload is imported or entered task by task ---
def enter_by_hand(db):
    """Four children of the example file entered step by step as workers would."""
    j = Journey(db, "H-EX014", team="south").accommodate(D("2025-12-01"))
    for task, on in [("planning_meeting", "2025-12-02"), ("initial_lar", "2025-12-22"),
                     ("interim_lar", "2026-03-02")]:
        j.complete(task, D(on), date_held=D(on))
    j.complete("legal_referral", D("2026-06-08"), referral_date=D("2026-06-08"))
    j.complete("legal_opinion", D("2026-06-22"), advice_date=D("2026-06-22"))
    j.complete("substantive_lar", D("2026-06-29"), date_held=D("2026-06-29"), route="adoption")
    j.complete("capr", D("2026-08-20"), submitted_date=D("2026-08-20"), plan_in_report="adoption_order")
    j = Journey(db, "H-EX008").accommodate(D("2025-10-06"))
    for task, on in [("planning_meeting", "2025-10-08"), ("initial_lar", "2025-10-27"),
                     ("interim_lar", "2026-01-05")]:
        j.complete(task, D(on), date_held=D(on))
    j.complete("legal_referral", D("2026-04-06"), referral_date=D("2026-04-06"))
    j.complete("legal_opinion", D("2026-04-20"), advice_date=D("2026-04-20"))
    j.complete("substantive_lar", D("2026-05-04"), date_held=D("2026-05-04"), route="not_decided",
               next_review_date=D("2026-12-07"))
    j = Journey(db, "H-EX024", team="south").place_on_cso(D("2024-05-06"))
    j.sweep(D("2025-09-25"))
    j.complete("schedule_aim1_review", D("2025-09-25"), review_date=D("2025-10-01"))
    j.complete("hold_aim1_review", D("2025-10-01"), date_held=D("2025-10-01"), recommendation="vary")
    # the import records the Reporter's notice on the review's day (its date is not in the CSV)
    j.complete("notify_reporter", D("2025-10-01"), reporter_notified_date=D("2025-10-01"))
    j.complete("record_hearing_decision", D("2025-11-05"), date_held=D("2025-11-05"),
               hearing_decision="continued")
    j.sweep(TODAY)
    j = Journey(db, "H-EX021", team="north").place_on_cso(D("2025-01-10"))
    j.sweep(TODAY)


def test_measures_equal_those_of_the_same_children_entered_task_by_task(db):
    enter_by_hand(db)
    rows = [r for r in caseload_csv.read_csv(EXAMPLE.read_bytes())
            if r["reference"] in ("EX014", "EX008", "EX024", "EX021")]
    assert caseload_import.import_rows(db, rows, today=TODAY).imported == 4

    def by_source(episodes):
        hand = [e for e in episodes if e.child.reference.startswith("H-")]
        imported = [e for e in episodes if not e.child.reference.startswith("H-")]
        return hand, imported

    def shape(episodes):
        return {e.child.reference.removeprefix("H-"): {code: [(r.on, r.occurrence, dict(r.data))
                                                              for r in reached]
                                                       for code, reached in e.milestones.items()}
                for e in episodes}

    with db.transaction() as session:
        journeys = by_source(load_episodes(session, "permanence_journey"))
        cso = by_source(load_episodes(session, "cso_home_review"))
        rows = {}  # planned and actual dates alike, per child and source
        for m, ref in session.execute(select(Milestone, Subject.reference)
                                      .join(Subject, Subject.id == Milestone.subject_id)):
            rows.setdefault((ref.startswith("H-"), ref.removeprefix("H-")), set()).add(
                (m.code, m.occurrence, m.planned_date, m.actual_date))
    assert shape(journeys[0]) == shape(journeys[1]) and shape(cso[0]) == shape(cso[1])
    assert len(rows) == 8
    for ref in ("EX014", "EX008", "EX024", "EX021"):
        assert rows[(True, ref)] == rows[(False, ref)], ref
    for number, episodes in ((2, journeys), (3, journeys), (1, cso)):
        hand, imported = (measures.measure(e, aims.DEFAULT_AIMS[number], TODAY) for e in episodes)

        def entries(result):
            return sorted((e.child.reference.removeprefix("H-"), e.anchor, e.deadline, e.done_on,
                           e.status, e.detail) for e in result.total.entries)
        assert entries(hand) == entries(imported)
        assert hand.headline == imported.headline
    hand, imported = (stage_delays.summarise(stage_delays.intervals(e)) for e in journeys)
    assert [(s.start_code, s.end_code, s.n, s.median) for s in hand] == \
        [(s.start_code, s.end_code, s.n, s.median) for s in imported]


def _cso_row(reference, recommendation=None, hearing=None, **more):
    row = {"reference": reference, "name": f"Child {reference}", "team": "north",
           "legal_status": "cso_home", "CSO_START": "2023-06-01", "AIM1_REVIEW": "2024-11-15",
           "CSO_HEARING": "2024-12-10"}
    if recommendation:
        row["aim1_recommendation"] = recommendation
    if hearing:
        row["hearing_decision"] = hearing
    return row | more


def test_imported_reviews_carry_their_recommendations_into_the_aim1_outcome_mix(db):
    """The South Ayrshire case: 4 of 5 reviews recommended ending the order. Imported with
    the recommendation column, the outcome mix says so (it said 100% continue before)."""
    rows = [_cso_row(f"R{i}", "terminate", "varied" if i == 0 else "continued")
            for i in range(4)] + [_cso_row("R4", "Continue", CSO_HEARING="")]  # no hearing
    result = caseload_import.import_rows(db, rows, source="reviews.csv", today=TODAY)
    assert result.errors == [] and result.imported == 5
    with db.transaction() as session:
        episodes = load_episodes(session, "cso_home_review")
        mix = {code: count for code, _label, count, _pct
               in measures.aim1(episodes, aims.DEFAULT_AIMS[1], TODAY).outcome_mix()}
    assert mix["terminate"] == 4 and mix["continue"] == 1 and sum(mix.values()) == 5


def test_outcome_columns_are_checked_with_the_reason(db):
    rows = [_cso_row("B1", "stop"), _cso_row("B2", hearing="away_from_home"),
            _cso_row("B3", "continue", AIM1_REVIEW="", CSO_HEARING=""),
            _cso_row("B4", "terminate", "terminated", next_review_date="2025-06-01"),
            {"reference": "B5", "name": "Accommodated", "team": "north",
             "legal_status": "accommodated", "LA_START": "2025-01-06",
             "aim1_recommendation": "continue"}]
    result = caseload_import.import_rows(db, rows, source="bad.csv", today=TODAY, dry_run=True)
    found = {(e.row, e.column): e.reason for e in result.errors}
    assert "'stop' is not one of terminate, continue, vary, permanence_away" in found[(2, "aim1_recommendation")]
    assert "import the child as accommodated" in found[(3, "hearing_decision")]
    assert "give its date in AIM1_REVIEW" in found[(4, "aim1_recommendation")]
    assert "no review follows" in found[(5, "next_review_date")]
    assert found[(6, "aim1_recommendation")] == "only for children on a CSO at home"
