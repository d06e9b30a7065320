"""Profiles: PACE_PROFILES chooses Scotland, England or both; each child is on one profile;
each process's working days skip its own profile's bank holidays; the engine names no profile.
"""
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import registry
from engine.errors import Conflict
from engine.models import ProcessModel, Subject
from tests.engine.diagrams import FORM, linear, props
from workflows import accounts, profiles
from workflows.children import records as children, england
from workflows.demo import scotland as demo
from workflows.due_rules import ENGLAND, SCOTLAND, DueRules, add_working_days, is_working_day
from workflows.engine_config import pace_config

from .england_journey import ENTRY, EnglandJourney, england_database

ROOT = Path(__file__).resolve().parents[2]
EASTER_MONDAY = date(2026, 4, 6)


# -- calendars (no database) ----------------------------------------------------------------
def test_working_days_skip_the_bank_holidays_of_the_region():
    assert is_working_day(EASTER_MONDAY)                  # Scotland (the default)
    assert not is_working_day(EASTER_MONDAY, ENGLAND)
    assert not is_working_day(date(2026, 1, 2))           # 2 January: Scotland only
    assert is_working_day(date(2026, 1, 2), ENGLAND)
    assert not is_working_day(date(2026, 8, 31), ENGLAND)  # late summer bank holiday
    assert is_working_day(date(2026, 8, 31), SCOTLAND)
    assert add_working_days(date(2026, 4, 2), 1, ENGLAND) == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 6)
    assert DueRules(ENGLAND).shift(date(2026, 4, 2), "+1wd -1wd") == [date(2026, 4, 7), date(2026, 4, 1)]
    assert DueRules().resolve("X+1wd", {"X": date(2026, 4, 2)}) == date(2026, 4, 6)
    with pytest.raises(ValueError, match="unknown bank-holiday region"):
        DueRules("XYZ")


def test_pace_profiles_names_and_defaults():
    assert profiles.names({}) == ("scotland",)
    assert profiles.names({"PACE_PROFILES": ""}) == ("scotland",)
    assert profiles.names({"PACE_PROFILES": "england"}) == ("england",)
    assert profiles.names({"PACE_PROFILES": " England , scotland,england"}) == ("england", "scotland")
    with pytest.raises(profiles.ProfileError, match="unknown profile 'wales'"):
        profiles.names({"PACE_PROFILES": "scotland,wales"})


def test_default_configuration_is_the_scottish_one_unchanged(monkeypatch):
    monkeypatch.delenv("PACE_PROFILES", raising=False)
    config = pace_config()
    assert type(config.rules) is DueRules and config.rules.region == SCOTLAND
    assert config.roles == frozenset({"social_worker", "team_leader", "independent_chair",
                                      "legal_services", "panel_adviser", "adm", "service_manager"})
    assert config.escalation_roles == ("team_leader", "service_manager")


def test_profile_data_for_the_web_layer(monkeypatch):
    monkeypatch.setenv("PACE_PROFILES", "scotland,england")
    data = profiles.web_data()
    assert data["enabled"] == ["scotland", "england"]
    eng = data["profiles"]["england"]
    assert eng["roles"]["iro"] == "Independent reviewing officer (IRO)"
    assert eng["wording"]["review_chair"] == "Independent reviewing officer (IRO)"
    assert data["profiles"]["scotland"]["wording"]["review_chair"] == "Independent chair"
    assert list(eng["milestones"])[:3] == ["LA_START", "PLACEMENT_START", "VISIT"]
    assert data["role_labels"]["team_manager"] == "Team manager"
    assert data["role_labels"]["team_leader"] == "Team leader"
    assert profiles.role_label("social_worker", "england") == "Social worker"
    assert profiles.milestone_label("REVIEW", profiles.ENG_LOOKED_AFTER) == "Looked-after review"


def test_engine_names_no_profile_and_no_english_term():
    words = re.compile(r"\b(england|english|scotland|scottish|ssda\w*|903|iro|s20|s31|section 20|"
                       r"section 31|cafcass|pep|plo|team_manager|designated_teacher)\b", re.I)
    found = []
    for path in sorted((ROOT / "engine").glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if words.search(line):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == []


# -- deployments ------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgres"])
def both_db(request, tmp_path):
    return england_database(request, tmp_path, request.param, profiles="scotland,england")


def test_england_only_deploys_its_three_processes(request, tmp_path):
    db = england_database(request, tmp_path, "sqlite")
    with db.transaction() as session:
        deployed = sorted(session.scalars(select(ProcessModel.process_id)))
    assert deployed == ["eng_care_proceedings", "eng_legal_status", "eng_looked_after"]
    assert db.runtime.config.escalation_roles == ("team_manager", "service_manager")
    assert db.runtime.config.rules.region == ENGLAND


def test_both_profiles_each_child_on_one_with_its_own_calendar(both_db):
    runtime = both_db.runtime
    assert isinstance(runtime, profiles.ProfileRuntime)
    assert {"iro", "team_manager", "designated_teacher", "health", "legal",
            "independent_chair", "team_leader", "adm", "panel_adviser"} <= runtime.config.roles
    with both_db.transaction() as session:
        deployed = set(session.scalars(select(ProcessModel.process_id)))
        assert deployed == {"permanence_journey", "cso_home_review", "eng_looked_after",
                            "eng_legal_status", "eng_care_proceedings"}
        demo.ensure_users(session, actor="test")
        # A probe diagram of no profile, with a working-day rule: the first profile's calendar.
        bundle = registry.ModelBundle("wd_probe", linear(props(
            formJsonSchemaFilename="task.schema.json", due="start_date+1wd"))
            .replace('id="mini"', 'id="wd_probe"'), {"task.schema.json": FORM})
        registry.deploy(session, bundle, runtime.config.validation_context(), "test")

    english = EnglandJourney(both_db, "E00001").looked_after(date(2026, 3, 23))
    english.expect("first_review", "iro", date(2026, 4, 22))  # England and Wales holidays

    with both_db.transaction() as session:
        scot = children.register_child(session, "C00001", "Scottish Child", "north", "test")
        children.accommodate(session, runtime, scot, date(2026, 3, 23), "test")
        probe_child = children.register_child(session, "P00001", "Probe", "north", "test")
        runtime.start(session, "wd_probe", probe_child, {"start_date": "2026-04-03"}, "test")
        assert scot.attributes["profile"] == "scotland"
        eng = session.scalar(select(Subject).where(Subject.reference == "E00001"))
        assert eng.attributes["profile"] == "england"
        with pytest.raises(Conflict, match="one profile"):
            england.become_looked_after(session, runtime, scot, ENTRY | {"la_start": date(2026, 4, 1)},
                                        "test")
        with pytest.raises(Conflict, match="one profile"):
            children.accommodate(session, runtime, eng, date(2026, 4, 1), "test")
    from engine.models import WorkItem
    with both_db.transaction() as session:
        due = {w.task_name: w.due_date for w in session.scalars(
            select(WorkItem).join(Subject).where(Subject.reference.in_(("C00001", "P00001"))))}
    assert due["planning_meeting"] == date(2026, 3, 26)
    assert due["task"] == date(2026, 4, 6)   # Scottish calendar: Easter Monday is a working day
    # ...while an English process loaded after it still gets England's calendar.
    english.complete("initial_care_plan", date(2026, 4, 1))
    english.expect("initial_pep", "designated_teacher", date(2026, 4, 8))


def test_english_roles_can_hold_accounts(request, tmp_path):
    db = england_database(request, tmp_path, "sqlite")
    with db.transaction() as session:
        accounts.ensure_team(session, "east", "East")
        user = accounts.create_user(session, "iro1", "An IRO", "long-enough-pw", ["iro"], None)
        assert user.roles == ["iro"]
        with pytest.raises(accounts.AccountError, match="unknown role"):
            accounts.create_user(session, "x", "X", "long-enough-pw", ["chief_cook"], None)


def test_entry_and_header_details_are_checked(request, tmp_path):
    from engine.errors import InvalidData
    db = england_database(request, tmp_path, "sqlite")
    j = EnglandJourney(db, "E00009")
    with db.transaction() as session:
        child = session.get(Subject, j.child_id)
        assert child.attributes["ssda903"] == {"sex": "F", "ethnicity": "WBRI", "mother": 0,
                                               "upn": "A123456789012"}
        with pytest.raises(InvalidData) as bad:
            england.become_looked_after(session, db.runtime, child,
                                        ENTRY | {"la_start": date(2026, 1, 5), "legal_status": "s99"},
                                        "test")
        assert [e.field for e in bad.value.errors] == ["legal_status"]
        with pytest.raises(children.ChildError, match="is not one of"):
            england.set_header(child, {"sex": "F", "ethnicity": "ZZZZ"})
    j.looked_after(date(2026, 1, 5))
    with db.transaction() as session, pytest.raises(Conflict, match="already looked after"):
        england.become_looked_after(session, db.runtime, session.get(Subject, j.child_id),
                                    ENTRY | {"la_start": date(2026, 2, 1)}, "test")
