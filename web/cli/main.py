"""The ``pace`` command (``[project.scripts]``), and ``python -m web.cli.main …`` without it.

The entry point builds the app (``web.create_app``), whose factory adds the commands of
cli.py, import_cli.py and api/tokens_cli.py; those modules never import the factory.
"""
import sys

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from web import create_app


def _factory():
    """The app, or the reason it cannot start on one clean message (exit 2): a settings
    file or variable that cannot be used names itself (workflows/configuration.py), and an
    operator should never have to read a traceback to find which."""
    try:
        return create_app()
    except ArgumentError as exc:  # the database URL cannot be parsed
        _cannot_start(f"PACE_DATABASE_URL (or database_url in the settings file): {exc}")
    except ValueError as exc:  # ConfigurationError, SettingsError and the like: named
        _cannot_start(str(exc))


def _cannot_start(reason: str):
    click.echo(f"PACE Flow cannot start; fix this and try again:\n{reason}", err=True)
    sys.exit(2)


class PaceGroup(FlaskGroup):
    """Flask's command group, with one more boundary: a database that cannot be used (not
    reachable, no schema yet) ends any command with the reason and what to run, not a
    traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
            raise click.ClickException(
                f"the database could not be used: {reason}. Run `pace doctor` to see what to "
                "fix (`pace init-db` creates or upgrades the schema).") from None


cli = PaceGroup(create_app=_factory, help="PACE Flow command line.")

if __name__ == "__main__":
    cli()
