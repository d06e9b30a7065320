"""The ``pace`` command (``[project.scripts]``), and ``python -m web.cli.main …`` without it.

The entry point builds the app (``web.create_app``), whose factory adds the commands of
cli.py, import_cli.py and api/tokens_cli.py; those modules never import the factory.
"""
from flask.cli import FlaskGroup

from web import create_app


def _factory():
    return create_app()


cli = FlaskGroup(create_app=_factory, help="PACE Flow command line.")

if __name__ == "__main__":
    cli()
