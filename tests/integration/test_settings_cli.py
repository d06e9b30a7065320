"""``pace settings show|set`` (issue 25): every setting with where it came from (default, the
PACE_CONFIG file, the environment, the database), secrets hidden; the settings kept in the
database changed through the service /api/v1/settings also calls, audited, all or nothing;
a settings file that cannot be used stops the command with its file and key, never a
traceback. Flask's CLI runner on both databases, and the real ``pace`` for the refusal."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from web import create_app
from workflows.demo import scotland as demo
from workflows.measures import aim_store

PACE = Path(sys.executable).with_name("pace")
SETTINGS_FILE = """\
council = "midlothian"
profiles = ["scotland"]
secret_key = "4c1f0e9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"

[smtp]
host = "smtp.council.example"
password = "a-mail-password"
"""


@pytest.fixture
def cli(database, environ, tmp_path):
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    path = tmp_path / "pace.toml"
    path.write_text(SETTINGS_FILE)
    environ["PACE_CONFIG"] = str(path)
    environ["PACE_SMTP_PORT"] = "2525"
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    app.extensions["pace_db"].engine.dispose()
    app.extensions["pace_db"] = database  # the test database, with its own schema
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def _line(output: str, key: str) -> str:
    return next(line for line in output.splitlines() if line.split()[0] == key)


def test_show_says_where_each_value_came_from(cli, tmp_path):
    shown = cli("settings", "show")
    assert shown.exit_code == 0, shown.output
    assert _line(shown.output, "council").split() == [
        "council", "midlothian", "[file", f"({tmp_path / 'pace.toml'})]"]
    assert _line(shown.output, "smtp.port").split() == [
        "smtp.port", "2525", "[environment", "(PACE_SMTP_PORT)]"]
    assert _line(shown.output, "time_zone").split() == ["time_zone", "Europe/London", "[default]"]
    assert _line(shown.output, "smtp.user").split() == ["smtp.user", "(none)", "[default]"]
    assert _line(shown.output, "aims.2.target_pct").split() == [
        "aims.2.target_pct", "75", "[database]"]
    assert "********" in _line(shown.output, "secret_key")
    assert "********" in _line(shown.output, "smtp.password")
    assert "a-mail-password" not in shown.output and "4c1f0e9d" not in shown.output


def test_set_changes_the_databases_settings_audited(cli, database):
    done = cli("settings", "set", "aims.2.target_pct=80", "aims.2.threshold=24m",
               "aims.3.max_age=12", "--by", "owner")
    assert done.exit_code == 0, done.output
    assert "Saved: aims.2.target_pct, aims.2.threshold, aims.3.max_age." in done.output
    assert _line(done.output, "aims.2.threshold").split() == ["aims.2.threshold", "24m",
                                                              "[database]"]
    with database.transaction() as session:
        stored = aim_store.load(session, "default")
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "aim_settings_changed").order_by(AuditEvent.id)).all()
    assert (stored[2].target_pct, stored[2].threshold.text, stored[3].population.max_age) \
        == (80, "24m", 12)
    assert [(e.actor, e.data["aim"]) for e in events] == [("owner", 2), ("owner", 3)]
    assert _line(cli("settings", "show").output, "aims.2.target_pct").split()[1] == "80"


@pytest.mark.parametrize("assignment,expected", [
    ("council=fife", "council: council is part of the configuration, not the database: set "
                     "PACE_COUNCIL or council in the settings file (PACE_CONFIG) and restart"),
    ("aims.4.target_pct=80", "aims.4.target_pct: There is no Aim 4"),
    ("aims.2.colour=red", "aims.2.colour: There is no such setting of an aim"),
    ("aims.2.target_pct=lots", "aims.2.target_pct: Enter the target as a number"),
    ("smtp.hots=x", "smtp.hots: There is no such setting kept in the database"),
])
def test_set_refuses_naming_the_key_and_saves_nothing(cli, database, assignment, expected):
    refused = cli("settings", "set", "aims.1.target_pct=70", assignment, "--by", "admin")
    assert refused.exit_code == 1
    assert "nothing was saved" in refused.output and expected in refused.output
    with database.transaction() as session:
        assert aim_store.load(session, "default")[1].target_pct != 70  # all or nothing
        assert session.scalar(select(AuditEvent.id).where(
            AuditEvent.event_type == "aim_settings_changed")) is None


def test_set_is_for_administrators_and_process_owners(cli):
    refused = cli("settings", "set", "aims.2.target_pct=80", "--by", "sw.north")
    assert refused.exit_code == 2 and "'sw.north' may not do this" in refused.output
    unknown = cli("settings", "set", "aims.2.target_pct=80", "--by", "nobody")
    assert unknown.exit_code == 2 and "'nobody' is not an active PACE Flow user" in unknown.output
    bad = cli("settings", "set", "aims.2.target_pct", "--by", "owner")
    assert bad.exit_code == 2 and "'aims.2.target_pct' is not KEY=VALUE" in bad.output


def test_a_settings_file_that_cannot_be_used_stops_pace_with_its_key(tmp_path):
    path = tmp_path / "pace.toml"
    path.write_text('council = "midlothian"\n[smtp]\nport = "587"\nhots = "mail"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACE_")}
    result = subprocess.run([str(PACE), "settings", "show"], capture_output=True, text=True,
                            env={**env, "PACE_CONFIG": str(path),
                                 "PACE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
                            timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert f'{path}: smtp.port: expected a whole number from 1 to 65535, without quotes ' \
           f'(e.g. 587), not "587"' in result.stderr
    assert f"{path}: smtp.hots: not a setting; did you mean smtp.host?" in result.stderr


def test_a_database_without_a_schema_is_named_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACE_")}
    result = subprocess.run([str(PACE), "settings", "show"], capture_output=True, text=True,
                            env={**env, "PACE_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"},
                            timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "the database could not be used: no such table: aim_setting. Run `pace doctor`" \
        in result.stderr and "`pace init-db` creates or upgrades the schema" in result.stderr
