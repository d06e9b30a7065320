"""``pace team …`` and ``pace user …`` (web/cli/people.py) through Flask's CLI runner, on
both databases: from a fresh install (the operator adds the first administrator) to a
team and its people, each command acting as a named administrator."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, UserAccount
from web import create_app
from workflows import accounts

PASSWORD = "a-long-password"


@pytest.fixture
def runner(empty_database):
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    app.extensions["pace_db"].engine.dispose()
    app.extensions["pace_db"] = empty_database
    return app.test_cli_runner(), empty_database


def ok(cli, *args, **kwargs):
    result = cli.invoke(args=list(args), **kwargs)
    assert result.exit_code == 0, result.output
    return result.output


def refused(cli, *args, **kwargs):
    result = cli.invoke(args=list(args), **kwargs)
    assert result.exit_code != 0, result.output
    return result.output


def test_a_council_sets_up_its_teams_and_people_without_the_demo(runner):
    cli, db = runner
    assert "Say which administrator" in refused(cli, "team", "create", "north", "--name", "North")
    # fresh install: the operator adds the first administrator, and only that
    assert "only an administrator can be added" in refused(
        cli, "user", "create", "sw", "--name", "S W", "--role", "auditor", "--password", PASSWORD)
    assert "Created ada (admin), with a local password." in ok(
        cli, "user", "create", "ada", "--name", "Ada Admin", "--role", "admin",
        "--email", "ada@council.gov.uk", "--password", PASSWORD)
    assert "Say which administrator" in refused(
        cli, "user", "create", "bob", "--name", "Bob", "--role", "admin", "--password", PASSWORD)
    assert "is not an active PACE Flow administrator" in refused(
        cli, "team", "list", "--by", "nobody")

    out = refused(cli, "user", "create", "sw", "--name", "Sam Worker", "--role", "social_worker",
                  "--team", "north", "--password", PASSWORD, "--by", "ada")
    assert "--team: There is no team with this code" in out and "pace team create" in out
    assert "Created team north: Children North." in ok(
        cli, "team", "create", "north", "--name", "Children North", "--by", "ada")
    assert "Team north is now called North Team." in ok(
        cli, "team", "rename", "north", "--name", "North Team", "--by", "ada")
    ok(cli, "user", "create", "sw", "--name", "Sam Worker", "--role", "social_worker",
       "--team", "north", "--email", "sam@council.gov.uk", "--by", "ada",
       input=f"{PASSWORD}\n{PASSWORD}\n")  # the password asked for, twice
    assert "without a local password" in ok(
        cli, "user", "create", "tl", "--name", "Tess Leader", "--role", "team_leader",
        "--team", "north", "--no-password", "--by", "ada")
    with db.transaction() as session:
        assert accounts.check_password(accounts.find_user(session, "sw"), PASSWORD)
        assert accounts.find_user(session, "tl").password_hash is None
        actors = dict(session.execute(select(AuditEvent.data["username"].as_string(),
                                             AuditEvent.actor)
                                      .where(AuditEvent.event_type == "user_created")).all())
    assert actors == {"ada": f"os:{__import__('getpass').getuser()}", "sw": "ada", "tl": "ada"}

    assert ok(cli, "team", "list", "--by", "ada").splitlines() == [
        "north\tNorth Team\topen\t2 people\t0 open children"]
    listed = ok(cli, "user", "list", "--role", "social_worker", "--by", "ada").splitlines()
    assert listed == ["sw\tSam Worker\tsocial_worker\tnorth\tsam@council.gov.uk\tactive\tlocal"]

    out = refused(cli, "user", "create", "x y", "--name", "", "--role", "social_worker",
                  "--password", "short", "--by", "ada")
    assert "USERNAME: Use up to 80" in out and "--name: Enter the person's full name." in out
    assert "--password: The password must be at least 10" in out
    assert "--team: Choose a team" in out

    assert "Updated sw: display_name, roles." in ok(
        cli, "user", "update", "sw", "--name", "Sam Worker-Lee", "--role", "social_worker",
        "--role", "auditor", "--by", "ada")
    assert "Deactivated sw. 0 task(s) back in the team queue; told: tl." in ok(
        cli, "user", "deactivate", "sw", "--by", "ada")
    assert "deactivated" in ok(cli, "user", "list", "--by", "ada")
    assert "sw" not in ok(cli, "user", "list", "--active-only", "--by", "ada").split()
    assert "Reactivated sw." in ok(cli, "user", "reactivate", "sw", "--by", "ada")
    assert "last active administrator" in refused(cli, "user", "deactivate", "ada", "--by", "ada")
    assert "Updated tl: password set." in ok(cli, "user", "update", "tl", "--set-password",
                                             "--by", "ada", input=f"{PASSWORD}\n{PASSWORD}\n")


def test_a_team_is_closed_and_its_code_not_reused(runner):
    cli, db = runner
    ok(cli, "user", "create", "ada", "--name", "Ada Admin", "--role", "admin", "--no-password")
    ok(cli, "team", "create", "east", "--name", "East", "--by", "ada")
    assert "Team east (East) is closed." in ok(cli, "team", "close", "east", "--by", "ada")
    assert "east\tEast\tclosed" in ok(cli, "team", "list", "--by", "ada")
    assert "already a team with the code east" in refused(
        cli, "team", "create", "east", "--name", "East again", "--by", "ada")
    assert "East is closed" in refused(
        cli, "user", "create", "sw", "--name", "S", "--role", "social_worker", "--team", "east",
        "--no-password", "--by", "ada")
    with db.transaction() as session:
        assert session.scalar(select(UserAccount.username)) == "ada"
