"""``pace team …`` and ``pace user …``: teams and people from the command line, through
the same services as the administrators' pages and ``/api/v1/teams``, ``/api/v1/people``
(``workflows.services.teams`` and ``.people``).

Each command acts as a named administrator (``--by USERNAME``, refused unless that is an
active administrator). On a fresh install, before any administrator exists, ``pace user
create`` may be run without ``--by`` to add the first administrator: the audit trail then
names the operator's login (``os:<login>``). Refusals exit 1 with the service's message;
a field's problem names the option to correct.
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from engine.errors import EngineError, InvalidData
from workflows import accounts
from workflows.services import people, teams

from web.cli.acting import by_user, shell_login

# A service's field -> the option that sets it.
OPTIONS = {"username": "USERNAME", "display_name": "--name", "email": "--email",
           "roles": "--role", "team": "--team", "password": "--password", "code": "CODE",
           "name": "--name"}


def _db():
    from web.shared.database import db
    return db()


def _actor(session, by: str | None, *, bootstrap: bool = False):
    """The administrator named by ``--by``; without it, the operator while no administrator
    exists (``bootstrap``: the first administrator's creation), else a clear refusal."""
    if by is None:
        if bootstrap and not people.has_administrator(session):
            return people.Operator(shell_login())
        raise click.UsageError("Say which administrator you are acting as: --by USERNAME.")
    return by_user(session, by, "admin", "administrator")


# What to run next, after a field's message (the services' messages serve pages and API too).
NEXT_STEP = {"There is no team with this code": "create it with: pace team create CODE --name "
                                                 "NAME --by USERNAME"}


def _line(field: str, message: str) -> str:
    line = f"{OPTIONS.get(field, field or 'input')}: {message}"
    hints = [hint for start, hint in NEXT_STEP.items() if message.startswith(start)]
    return f"{line} ({hints[0]})" if hints else line


def _refused(exc: EngineError) -> click.ClickException:
    if isinstance(exc, InvalidData):
        lines = [_line(e.field, e.message) for e in exc.errors]
        return click.ClickException("nothing was saved:\n  " + "\n  ".join(lines))
    return click.ClickException(str(exc))


def _run(action, *, bootstrap: bool = False, by: str | None = None):
    """``action(session, actor)`` in one transaction; a service's refusal exits 1."""
    try:
        with _db().transaction() as session:
            return action(session, _actor(session, by, bootstrap=bootstrap))
    except EngineError as exc:
        raise _refused(exc) from None


BY = click.option("--by", "by", metavar="USERNAME", default=None,
                  help="The administrator you act as (recorded in the audit trail).")


# -- teams ---------------------------------------------------------------------------------
@click.group("team")
def team_group():
    """Teams: create, rename, close, list (administrators)."""


@team_group.command("create")
@click.argument("code")
@click.option("--name", required=True, help="The team's name as people read it.")
@BY
@with_appcontext
def team_create_command(code, name, by):
    """Create a team with CODE (as the caseload file names it; never changes)."""
    team = _run(lambda s, a: teams.create_team(s, a, code, name), by=by)
    click.echo(f"Created team {team.code}: {team.name}.")


@team_group.command("rename")
@click.argument("code")
@click.option("--name", required=True, help="The new name.")
@BY
@with_appcontext
def team_rename_command(code, name, by):
    """Give team CODE a new name (its code stays)."""
    team = _run(lambda s, a: teams.rename_team(s, a, code, name), by=by)
    click.echo(f"Team {team.code} is now called {team.name}.")


@team_group.command("close")
@click.argument("code")
@BY
@with_appcontext
def team_close_command(code, by):
    """Close team CODE: no new children or people (refused while it has open children)."""
    team = _run(lambda s, a: teams.close_team(s, a, code), by=by)
    click.echo(f"Team {team.code} ({team.name}) is closed.")


@team_group.command("list")
@BY
@with_appcontext
def team_list_command(by):
    """Every team: code, name, state, active people, children with a running process."""
    rows = _run(lambda s, a: teams.list_teams(s, a), by=by)
    for t in rows:
        click.echo(f"{t.code}\t{t.name}\t{'closed' if t.closed else 'open'}\t"
                   f"{t.people} people\t{t.open_children} open children")
    if not rows:
        click.echo("No teams yet: pace team create CODE --name NAME --by USERNAME")


# -- people --------------------------------------------------------------------------------
@click.group("user")
def user_group():
    """People: create, update, deactivate, reactivate, list (administrators)."""


def _password(password: str | None, no_password: bool) -> str | None:
    if no_password:
        if password is not None:
            raise click.UsageError("Give --password or --no-password, not both.")
        return None
    if password is None:  # asked for, as before (not echoed, typed twice)
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@user_group.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The person's full name.")
@click.option("--role", "roles", multiple=True, required=True,
              help="A role (repeat for several), e.g. social_worker.")
@click.option("--team", default=None, help="Their team's code; none for service-wide roles.")
@click.option("--email", default=None, help="Their e-mail address (for notifications).")
@click.option("--password", default=None,
              help="A first password for local sign-in (asked for when not given).")
@click.option("--no-password", is_flag=True,
              help="No local password: they sign in through the council's sign-in.")
@BY
@with_appcontext
def user_create_command(username, display_name, roles, team, email, password, no_password, by):
    """Add USERNAME. Before any administrator exists, run without --by to add the first
    administrator (with the admin role)."""
    secret = _password(password, no_password)
    _run(lambda s, a: people.add_person(s, a, username=username, display_name=display_name,
                                        email=email, roles=list(roles), team=team,
                                        password=secret), bootstrap=True, by=by)
    how = "with a local password" if secret is not None else "without a local password"
    click.echo(f"Created {username} ({', '.join(roles)}{f', team {team}' if team else ''}), {how}.")


@user_group.command("update")
@click.argument("username")
@click.option("--name", "display_name", default=None, help="A new full name.")
@click.option("--email", default=None, help="A new e-mail address ('' to remove it).")
@click.option("--role", "roles", multiple=True, help="The roles they hold from now (repeat).")
@click.option("--team", default=None, help="A new team code ('' for service-wide).")
@click.option("--set-password", is_flag=True, help="Set a new local password (asked for).")
@click.option("--remove-password", is_flag=True,
              help="Remove the local password: only the council's sign-in.")
@BY
@with_appcontext
def user_update_command(username, display_name, email, roles, team, set_password,
                        remove_password, by):
    """Change USERNAME's name, e-mail, roles or team; tasks they can no longer work go back
    to the team queue."""
    if set_password and remove_password:
        raise click.UsageError("Give --set-password or --remove-password, not both.")
    changes = {key: value for key, value in (("display_name", display_name), ("email", email),
                                             ("team", team)) if value is not None}
    if roles:
        changes["roles"] = list(roles)
    secret = click.prompt("New password", hide_input=True, confirmation_prompt=True) \
        if set_password else None
    if not changes and not (set_password or remove_password):
        raise click.UsageError("Nothing to change: give --name, --email, --role, --team or a "
                               "password option.")

    def action(session, actor):
        result = people.update_person(session, actor, username, **changes) if changes else None
        if set_password or remove_password:
            people.set_password(session, actor, username, secret)
        return result
    result = _run(action, by=by)
    done = sorted(result.changes) if result else []
    if set_password or remove_password:
        done.append("password set" if set_password else "password removed")
    click.echo(f"Updated {username}: {', '.join(done) or 'nothing changed'}.")
    if result and result.returned:
        click.echo(f"{len(result.returned)} task(s) they can no longer work went back to the "
                   "team queue.")


@user_group.command("deactivate")
@click.argument("username")
@BY
@with_appcontext
def user_deactivate_command(username, by):
    """Deactivate USERNAME (never deleted): their tasks go back to the team queue and their
    team leader is told."""
    result = _run(lambda s, a: people.deactivate_person(s, a, username), by=by)
    click.echo(f"Deactivated {username}. {len(result.returned)} task(s) back in the team queue; "
               f"told: {', '.join(u.username for u in result.told) or 'nobody'}.")


@user_group.command("reactivate")
@click.argument("username")
@BY
@with_appcontext
def user_reactivate_command(username, by):
    """Let USERNAME sign in again."""
    _run(lambda s, a: people.reactivate_person(s, a, username), by=by)
    click.echo(f"Reactivated {username}.")


@user_group.command("list")
@click.option("--role", default=None, help="Only people holding this role.")
@click.option("--team", default=None, help="Only this team's people.")
@click.option("--inactive/--active-only", "inactive", default=True,
              help="Show deactivated people too (default) or active ones only.")
@BY
@with_appcontext
def user_list_command(role, team, inactive, by):
    """People: username, name, roles, team, e-mail, state."""
    found = _run(lambda s, a: [(p.username, p.display_name, ",".join(p.roles or []),
                                p.team or "-", p.email or "-",
                                "active" if p.active else "deactivated",
                                "local" if accounts.signs_in_locally(p) else "council")
                               for p in people.list_people(s, a, role=role, team=team,
                                                           active=None if inactive else True)],
                 by=by)
    for row in found:
        click.echo("\t".join(row))
    if not found:
        click.echo("Nobody matches.")


def init_app(app: Flask) -> None:
    for command in (team_group, user_group):
        app.cli.add_command(command)
