"""Measures read from the real milestone index, aim settings and PDSA records, on both DBs."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from engine.errors import NotFound
from engine.models import AuditEvent, Milestone, ProcessInstance, ProcessModel, Subject
from workflows.measures import aim_store, aims, aim_results as measures, pdsa, stage_delays
from workflows.demo import scotland as demo
from workflows.measures.aims import Population, SettingError, Threshold
from workflows.measures.data import load_deployments, load_episodes
from workflows.vocabulary import CSO_HOME, PERMANENCE

from .driver import Journey
from .test_permanence_journey import to_substantive_lar

D = date.fromisoformat


def test_reviews_and_recommendations_carry_their_outcome_into_the_index(database):
    cso = Journey(database, "C00001").place_on_cso(D("2025-01-10"))
    cso.sweep(D("2026-05-29"))
    cso.complete("schedule_aim1_review", D("2026-06-01"), review_date=D("2026-07-08"))
    cso.complete("hold_aim1_review", D("2026-07-08"), date_held=D("2026-07-08"),
                 recommendation="vary")
    with database.transaction() as session:
        (review,) = session.scalars(select(Milestone).where(Milestone.code == "AIM1_REVIEW"))
        assert (review.actual_date, review.data) == (D("2026-07-08"), {"recommendation": "vary"})
        (episode,) = load_episodes(session, CSO_HOME)
    result = measures.aim1([episode], aims.DEFAULT_AIMS[1], D("2026-08-01"))
    assert [(e.status, e.detail) for e in result.total.entries] == [("on_time", "vary")]


def test_substantive_review_route_is_kept_only_when_a_route_is_decided(database):
    j = to_substantive_lar(database)
    j.complete("substantive_lar", D("2026-08-03"), route="not_decided", date_held=D("2026-08-03"),
               next_review_date=D("2026-10-05"))
    j.complete("substantive_lar", D("2026-10-05"), route="permanence_order",
               date_held=D("2026-10-05"))
    with database.transaction() as session:
        rows = session.scalars(select(Milestone).where(Milestone.code == "PERM_RECOMMENDATION")
                               .order_by(Milestone.occurrence)).all()
        assert [(r.actual_date, r.data) for r in rows] == \
            [(D("2026-10-05"), {"route": "permanence_order"})]


def _seed(session, model, reference, team, dob, rows, process_id=PERMANENCE, status="running"):
    child = Subject(reference=reference, display_name=reference, team=team, date_of_birth=dob,
                    attributes={})
    session.add(child)
    session.flush()
    instance = ProcessInstance(subject_id=child.id, process_id=process_id, model_id=model.id,
                               status=status, state="{}", version=1,
                               started_at=datetime(2024, 1, 1, tzinfo=timezone.utc),
                               completed_at=datetime(2025, 3, 1, tzinfo=timezone.utc)
                               if status == "completed" else None)
    session.add(instance)
    session.flush()
    for number, (code, actual, data, version) in enumerate(rows):
        session.add(Milestone(instance_id=instance.id, subject_id=child.id, process_id=process_id,
                              model_version=version, code=code, occurrence=1,
                              planned_date=None, actual_date=actual, data=data))
    return instance


@pytest.fixture
def caseload(database):
    """Six accommodated children in two teams, written straight into the index tables."""
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
        model = session.scalars(select(ProcessModel).where(ProcessModel.process_id == PERMANENCE)).first()
        v = model.version
        _seed(session, model, "N1", "north", D("2015-01-01"), [
            ("LA_START", D("2024-01-01"), {}, v), ("PLANNING_MTG", D("2024-01-03"), {}, v),
            ("PERM_RECOMMENDATION", D("2024-06-01"), {"route": "adoption"}, v),
            ("ADM", D("2024-10-01"), {}, v)])
        _seed(session, model, "N2", "north", D("2015-01-01"), [
            ("LA_START", D("2024-01-01"), {}, v), ("PLANNING_MTG", D("2024-01-08"), {}, v),
            ("PERM_RECOMMENDATION", D("2024-09-01"), {"route": "home"}, v)])
        _seed(session, model, "N3", "north", D("2015-01-01"), [("LA_START", D("2024-02-01"), {}, v)])
        _seed(session, model, "S1", "south", D("2010-01-01"), [  # aged 14
            ("LA_START", D("2024-01-01"), {}, v),
            ("PERM_RECOMMENDATION", D("2024-03-01"), {"route": "kinship"}, v)])
        _seed(session, model, "S2", "south", None, [("LA_START", D("2024-03-01"), {}, v)],
              status="completed")
        # a planned-only row is not a reached milestone
        instance = _seed(session, model, "S3", "south", D("2016-01-01"),
                         [("LA_START", D("2024-12-01"), {}, v)])
        session.add(Milestone(instance_id=instance.id, subject_id=instance.subject_id,
                              process_id=PERMANENCE, model_version=v, code="PLANNING_MTG",
                              occurrence=1, planned_date=D("2024-12-04"), actual_date=None,
                              data={}))
    return database


def test_loader_reads_reached_milestones_by_team(caseload):
    with caseload.transaction() as session:
        everyone = load_episodes(session, PERMANENCE)
        north = load_episodes(session, PERMANENCE, teams=["north"])
        only = load_episodes(session, PERMANENCE, codes=["LA_START"], teams=["south"])
    assert [e.child.reference for e in everyone] == ["N1", "N2", "N3", "S1", "S2", "S3"]
    assert [e.child.reference for e in north] == ["N1", "N2", "N3"]
    by_ref = {e.child.reference: e for e in everyone}
    assert by_ref["N1"].first("PERM_RECOMMENDATION").data == {"route": "adoption"}
    assert by_ref["S3"].first("PLANNING_MTG") is None
    assert (by_ref["S2"].status, by_ref["S2"].ended_on) == ("completed", D("2025-03-01"))
    assert by_ref["S2"].child.date_of_birth is None
    assert {tuple(e.milestones) for e in only} == {("LA_START",)}


def test_three_aims_and_stage_delays_from_the_database(caseload):
    with caseload.transaction() as session:
        episodes = load_episodes(session, PERMANENCE)
    settings = aims.DEFAULT_AIMS[2].with_changes(population=Population(max_age=12))
    aim2 = measures.aim2(episodes, settings, D("2025-01-15"))
    statuses = {e.child.reference: e.status for e in aim2.total.entries}
    # N2 decided after 30 weeks (deadline 2024-07-29); S2's journey ended before its deadline
    assert statuses == {"N1": "on_time", "N2": "late", "N3": "overdue", "S3": "pending"}
    assert aim2.left_out_reasons() == {"aged 12 or over": 1, "no date of birth": 1}
    aim3 = measures.aim3(episodes, aims.DEFAULT_AIMS[3], D("2025-01-15"))
    assert [(e.child.reference, e.status) for e in aim3.total.entries] == [("N1", "on_time")]
    stats = {(s.start_code, s.end_code): s for s in
             stage_delays.summarise(stage_delays.intervals(episodes))}
    assert stats[("LA_START", "PLANNING_MTG")].n == 2
    assert stats[("LA_START", "PLANNING_MTG")].median == 4.5


def test_default_aims_are_seeded_and_changes_are_audited(database):
    with database.transaction() as session:
        stored = aim_store.load(session)
        assert {a: (s.target_pct, s.threshold.text) for a, s in stored.items()} == \
            {1: (80, "18m"), 2: (75, "30w"), 3: (60, "30w")}
        # A council that never saved an aim reads the DOMAIN.md default, as written there.
        unsaved = aim_store.load(session, "midlothian")[2]
        assert (unsaved.council, unsaved.target_pct, unsaved.threshold.text) == ("midlothian", 75, "30w")
        assert unsaved.population.describe() == "all children"
        assert (unsaved.start_date, unsaved.end_date) == (None, None)
        assert unsaved.wording.startswith("75% of children who become looked after and accommodated")
        midlothian = aims.PRESETS["midlothian"][2]
        aim_store.save(session, midlothian, "owner")
    with database.transaction() as session:
        saved = aim_store.load(session, "midlothian")[2]
        assert saved == midlothian
        assert (saved.threshold.text, saved.population.describe(), saved.start_date) == \
            ("7.5m", "under 12", D("2017-11-01"))
        assert aim_store.load(session)[2].threshold.text == "30w"  # the other council's is untouched
        changed = aims.DEFAULT_AIMS[1].with_changes(threshold=Threshold.parse("24m"), target_pct=100)
        aim_store.save(session, changed, "owner")
    with database.transaction() as session:
        assert aim_store.load(session)[1].threshold.text == "24m"
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "aim_settings_changed").order_by(AuditEvent.id)).all()
        assert [e.data["after"]["threshold"] for e in events] == ["7.5m", "24m"]
        assert events[0].data["before"] is None
        assert events[1].data["before"]["threshold"] == "18m"


def test_pdsa_cycles_flags_and_annotations(database):
    start = D("2026-02-02")
    with database.transaction() as session:
        cycle = pdsa.record_cycle(session, pdsa.CycleInput(
            aim=2, change_idea="Two-week review", cycle_number=1, start_date=start,
            plan="Test a review two weeks after accommodation for the next 5 children",
            prediction="Planning starts earlier", process_id=PERMANENCE, model_version=2), "owner")
        cycle_id = cycle.id
        with pytest.raises(SettingError, match="act must be adopt, adapt or abandon"):
            pdsa.record_cycle(session, pdsa.CycleInput(aim=2, change_idea="x", cycle_number=1,
                                                       start_date=start, act="keep"), "owner")
    with database.transaction() as session:
        pdsa.update_cycle(session, cycle_id, pdsa.CycleInput(
            aim=2, change_idea="Two-week review", cycle_number=1, start_date=start,
            end_date=D("2026-04-30"), what_happened="All five reviews held", study="As predicted",
            act="adopt", process_id=PERMANENCE, model_version=2), "owner")
        with pytest.raises(NotFound):
            pdsa.update_cycle(session, cycle_id, pdsa.CycleInput(
                aim=2, change_idea="x", cycle_number=1, start_date=start), "owner", council="other")
        pdsa.flag_month(session, 2, D("2026-03-17"), "Court closure", "owner")
        pdsa.flag_month(session, 2, D("2026-03-01"), "Court closure (all month)", "owner")
    with database.transaction() as session:
        (stored,) = pdsa.cycles(session, aim=2)
        assert (stored.act, stored.end_date, stored.model_version) == ("adopt", D("2026-04-30"), 2)
        assert pdsa.cycles(session, aim=1) == []
        flags = pdsa.flagged_months(session, 2)
        assert [(f.month, f.note) for f in flags] == [(D("2026-03-01"), "Court closure (all month)")]
        notes = pdsa.annotations(pdsa.cycles(session, aim=2),
                                 load_deployments(session, [pdsa.AIM_PROCESS[2]]))
        assert [(a.kind, a.label) for a in notes if a.kind == "pdsa"] == \
            [("pdsa", "PDSA: Two-week review (cycle 1), adopt")]
        assert [a.label for a in notes if a.kind == "deployment"][0].startswith(
            "Permanence journey version 1 live")
        pdsa.unflag_month(session, 2, D("2026-03-05"), "owner")
    with database.transaction() as session:
        assert pdsa.flagged_months(session, 2) == []
        kinds = [e.event_type for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
                 if e.event_type.startswith(("pdsa", "run_chart"))]
        assert kinds == ["pdsa_cycle_recorded", "pdsa_cycle_updated", "run_chart_point_flagged",
                         "run_chart_point_flagged", "run_chart_flag_removed"]

