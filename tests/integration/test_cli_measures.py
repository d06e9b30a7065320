"""``pace measures settings show|set`` and ``pace pdsa list|add`` through Flask's CLI runner,
on both databases: the settings page's and PDSA page's services, the user named by ``--by``
checked as the pages check the signed-in user, the council from ``PACE_COUNCIL``."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, UserAccount
from web import create_app
from workflows.measures import aim_store, pdsa
from workflows.app import Settings


@pytest.fixture
def cli(cli_runner):
    return lambda *args: cli_runner.invoke(args=list(args))


def _stored(database, council: str = "default"):
    with database.transaction() as session:
        return aim_store.load(session, council)


def test_settings_show_prints_what_set_takes(cli):
    shown = cli("measures", "settings", "show")
    assert shown.exit_code == 0, shown.output
    assert "Aim 2: permanence recommendation (council default)" in shown.output
    assert "  threshold=30w\n" in shown.output and "  target_pct=75\n" in shown.output
    assert shown.output.count("  start_date=") == 3
    one = cli("measures", "settings", "show", "--aim", "3")
    assert "Aim 3" in one.output and "Aim 2" not in one.output
    missing = cli("measures", "settings", "show", "--aim", "9")
    assert missing.exit_code == 1 and "There is no Aim 9" in missing.output


def test_settings_set_changes_and_audits(cli, database):
    done = cli("measures", "settings", "set", "--aim", "2", "target_pct=80", "threshold=24m",
               "max_age=12", "--by", "owner")
    assert done.exit_code == 0, done.output
    assert "Saved: target_pct, threshold, max_age." in done.output
    assert "  threshold=24m\n" in done.output and "  max_age=12\n" in done.output
    stored = _stored(database)[2]
    assert (stored.target_pct, stored.threshold.text, stored.population.max_age) == (80, "24m", 12)
    cleared = cli("measures", "settings", "set", "--aim", "2", "max_age=", "--by", "admin")
    assert cleared.exit_code == 0 and _stored(database)[2].population.max_age is None
    with database.transaction() as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "aim_settings_changed").order_by(AuditEvent.id)).all()
        assert [(e.actor, e.data["aim"]) for e in events] == [("owner", 2), ("admin", 2)]


def test_settings_set_refuses_what_the_page_refuses(cli, database):
    refused = cli("measures", "settings", "set", "--aim", "3", "target_pct=150",
                  "threshold=soon", "end_date=2025-02-30", "--by", "owner")
    assert refused.exit_code == 1
    assert "nothing was saved" in refused.output
    for field in ("target_pct:", "threshold:", "end_date:"):
        assert field in refused.output
    assert "the target must be a percentage above 0 and at most 100" in refused.output
    unknown = cli("measures", "settings", "set", "--aim", "3", "colour=red", "--by", "owner")
    assert unknown.exit_code == 1 and "colour: There is no such setting" in unknown.output
    assert _stored(database)[3].threshold.text == "30w"
    assert cli("measures", "settings", "set", "--aim", "3", "target_pct", "--by",
               "owner").exit_code == 2
    assert cli("measures", "settings", "set", "--aim", "3", "target_pct=1", "target_pct=2",
               "--by", "owner").exit_code == 2


def test_by_must_be_an_active_user_with_the_role(cli, database):
    manager = cli("measures", "settings", "set", "--aim", "2", "target_pct=80", "--by", "manager")
    assert manager.exit_code == 2 and "'manager' may not do this" in manager.output
    nobody = cli("measures", "settings", "set", "--aim", "2", "target_pct=80", "--by", "nobody")
    assert nobody.exit_code == 2 and "'nobody' is not an active PACE Flow user" in nobody.output
    with database.transaction() as session:
        session.scalar(select(UserAccount).where(UserAccount.username == "owner")).active = False
    leaver = cli("measures", "settings", "set", "--aim", "2", "target_pct=80", "--by", "owner")
    assert leaver.exit_code == 2 and "not an active" in leaver.output
    auditor = cli("pdsa", "add", "--aim", "2", "--title", "x", "--start", "2025-09-01",
                  "--by", "auditor")
    assert auditor.exit_code == 2 and "may not do this" in auditor.output
    assert _stored(database)[2].target_pct == 75
    assert "0 PDSA cycle(s)" in cli("pdsa", "list").output


def test_pdsa_add_and_list(cli, database):
    added = cli("pdsa", "add", "--aim", "2", "--title", "Two-week review", "--start",
                "2025-09-01", "--end", "2025-10-31", "--act", "adopt", "--model-version", "1",
                "--by", "manager")
    assert added.exit_code == 0, added.output
    assert "Recorded PDSA cycle #" in added.output and "Two-week review (cycle 1)" in added.output
    cli("pdsa", "add", "--aim", "1", "--title", "Reviews booked at 15 months", "--cycle", "2",
        "--start", "2025-03-03", "--by", "owner")
    listed = cli("pdsa", "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert "Aim 1  cycle 2  2025-03-03 to (open)  act not decided  Reviews booked" in lines[0]
    assert "Aim 2  cycle 1  2025-09-01 to 2025-10-31  adopt  Two-week review" in lines[1]
    assert lines[-1] == "2 PDSA cycle(s)"
    assert "1 PDSA cycle(s)" in cli("pdsa", "list", "--aim", "2").output
    with database.transaction() as session:
        (cycle,) = pdsa.cycles(session, 2)
        assert (cycle.created_by, cycle.process_id, cycle.end_date) == \
            ("manager", "permanence_journey", date(2025, 10, 31))
        assert session.scalars(select(AuditEvent.actor).where(
            AuditEvent.event_type == "pdsa_cycle_recorded")).all() == ["manager", "owner"]


def test_pdsa_add_refuses_what_the_page_refuses_naming_the_options(cli):
    impossible = cli("pdsa", "add", "--aim", "2", "--title", "x", "--start", "2025-02-30",
                     "--by", "owner")
    assert impossible.exit_code == 1 and "--start: Enter a real date" in impossible.output
    backwards = cli("pdsa", "add", "--aim", "2", "--title", "x", "--start", "2025-09-01",
                    "--end", "2025-08-01", "--by", "owner")
    assert "--end: the end date must be on or after the start date" in backwards.output
    several = cli("pdsa", "add", "--aim", "7", "--title", " ", "--start", "2025-09-01",
                  "--act", "keep", "--by", "owner")
    assert several.exit_code == 1
    for shown in ("--aim: choose Aim 1, 2 or 3", "--title: describe the change idea",
                  "--act: act must be adopt, adapt or abandon"):
        assert shown in several.output
    assert "0 PDSA cycle(s)" in cli("pdsa", "list").output


def test_the_commands_act_for_the_council_the_environment_names(cli, database):
    """``Database.connect`` read PACE_COUNCIL; the CLI's database is the app's."""
    fife = replace(database, settings=Settings(council="fife"))
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    app.extensions["pace_db"].engine.dispose()
    app.extensions["pace_db"] = fife
    runner = app.test_cli_runner()
    done = runner.invoke(args=["measures", "settings", "set", "--aim", "1", "threshold=24m",
                               "--by", "owner"])
    assert done.exit_code == 0, done.output
    assert "(council fife)" in done.output
    runner.invoke(args=["pdsa", "add", "--aim", "1", "--title", "Fife's test", "--start",
                        "2025-09-01", "--by", "owner"])
    assert _stored(database, "fife")[1].threshold.text == "24m"
    assert _stored(database)[1].threshold.text == "18m"
    assert "Fife's test" in runner.invoke(args=["pdsa", "list"]).output
    assert "0 PDSA cycle(s)" in cli("pdsa", "list").output
