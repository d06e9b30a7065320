"""``pace import caseload.csv``: bring an existing caseload in (docs/caseload-import.md)."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from workflows.caseload import csv_rows as caseload_csv, importer as caseload_import
from workflows.services import imports as import_service

from web.cli.acting import by_user, shell_reader

MAX_SHOWN = 500  # errors printed; every one is in the rejects file


class _Progress:
    """A click progress bar opened once the number of children to place is known."""

    def __init__(self, label: str):
        self.label, self.bar = label, None

    def __call__(self, advance: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(advance)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _importer(database, username: str | None):
    """The administrator named by ``--by``, or the operator at the shell acting as one."""
    if username is None:
        return shell_reader()
    with database.transaction() as session:
        return by_user(session, username, "admin", "administrator")


@click.command("import")
@click.argument("csv_file", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True,
              help="Check every row and rehearse the placement, then roll back: "
                   "nothing is written.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows; write the others, with the reasons, to a "
                   "rejects file.")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Rejects file (default with --skip-invalid: FILE.rejects.csv beside the file).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Import as of this date (default: today); no milestone may be later.")
@click.option("--by", "by", default=None,
              help="User name of the administrator importing (default: your login name).")
@click.option("--template", is_flag=True, help="Print the CSV header (the template) and stop.")
@with_appcontext
def import_command(csv_file, dry_run, skip_invalid, rejects, today, by, template):
    """Import children mid-journey from a caseload CSV, one row per child.

    Every row is checked first; by default the import is all-or-nothing. Re-importing the
    same file skips the children it already brought in.
    """
    if template:
        click.echo(caseload_import.template_csv(), nl=False)
        return
    if csv_file is None:
        raise click.UsageError("give the caseload CSV file (or --template for the header)")
    if today is not None and today.date() > date.today():
        raise click.BadParameter("the import date cannot be in the future", param_hint="--today")
    from web.shared.database import db
    database = db()
    importer = _importer(database, by)
    data = csv_file.read_bytes()
    try:
        rows = caseload_csv.read_csv(data)
    except caseload_csv.FileError as exc:
        raise click.ClickException(f"{csv_file.name}: {exc}") from None
    progress = _Progress("Dry run: placing children" if dry_run else "Placing children")
    try:
        result = import_service.import_now(
            database, importer, rows, source=csv_file.name, sha256=caseload_csv.sha256(data),
            today=today.date() if today else None, dry_run=dry_run, skip_invalid=skip_invalid,
            progress=progress)
    finally:
        progress.close()
    if result.errors:
        click.echo(f"{len(result.errors)} problem(s) in {len(result.rejected_rows)} row(s):")
        for error in result.errors[:MAX_SHOWN]:
            click.echo(f"  {error}")
        if len(result.errors) > MAX_SHOWN:
            click.echo(f"  … and {len(result.errors) - MAX_SHOWN} more (see the rejects file)")
    if result.errors and (skip_invalid or rejects):
        target = rejects or csv_file.with_name(f"{csv_file.stem}.rejects.csv")
        target.write_text(caseload_import.rejects_csv(rows, result.errors), encoding="utf-8")
        click.echo(f"Rejected rows, with the reasons, written to {target}")
    for (task, role), count in sorted(result.open_tasks.items()):
        click.echo(f"  {count:>6}  {task} ({role.replace('_', ' ')})")
    click.echo(result.summary())
    if result.errors and not skip_invalid:
        sys.exit(1)
