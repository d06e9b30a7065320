"""``python -m web.cli_main …`` runs the ``pace`` command without the installed script."""
from web.cli import cli

if __name__ == "__main__":
    cli()
