"""``pace settings show`` and ``pace settings set``: every setting of this deployment with
where it came from, and the settings kept in the database changed by name, through the
service ``/api/v1/settings`` also calls (``workflows.services.settings``).

Exit codes: 0 done; 1 refused (each problem printed, nothing saved); 2 a usage mistake,
including a ``--by`` user who is unknown or inactive.
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from engine.errors import EngineError
from workflows.services import settings as settings_service

from web.cli.acting import by_user
from web.cli.changes import key_values, refused
from web.shared import deployment


def _database():
    from web.shared.database import db
    return db()


def _source(row) -> str:
    if row.source in ("environment", "file") and row.variable:
        where = deployment.loaded().path if row.source == "file" else row.variable
        return f"{row.source} ({where})"
    return row.source


def _echo(rows) -> None:
    width = max(len(row.key) for row in rows)
    for row in rows:
        click.echo(f"{row.key:<{width}}  {row.value or '(none)'}  [{_source(row)}]")


@click.group("settings")
def settings_group():
    """This deployment's settings: the configuration's and those kept in the database."""


@settings_group.command("show")
@with_appcontext
def settings_show_command():
    """Each setting as KEY  VALUE  [where it came from]: default, file (PACE_CONFIG's),
    environment (the variable) or database. Secrets show as ********."""
    database = _database()
    with database.transaction(read_only=True) as session:
        rows = settings_service.overview(session, None, database.settings.council,
                                         deployment.report())
    _echo(rows)


@settings_group.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.option("--by", "by", required=True,
              help="User name of the administrator or process owner making the change.")
@with_appcontext
def settings_set_command(assignments, by):
    """Change settings kept in the database, e.g. `aims.2.target_pct=80 aims.2.threshold=18m`.
    An empty value clears an optional one (max_age, min_age, teams, start_date, end_date).
    Every change is audited under --by. The configuration's settings are changed in the
    settings file or the environment, then the service restarted."""
    changes = key_values(assignments)
    database = _database()
    try:
        with database.transaction() as session:
            rows = settings_service.change(session, by_user(session, by),
                                           database.settings.council, changes)
    except EngineError as exc:
        refused(exc, by)
    click.echo(f"Saved: {', '.join(changes)}.")
    _echo([row for row in rows if row.key in changes])


def init_app(app: Flask) -> None:
    app.cli.add_command(settings_group)
