"""The aggregate-query path (workflows/measures/aim_reads.py) gives exactly what the episode path
gives (load_episodes + the pure functions), on a caseload played through the runtime plus
hand-written edge cases, on SQLite and PostgreSQL."""
import itertools
from datetime import date

import pytest
from sqlalchemy import select, text

from engine.models import Milestone, ProcessModel
from workflows.measures import (aims, aim_reads as measure_sql, aim_results as measures,
                                stage_delays, stage_reads as stage_sql)
from workflows.demo import scotland as demo
from workflows.measures.aims import Population
from workflows.measures.data import load_episodes
from workflows.vocabulary import CSO_HOME, CSO_ORDER, JOURNEY_ORDER, PERMANENCE

from .test_measures_db import _seed

D = date.fromisoformat
TODAY = D("2026-03-02")


def _edge_cases(session):
    """What the runtime rarely writes but the index can hold: occurrences entered out of
    date order, two on one day, recommendations without a route, a CAPR-only away route,
    a recommendation after the ADM, milestones after the measurement dates, a review with a
    blank recommendation."""
    model = session.scalars(select(ProcessModel).where(ProcessModel.process_id == PERMANENCE)).first()
    cso = session.scalars(select(ProcessModel).where(ProcessModel.process_id == CSO_HOME)).first()
    v = model.version
    e1 = _seed(session, model, "E1", "north", D("2016-02-29"), [
        ("LA_START", D("2024-02-29"), {}, v), ("PLANNING_MTG", D("2024-03-05"), {}, v),
        ("PERM_RECOMMENDATION", D("2024-09-01"), {}, v), ("CAPR", D("2024-10-01"), {}, v + 1),
        ("ADM", D("2025-03-01"), {}, v + 1)])
    e2 = _seed(session, model, "E2", "south", D("2013-06-30"), [
        ("LA_START", D("2024-06-30"), {}, v), ("PERM_RECOMMENDATION", D("2024-08-01"), {}, v),
        ("PANEL", D("2025-02-01"), {}, v), ("ADM", D("2025-02-20"), {}, v),
        ("ORDER_GRANTED", D("2027-01-01"), {}, v)])
    _seed(session, model, "E3", "north", None, [
        ("LA_START", D("2025-01-31"), {}, v),
        ("PERM_RECOMMENDATION", D("2025-08-31"), {"route": ""}, v)], status="completed")
    e4 = _seed(session, cso, "E4", "south", D("2012-01-01"), [
        ("CSO_START", D("2024-01-31"), {}, cso.version),
        ("AIM1_REVIEW", D("2025-09-01"), {"recommendation": "terminate"}, cso.version)],
        process_id=CSO_HOME)
    _seed(session, cso, "E5", "north", D("2014-05-05"), [  # a review whose recommendation is blank
        ("CSO_START", D("2024-03-01"), {}, cso.version),
        ("AIM1_REVIEW", D("2025-03-01"), {"recommendation": ""}, cso.version)],
        process_id=CSO_HOME)
    more = [(e1, PERMANENCE, "PERM_RECOMMENDATION", 2, D("2025-01-10"), {"route": "adoption"}, v + 1),
            (e2, PERMANENCE, "PERM_RECOMMENDATION", 2, D("2024-12-01"),
             {"route": "permanence_order"}, v),
            (e2, PERMANENCE, "ADM", 2, D("2026-02-20"), {}, v),
            # later occurrences entered with earlier dates, two of them on one day
            (e4, CSO_HOME, "AIM1_REVIEW", 2, D("2025-08-01"), {"recommendation": "vary"}, cso.version),
            (e4, CSO_HOME, "AIM1_REVIEW", 3, D("2025-08-01"), {"recommendation": "continue"},
             cso.version)]
    for instance, process_id, code, occurrence, day, data, version in more:
        session.add(Milestone(instance_id=instance.id, subject_id=instance.subject_id,
                              process_id=process_id, model_version=version, code=code,
                              occurrence=occurrence, planned_date=None, actual_date=day, data=data))


@pytest.fixture
def caseload(database):
    demo.build(database, children=16, seed=7, today=TODAY)
    with database.transaction() as session:
        _edge_cases(session)
    return database


SETTINGS = [
    dict(aims.DEFAULT_AIMS),
    {aim: s.with_changes(population=Population(max_age=12, teams=("north",)),
                         start_date=D("2024-07-01")) for aim, s in aims.DEFAULT_AIMS.items()},
]


def test_aims_from_queries_equal_aims_from_episodes(caseload):
    with caseload.transaction() as session:
        for on, teams, settings in itertools.product(
                (TODAY, D("2025-06-30"), D("2024-09-15")), (None, ("north",)), SETTINGS):
            fast = measure_sql.aim_results(session, settings, on, teams)
            for aim, result in fast.items():
                episodes = load_episodes(session, measure_sql.AIM_PROCESS[aim],
                                         codes=measures.AIM_CODES[aim], teams=teams)
                reference = measures.measure(episodes, settings[aim], on)
                assert result.total.entries == reference.total.entries, (aim, settings[aim])
                assert result.left_out == reference.left_out
                assert [(c.month, c.complete) for c in result.cohorts] == \
                    [(c.month, c.complete) for c in reference.cohorts]
            # counted without the children (the dashboard's way): the same figures
            counted = measure_sql.aim_results(session, settings, on, teams, listed=False)
            for aim, result in counted.items():
                assert result.total.entries is None
                assert result.figures() == fast[aim].figures(), (aim, on, teams, settings[aim])
    assert any(r.total.entries for r in fast.values())  # the caseload reaches the aims


@pytest.mark.parametrize("process_id, order", [(PERMANENCE, JOURNEY_ORDER), (CSO_HOME, CSO_ORDER)])
def test_stage_counts_equal_intervals_from_episodes(caseload, process_id, order):
    with caseload.transaction() as session:
        for until, teams in ((None, None), (TODAY, ("south",)), (D("2025-06-30"), None)):
            counts = stage_sql.stage_counts(session, process_id, order, until, teams)
            items = stage_delays.intervals(load_episodes(session, process_id, teams=teams),
                                           order, until)
            assert sorted(counts) == stage_delays.counts(items)
            assert stage_delays.summarise(counts, order) == stage_delays.summarise(items, order)
            assert stage_delays.by_version(counts, order) == stage_delays.by_version(items, order)
            assert stage_delays.by_cohort(counts, "quarter", order) == \
                stage_delays.by_cohort(items, "quarter", order)
        started = (D("2024-06-01"), D("2025-05-31"))
        everything = stage_delays.intervals(load_episodes(session, process_id), order, TODAY)
        counts = stage_sql.stage_counts(session, process_id, order, TODAY, started=started)
        since = D("2025-08-15")
        for teams in (None, ("north",)):  # the whole caseload and a team are read apart
            items = stage_delays.intervals(load_episodes(session, process_id, teams=teams),
                                           order, TODAY)
            every, _, recent = stage_sql.counted(session, process_id, order, TODAY, teams,
                                                 ended_after=since)
            assert sorted(every) == stage_delays.counts(items)
            assert sorted(recent) == stage_delays.counts(i for i in items if i.end > since)
            assert sorted(recent) == sorted(stage_sql.stage_counts(
                session, process_id, order, TODAY, teams, ended_after=since))
            if teams is None:  # the window leaves some stages out, not all
                assert 0 < sum(c.n for c in recent) < sum(c.n for c in every)
    assert sorted(counts) == stage_delays.counts(stage_delays.started_between(everything, *started))
    assert counts  # the caseload has stages begun in that range


@pytest.mark.parametrize("teams", [None, ("north",)])
def test_two_date_ranges_counted_at_once(caseload, teams):
    """The stage-delay page compares two ranges from one count: each part is what counting
    that range alone (and the episodes path) gives."""
    ranges = ((D("2024-01-01"), D("2024-12-31")), (D("2025-01-01"), D("2025-10-31")))
    with caseload.transaction() as session:
        found = stage_sql.counted(session, PERMANENCE, JOURNEY_ORDER, TODAY, teams,
                                  started=ranges)
        items = stage_delays.intervals(load_episodes(session, PERMANENCE, teams=teams),
                                       JOURNEY_ORDER, TODAY)
        assert sorted(found.every) == stage_delays.counts(items)
        assert found.recent == []
        for part, (first, last) in zip(found.started, ranges, strict=True):
            assert sorted(part) == stage_delays.counts(
                stage_delays.started_between(items, first, last))
            assert sorted(part) == sorted(stage_sql.stage_counts(
                session, PERMANENCE, JOURNEY_ORDER, TODAY, teams, started=(first, last)))
        assert all(found.started) and found.started[0] != found.started[1]
        with pytest.raises(ValueError, match="not both"):
            stage_sql.stage_counts(session, PERMANENCE, JOURNEY_ORDER, TODAY,
                                   started=ranges[0], ended_after=TODAY)


def test_each_clock_milestone_has_its_own_index_on_sqlite(database):
    """The aims name these partial indexes on SQLite (migration 0012); each must hold exactly
    the milestone ``CLOCK_INDEXES`` says, or SQLite would refuse the query or read the wrong
    rows. PostgreSQL reads these milestones by window functions and is spared their writes."""
    with database.transaction() as session:
        if session.get_bind().dialect.name == "sqlite":
            found = dict(session.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all())
            for (process_id, code), name in measure_sql.CLOCK_INDEXES.items():
                assert f"process_id = '{process_id}' AND code = '{code}'" in found[name], name
        else:
            found = set(session.scalars(text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")))
            assert "ix_milestone_reached" in found
            assert not found & set(measure_sql.CLOCK_INDEXES.values())
