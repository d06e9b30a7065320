"""The measures' services on both databases: an aim's settings, PDSA cycles and run-chart
flags, who may change them, what they refuse (naming each field) and what they audit; and
the council they act for, read once from ``PACE_COUNCIL``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import AuditEvent, UserAccount
from workflows.measures import aim_store, pdsa
from workflows.demo import scotland as demo
from workflows.app import Database, Settings, SettingsError
from workflows.services import aim_settings, pdsa_cycles
from workflows.vocabulary import CSO_HOME, PERMANENCE

COUNCIL = "midlothian"


@dataclass(frozen=True)
class Actor:
    id: int
    username: str
    roles: tuple[str, ...]
    team: str | None


@pytest.fixture
def people(database) -> dict[str, Actor]:
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
        return {u.username: Actor(u.id, u.username, tuple(u.roles), u.team)
                for u in session.scalars(select(UserAccount))}


def _fields(exc: pytest.ExceptionInfo) -> set[str]:
    return {e.field for e in exc.value.errors}


def _events(session, prefix: str) -> list[AuditEvent]:
    return [e for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.event_type.startswith(prefix)]


# -- an aim's settings ----------------------------------------------------------------------------
def test_a_process_owner_changes_settings_and_the_change_is_audited(database, people):
    with database.transaction() as session:
        changed = aim_settings.change(session, people["owner"], COUNCIL, 2, {
            "target_pct": "80", "threshold": "7.5m", "max_age": "12",
            "teams": "north", "start_date": "2017-11-01", "end_date": "2018-11-01"})
    assert (changed.target_pct, changed.threshold.text, changed.population.max_age) == \
        (80, "7.5m", 12)
    with database.transaction() as session:
        stored = aim_store.load(session, COUNCIL)[2]
        assert stored == changed and stored.population.teams == ("north",)
        assert aim_store.load(session, "default")[2].threshold.text == "30w"  # another council
        # only what is named changes; the population's teams and ages stay
        again = aim_settings.change(session, people["admin"], COUNCIL, 2, {"wording": " New "})
        assert (again.wording, again.population.teams, again.population.max_age,
                again.start_date) == ("New", ("north",), 12, date(2017, 11, 1))
        cleared = aim_settings.change(session, people["admin"], COUNCIL, 2,
                                      {"max_age": "", "teams": [], "end_date": None})
        assert (cleared.population.max_age, cleared.population.teams, cleared.end_date) == \
            (None, (), None)
    with database.transaction() as session:
        events = _events(session, "aim_settings_changed")
        assert [e.actor for e in events] == ["owner", "admin", "admin"]
        assert events[0].data["after"]["threshold"] == "7.5m"
        assert events[0].data["council"] == COUNCIL and events[0].data["before"] is None
        assert events[1].data["before"]["wording"] != "New"


@pytest.mark.parametrize("changes, fields", [
    ({"target_pct": "150"}, {"target_pct"}),
    ({"target_pct": "0"}, {"target_pct"}),
    ({"target_pct": "seventy"}, {"target_pct"}),
    ({"target_pct": "nan"}, {"target_pct"}),
    ({"target_pct": ""}, {"target_pct"}),
    ({"threshold": "thirty weeks"}, {"threshold"}),
    ({"threshold": "0w"}, {"threshold"}),
    ({"threshold": "11y"}, {"threshold"}),
    ({"wording": "  "}, {"wording"}),
    ({"wording": "x\x00y"}, {"wording"}),
    ({"start_date": "2025-02-30"}, {"start_date"}),
    ({"start_date": "1850-01-01"}, {"start_date"}),
    ({"start_date": "2025-06-01", "end_date": "2025-05-31"}, {"end_date"}),
    ({"max_age": "30"}, {"max_age"}),
    ({"max_age": "twelve"}, {"max_age"}),
    ({"max_age": "12", "min_age": "12"}, {"min_age"}),
    ({"teams": "north,nowhere"}, {"teams"}),
    ({"colour": "red"}, {"colour"}),
    ({"target_pct": "150", "threshold": "soon", "end_date": "2025-13-01"},
     {"target_pct", "threshold", "end_date"}),
])
def test_impossible_settings_are_refused_naming_each_field(database, people, changes, fields):
    with database.transaction() as session:
        with pytest.raises(InvalidData) as refused:
            aim_settings.change(session, people["owner"], COUNCIL, 3, changes)
        assert _fields(refused) == fields
        assert _events(session, "aim_settings_changed") == []
        assert aim_store.load(session, COUNCIL)[3].threshold.text == "30w"


def test_only_settings_roles_change_settings_and_measures_roles_read_them(database, people):
    with database.transaction() as session:
        for name in ("manager", "tl.north", "auditor", "sw.north"):
            with pytest.raises(Forbidden):
                aim_settings.change(session, people[name], COUNCIL, 2, {"target_pct": 80})
        assert aim_settings.aim_settings(session, people["auditor"], COUNCIL, 2).aim == 2
        with pytest.raises(Forbidden):
            aim_settings.settings(session, people["sw.north"], COUNCIL)
        with pytest.raises(NotFound):
            aim_settings.change(session, people["owner"], COUNCIL, 4, {"target_pct": 80})
        assert set(aim_settings.settings(session, None, COUNCIL)) == {1, 2, 3}  # the CLI


def test_a_deactivated_user_changes_nothing(database, people):
    with database.transaction() as session:
        session.get(UserAccount, people["owner"].id).active = False
    with database.transaction() as session:
        with pytest.raises(Forbidden):
            aim_settings.change(session, people["owner"], COUNCIL, 2, {"target_pct": 80})
        with pytest.raises(Forbidden):
            pdsa_cycles.record(session, people["owner"], COUNCIL, {
                "aim": 2, "change_idea": "x", "start_date": "2025-01-06"})


# -- PDSA cycles ------------------------------------------------------------------------------
GOOD = {"aim": "2", "change_idea": "Two-week review", "start_date": "2025-09-01",
        "prediction": "Earlier decisions", "model_version": "1"}


def test_a_cycle_is_recorded_edited_and_listed(database, people):
    with database.transaction() as session:
        cycle = pdsa_cycles.record(session, people["manager"], COUNCIL, GOOD)
        cycle_id = cycle.id
        assert (cycle.cycle_number, cycle.process_id, cycle.model_version, cycle.created_by) == \
            (1, PERMANENCE, 1, "manager")
        pdsa_cycles.record(session, people["owner"], COUNCIL, {
            "aim": 1, "change_idea": "Reviews booked at 15 months", "cycle_number": 2,
            "start_date": date(2025, 3, 3), "model_version": 1, "act": "adapt"})
    with database.transaction() as session:
        edited = pdsa_cycles.edit(session, people["owner"], COUNCIL, cycle_id, {
            "end_date": "2025-10-31", "study": "As predicted", "act": "adopt"})
        assert (edited.end_date, edited.act, edited.prediction, edited.model_version) == \
            (date(2025, 10, 31), "adopt", "Earlier decisions", 1)
        unlinked = pdsa_cycles.edit(session, people["owner"], COUNCIL, cycle_id,
                                    {"model_version": None})
        assert (unlinked.process_id, unlinked.model_version) == (None, None)
    with database.transaction() as session:
        listed = pdsa_cycles.cycles(session, people["auditor"], COUNCIL)
        assert [(c.aim, c.start_date) for c in listed] == [(1, date(2025, 3, 3)),
                                                           (2, date(2025, 9, 1))]
        assert listed[0].process_id == CSO_HOME
        assert [c.id for c in pdsa_cycles.cycles(session, None, COUNCIL, 2)] == [cycle_id]
        assert pdsa_cycles.cycles(session, None, "default") == []
        with pytest.raises(InvalidData):
            pdsa_cycles.cycles(session, None, COUNCIL, 7)
        with pytest.raises(NotFound):
            pdsa_cycles.cycle(session, people["manager"], "default", cycle_id)
        with pytest.raises(NotFound):
            pdsa_cycles.edit(session, people["manager"], "default", cycle_id, {"study": "x"})
        kinds = [(e.event_type, e.actor) for e in _events(session, "pdsa")]
        assert kinds == [("pdsa_cycle_recorded", "manager"), ("pdsa_cycle_recorded", "owner"),
                         ("pdsa_cycle_updated", "owner"), ("pdsa_cycle_updated", "owner")]


@pytest.mark.parametrize("changes, fields", [
    ({"aim": "9"}, {"aim"}),
    ({"aim": ""}, {"aim"}),
    ({"change_idea": " "}, {"change_idea"}),
    ({"change_idea": "x" * 301}, {"change_idea"}),
    ({"change_idea": "two\nlines"}, {"change_idea"}),
    ({"start_date": ""}, {"start_date"}),
    ({"start_date": "2025-02-30"}, {"start_date"}),
    ({"end_date": "2025-08-31"}, {"end_date"}),
    ({"end_date": "31/12/2025"}, {"end_date"}),
    ({"cycle_number": "0"}, {"cycle_number"}),
    ({"cycle_number": "1000"}, {"cycle_number"}),
    ({"act": "keep"}, {"act"}),
    ({"model_version": "99"}, {"model_version"}),
    ({"model_version": "v2"}, {"model_version"}),
    ({"plan": "x" * 10_001}, {"plan"}),
    ({"owner": "me"}, {"owner"}),
    ({"aim": "9", "start_date": "2025-02-30", "act": "keep"}, {"aim", "start_date", "act"}),
])
def test_impossible_cycles_are_refused_naming_each_field(database, people, changes, fields):
    with database.transaction() as session:
        with pytest.raises(InvalidData) as refused:
            pdsa_cycles.record(session, people["owner"], COUNCIL, {**GOOD, **changes})
        assert _fields(refused) == fields
        assert pdsa_cycles.cycles(session, None, COUNCIL) == []


def test_only_pdsa_roles_record_cycles_and_flag_points(database, people):
    with database.transaction() as session:
        for name in ("auditor", "admin", "tl.north", "sw.north"):
            with pytest.raises(Forbidden):
                pdsa_cycles.record(session, people[name], COUNCIL, GOOD)
            with pytest.raises(Forbidden):
                pdsa_cycles.flag_point(session, people[name], COUNCIL, 2, "2025-03")
        with pytest.raises(Forbidden):
            pdsa_cycles.cycles(session, people["sw.north"], COUNCIL)
        cycle = pdsa_cycles.record(session, people["owner"], COUNCIL, GOOD)
        with pytest.raises(Forbidden):
            pdsa_cycles.edit(session, people["auditor"], COUNCIL, cycle.id, {"study": "x"})
        assert pdsa_cycles.cycle(session, people["auditor"], COUNCIL, cycle.id).id == cycle.id


# -- run-chart flags ----------------------------------------------------------------------------
def test_points_are_flagged_and_unflagged_by_month(database, people):
    with database.transaction() as session:
        flag = pdsa_cycles.flag_point(session, people["owner"], COUNCIL, 2, "2025-03",
                                      "Court closure")
        assert flag.month == date(2025, 3, 1)
        pdsa_cycles.flag_point(session, people["manager"], COUNCIL, 2, date(2025, 3, 17), "All month")
        with pytest.raises(InvalidData) as refused:
            pdsa_cycles.flag_point(session, people["owner"], COUNCIL, 2, "March", "x" * 501)
        assert _fields(refused) == {"month", "note"}
        with pytest.raises(NotFound):
            pdsa_cycles.flag_point(session, people["owner"], COUNCIL, 5, "2025-03")
    with database.transaction() as session:
        assert [(f.month, f.note) for f in pdsa.flagged_months(session, 2, COUNCIL)] == \
            [(date(2025, 3, 1), "All month")]
        assert pdsa.flagged_months(session, 2, "default") == []
        assert pdsa_cycles.unflag_point(session, people["owner"], COUNCIL, 2,
                                        "2025-03") == date(2025, 3, 1)
    with database.transaction() as session:
        assert pdsa.flagged_months(session, 2, COUNCIL) == []
        assert [e.event_type for e in _events(session, "run_chart")] == [
            "run_chart_point_flagged", "run_chart_point_flagged", "run_chart_flag_removed"]


# -- PACE_COUNCIL ----------------------------------------------------------------------------------
def test_the_council_is_read_once_from_the_environment(monkeypatch, tmp_path):
    assert Settings.from_environ({}).council == "default"
    assert Settings.from_environ({"PACE_COUNCIL": " midlothian "}).council == "midlothian"
    for bad in ("Midlothian", "south ayrshire", "x" * 61, "../etc"):
        with pytest.raises(SettingsError, match="PACE_COUNCIL"):
            Settings.from_environ({"PACE_COUNCIL": bad})
    monkeypatch.setenv("PACE_COUNCIL", "argyll_and_bute")
    database = Database.connect(f"sqlite:///{tmp_path / 'council.db'}")
    try:
        assert database.settings.council == "argyll_and_bute"
        monkeypatch.setenv("PACE_COUNCIL", "midlothian")  # read once: no later change counts
        assert database.settings.council == "argyll_and_bute"
        given = Database.connect("sqlite://", settings=Settings("fife"))
        assert given.settings.council == "fife"
        given.engine.dispose()
    finally:
        database.engine.dispose()
