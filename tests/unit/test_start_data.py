"""The table of what each shipped process starts with (workflows/process_models/start_data.py)
is what the code starting it passes: a name left out would refuse a diagram whose condition
reads it, a name too many would accept one that stops a child at its gateway."""
from __future__ import annotations

from datetime import date

from lxml import etree
from sqlalchemy import select

from engine.models import AuditEvent
from engine.runnable_checks import starts_process
from workflows import accounts, profiles
from workflows.children import england, records
from workflows.process_models import start_data


def started_with(session) -> dict[str, set[str]]:
    return {event.data["process_id"]: set(event.data["start_data"]) for event in session.scalars(
        select(AuditEvent).where(AuditEvent.event_type == "instance_started"))}


def test_the_scottish_starts_pass_what_the_table_says(sqlite_database):
    db = sqlite_database
    with db.transaction() as session:
        accounts.ensure_team(session, "north")
        ava = records.register_child(session, "S1", "Ava", "north", "test")
        ben = records.register_child(session, "S2", "Ben", "north", "test")
        records.accommodate(session, db.runtime, ava, date(2026, 1, 5), "test")
        records.place_on_cso_at_home(session, db.runtime, ben, date(2026, 1, 5), "test")
        found = started_with(session)
    assert found == {pid: set(start_data.names(pid)) for pid in found}
    assert set(found) == {"permanence_journey", "cso_home_review"}


def test_the_english_entry_starts_with_its_form_and_the_legal_path_with_two_of_its_fields():
    assert start_data.names(profiles.ENG_LOOKED_AFTER) == set(england.ENTRY_SCHEMA["properties"])
    assert start_data.names(profiles.ENG_LEGAL_STATUS) == {"la_start", "legal_status"}


def test_a_process_started_by_another_gets_what_its_startdata_names():
    for profile in (profiles.SCOTLAND_PROFILE, profiles.ENGLAND_PROFILE):
        for pid in profile.processes:
            path = profile.process_folder(pid) / f"{pid}.bpmn"
            for end, target in starts_process(etree.parse(str(path)).getroot()):
                for prop in end.iter("{*}property"):
                    if prop.get("name") == "startData":
                        targets = {pair.partition("=")[0] for pair in prop.get("value").split()}
                        assert targets <= start_data.names(target), (pid, target)


def test_a_process_not_shipped_starts_with_nothing():
    assert start_data.names("corpus_review") == frozenset()
