"""SSDA903-style export of English children's milestones, and its validation.

A generated caseload of 391 children (built through the real runtime, every timescale kept)
exports cleanly; a deliberately broken record is reported with child, field and rule. The
caseload is built once, in one test, on SQLite only (the per-child walks are covered on both
databases by the other test_england_* modules and the small journey below).
"""
import time
from datetime import date, timedelta

from sqlalchemy import select, update

from engine.models import Milestone, Subject
from workflows.demo import england as england_demo
from workflows.returns.ssda903 import export_and_validate
from workflows.returns.ssda903_format import (EPISODE_COLUMNS, HEADER_COLUMNS, REVIEW_COLUMNS,
                                              read_csv)
from workflows.returns.ssda903_rules import validate

from .england_journey import EnglandJourney, england_database

TODAY = date(2026, 3, 31)
YEAR = (date(2025, 4, 1), TODAY)
CHILDREN = 391


def test_generated_caseload_of_391_children_passes_and_a_broken_record_is_reported(
        request, tmp_path):
    # One test builds the caseload, so no worker ever builds it twice (SQLite only).
    database = england_database(request, tmp_path, "sqlite")
    started = time.perf_counter()
    # Entrants of the last 8 months, recent ones more common (about 40% under 4 weeks).
    result = england_demo.build(database, children=CHILDREN, today=TODAY, drift=0,
                                max_days=240, skew=2.5, sweep=False)
    seconds = time.perf_counter() - started
    assert result.children == CHILDREN
    with database.transaction() as session:
        export, findings = export_and_validate(session, *YEAR)
    assert [str(f) for f in findings] == []
    assert len(export.header) == CHILDREN
    assert len({e["CHILD"] for e in export.episodes}) == CHILDREN
    # Every route shows in the return: moves, legal status changes (interim, care and
    # placement orders), children leaving care, reviews with participation codes.
    assert {"S", "P", "L"} <= {e["RNE"] for e in export.episodes}
    assert {"V2", "C1", "C2"} <= {e["LS"] for e in export.episodes}
    assert {"L1", "L2"} <= {e["LS"] for e in export.episodes}  # police protection, EPO
    assert {"X1"} < {e["REC"] for e in export.episodes if e["REC"]}
    reviewed = {r["CHILD"] for r in export.reviews}
    assert len(reviewed) > CHILDREN // 2
    assert len(export.reviews) > len(reviewed)  # second reviews too
    assert {"PN0", "PN1", "PN6"} <= {r["REVIEW_CODE"] for r in export.reviews}

    paths = export.write(tmp_path / "ssda903")
    assert [p.name for p in paths] == ["header.csv", "episodes.csv", "reviews.csv"]
    lines = {p.stem: p.read_text(encoding="utf-8").splitlines() for p in paths}
    assert lines["header"][0] == ",".join(HEADER_COLUMNS)
    assert lines["episodes"][0] == ",".join(EPISODE_COLUMNS)
    assert lines["reviews"][0] == ",".join(REVIEW_COLUMNS)
    assert len(lines["header"]) == CHILDREN + 1
    tables = {p.stem: read_csv(p.read_text(encoding="utf-8")) for p in paths}
    assert validate(tables, *YEAR) == []  # read back from the files, it still passes

    # A deliberately broken record: a second review recorded 30 weeks late...
    child = next(r["CHILD"] for r in export.reviews
                 if sum(1 for s in export.reviews if s["CHILD"] == r["CHILD"]) >= 2)
    with database.transaction() as session:
        subject_id = session.scalar(select(Subject.id).where(Subject.reference == child))
        second = session.scalars(select(Milestone).where(
            Milestone.subject_id == subject_id, Milestone.code == "REVIEW",
            Milestone.actual_date.is_not(None)).order_by(Milestone.occurrence)).first()
        session.execute(update(Milestone).where(Milestone.id == second.id)
                        .values(actual_date=second.actual_date + timedelta(weeks=30)))
        _, findings = export_and_validate(session, *YEAR)
        session.rollback()
    assert [(f.child, f.field, f.rule) for f in findings] == [(child, "REVIEW", "PACE-R2")], \
        [str(f) for f in findings]
    # ...and an episode whose end date precedes its start, in the files.
    broken = tables["episodes"][5]
    broken.update(DEC="01/01/2000", REC="E4A")
    found = {(f.child, f.field, f.rule) for f in validate(tables, *YEAR)}
    assert (broken["CHILD"], "DEC", "356") in found
    print(f"\n{result.summary()} Built in {seconds:.1f}s; {len(export.episodes)} episodes, "
          f"{len(export.reviews)} reviews.")


def test_late_first_review_reported_through_the_runtime(eng_db):
    j = EnglandJourney(eng_db, "E00042").looked_after(date(2026, 1, 5))
    j.complete("first_review", date(2026, 2, 9), plan_challenged="no",
               looked_after_status="continues", participation="PN1",
               next_review_date=date(2026, 4, 30))  # due 2 February: a week late
    j.complete("first_visit", date(2026, 1, 9), seen_alone=True, placement_status="moved",
               new_placement_date=date(2026, 1, 9), placement_type="K2", placement_provider="PR4",
               placement_postcode="LS9 9ZZ", reason_place_change="CREQB")
    with eng_db.transaction() as session:
        export, findings = export_and_validate(session, date(2025, 4, 1), date(2026, 3, 31))
    assert [(e["DECOM"], e["RNE"], e["PLACE"], e["DEC"], e["REC"], e["REASON_PLACE_CHANGE"])
            for e in export.episodes] == [
        ("05/01/2026", "S", "U6", "09/01/2026", "X1", "CREQB"),
        ("09/01/2026", "P", "K2", "", "", "")]
    assert export.reviews == [{"CHILD": "E00042", "DOB": "01/06/2015", "REVIEW": "09/02/2026",
                               "REVIEW_CODE": "PN1"}]
    assert [(f.table, f.child, f.field, f.rule) for f in findings] == [
        ("reviews", "E00042", "REVIEW", "PACE-R1")]


def test_pace_demo_england_and_export_commands(request, tmp_path):
    from web import create_app
    database = england_database(request, tmp_path, "sqlite")  # PACE_PROFILES=england
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "DEMO_MODE": True})
    app.extensions["pace_db"] = database
    cli = app.test_cli_runner()
    made = cli.invoke(args=["demo", "--profile", "england", "--children", "6",
                            "--today", "2026-03-31"])
    assert made.exit_code == 0, made.output
    assert "English caseload: 6 children" in made.output and "eng.iro" in made.output
    out = tmp_path / "return"
    result = cli.invoke(args=["export-ssda903", "--from", "2025-04-01", "--to", "2026-03-31",
                              "--output", str(out)])
    assert "6 children" in result.output, result.output
    assert sorted(p.name for p in out.iterdir()) == ["episodes.csv", "header.csv", "reviews.csv"]
    assert result.exit_code == (1 if "problem(s)\n  " in result.output else 0)
