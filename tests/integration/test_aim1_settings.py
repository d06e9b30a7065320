"""Aim 1's settings drive the CSO review loop and the measure alike (tracker issue 29):
one threshold for the measure's deadline and the loop's first review, the review's chair,
and whether children in kinship care on a CSO count."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import InvalidData
from engine.models import ProcessInstance, Subject, Timer, UserAccount
from workflows import profiles
from workflows.children import entry, records
from workflows.demo import scotland as demo
from workflows.measures import aim_reads, aim_results, aim_store
from workflows.measures.data import load_episodes
from workflows.services import settings as settings_service
from workflows.vocabulary import CSO_HOME

from .driver import Journey

CSO = date(2025, 1, 10)
COUNCIL = "default"  # the council the test database's sessions read (PACE_COUNCIL unset)


@dataclass(frozen=True)
class Actor:
    id: int
    username: str
    roles: tuple[str, ...]
    team: str | None


def _owner(session) -> Actor:
    demo.ensure_users(session, actor="test")
    user = session.scalars(select(UserAccount).where(UserAccount.username == "owner")).one()
    return Actor(user.id, user.username, tuple(user.roles), user.team)


def _set(database, **changes) -> None:
    """As ``pace settings set aims.1.<key>=<value>`` does."""
    with database.transaction() as session:
        settings_service.change(session, _owner(session), COUNCIL,
                                {f"aims.1.{key}": value for key, value in changes.items()})


def _alerts(database, journey: Journey) -> list[date]:
    """The days the child's waiting timers fire."""
    with database.transaction() as session:
        return [fire_at.date() for fire_at in session.scalars(
            select(Timer.fire_at).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(ProcessInstance.subject_id == journey.child_id))]


def _aim1(database, measured_on: date):
    with database.transaction() as session:
        settings = aim_store.load(session, COUNCIL)[1]
        sql = aim_reads.aim_result(session, settings, measured_on)
        episodes = load_episodes(session, CSO_HOME)
        python = aim_results.measure(episodes, settings, measured_on)
    return settings, sql, python


def _deadlines(result) -> dict[str, date]:
    return {e.child.reference: e.deadline for c in result.cohorts for e in c.tally.entries}


def test_one_setting_moves_the_aim_and_the_first_review(database):
    before = Journey(database, "C00001").place_on_cso(CSO)
    assert _alerts(database, before) == [date(2026, 5, 29)]  # 18 months less 6 weeks

    _set(database, threshold="24m")

    after = Journey(database, "C00002").place_on_cso(CSO)
    assert _alerts(database, after) == [date(2026, 11, 29)]  # 24 months less 6 weeks
    # A timer already waiting keeps its date (docs/bpmn-authoring.md: dates are not recomputed).
    assert _alerts(database, before) == [date(2026, 5, 29)]

    settings, sql, python = _aim1(database, date(2027, 2, 1))
    assert settings.threshold.text == "24m"
    assert _deadlines(sql) == _deadlines(python) == {"C00001": date(2027, 1, 10),
                                                     "C00002": date(2027, 1, 10)}

    # The new child's review is due when the aim says it is.
    after.sweep(date(2026, 11, 29))
    after.expect("schedule_aim1_review", "team_leader", date(2026, 12, 13))
    after.complete("schedule_aim1_review", date(2026, 12, 1), review_date=date(2027, 1, 20))
    item = after.expect("hold_aim1_review", "independent_chair", date(2027, 1, 20))
    assert item.due_date == date(2027, 1, 20)

    _set(database, threshold="12m")
    third = Journey(database, "C00003").place_on_cso(CSO)
    assert _alerts(database, third) == [date(2025, 11, 29)]  # 12 months less 6 weeks


def test_the_team_leader_chairs_the_review_when_the_council_says_so(database, monkeypatch):
    monkeypatch.setenv("PACE_CSO_REVIEW_CHAIR", "team_leader")  # cso_review.chair
    j = Journey(database).place_on_cso(CSO)
    j.sweep(date(2026, 5, 29))
    j.complete("schedule_aim1_review", date(2026, 6, 1), review_date=date(2026, 7, 8))
    j.expect("hold_aim1_review", "team_leader", date(2026, 7, 8))  # South Ayrshire's choice
    j.complete("hold_aim1_review", date(2026, 7, 8), date_held=date(2026, 7, 8),
               recommendation="continue")
    j.expect_nothing_open()


def test_children_in_kinship_care_count_in_aim1_only_when_the_aim_says_so(database):
    Journey(database, "C00001").place_on_cso(CSO)
    kin = Journey(database, "C00002")
    with database.transaction() as session:
        entry.enter(session, database.runtime, profiles.SCOTLAND_PROFILE,
                    {"reference": "C00003", "name": "Kinship Child", "pathway": "cso_kinship",
                     "start_date": CSO.isoformat()}, "north", "test")
        child = session.get(Subject, kin.child_id)
        records.place_on_cso_at_home(session, database.runtime, child, CSO, "test", "kinship")
    # Both kinship children are on the review loop all the same.
    assert [i.process_id for i in kin.instances()] == [CSO_HOME]

    _, sql, python = _aim1(database, date(2026, 8, 1))
    assert set(_deadlines(sql)) == set(_deadlines(python)) == {"C00001"}  # South Ayrshire's

    _set(database, placement="home_or_kinship")  # Argyll and Bute: at home or in kinship care
    settings, sql, python = _aim1(database, date(2026, 8, 1))
    assert settings.population.describe() == "at home or in kinship care"
    assert set(_deadlines(sql)) == set(_deadlines(python)) == {"C00001", "C00002", "C00003"}


@pytest.mark.parametrize("value", ["kinship", "both"])
def test_the_placement_setting_names_its_choices(database, value):
    with pytest.raises(InvalidData) as refused:
        _set(database, placement=value)
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("aims.1.placement", "Choose home or home_or_kinship.")]
