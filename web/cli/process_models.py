"""``pace models``: process models from the command line, for process owners who keep their
diagrams in version control (docs/process-owner-guide.md, "From the command line").

Each command calls the service its page calls (``workflows.services.process_models``), so a file
gets the same problems, refusals and audit events here as in the browser. Exit codes:
0 done (or nothing to do), 1 refused (problems in a diagram, a child not moved, an unknown
process, version or PDSA cycle), 2 a usage error (a missing option, a ``--by`` who is not an
active process owner).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from engine.errors import EngineError, Forbidden, InvalidData
from workflows.process_models.model_validation import Report
from workflows.process_models.drafts import MAX_UPLOAD_BYTES
from workflows.services import model_deployment as deployment, process_models as service

from web.cli.acting import ActingUser, by_user, shell_reader
from web.shared.database import db


def _owner(username: str) -> ActingUser:
    """The process owner named by ``--by``; usage error (2) unless active with that role."""
    with db().transaction() as session:
        return by_user(session, username, "process_owner", "process owner")


def _files(paths: tuple[Path, ...]) -> list[tuple[str, bytes]]:
    found = []
    for path in paths:
        with path.open("rb") as handle:
            found.append((path.name, handle.read(MAX_UPLOAD_BYTES + 1)))
    return found


def _refused(exc: EngineError, outcome: str = "nothing was deployed") -> None:
    """Print a service's refusal and exit 1 (2 for --by)."""
    if isinstance(exc, Forbidden):
        raise click.BadParameter(str(exc), param_hint="--by")
    if isinstance(exc, service.ModelHasProblems):
        _print_report(exc.report, outcome)
    elif isinstance(exc, InvalidData):
        for error in exc.errors:
            click.echo(f"Refused: {error.message}", err=True)
    else:
        click.echo(f"Refused: {exc}", err=True)
    sys.exit(1)


def _print_report(report: Report, outcome: str) -> None:
    """Every problem as ``element (name), line N: message`` and its fix, as the page lists."""
    for note in report.notes:
        click.echo(f"note: {note}")
    for f in report.findings:
        element = f"{f.element_id} ({f.element_name})" if f.element_name else \
            (f.element_id or "the whole diagram")
        click.echo(f"{element}, line {f.line or '-'}: {f.message}")
        click.echo(f"    how to fix it: {f.fix}")
    count = len(report.findings)
    if count:
        click.echo(f"{count} problem{'s' if count != 1 else ''}: {outcome}.", err=True)


_FILES = click.argument("files", nargs=-1, required=True,
                        type=click.Path(exists=True, dir_okay=False, path_type=Path))
_BY = click.option("--by", "by", required=True,
                   help="User name of the process owner responsible (recorded in the audit trail).")


@click.group("models")
def models_group():
    """Process models: list, check, compare, deploy, move running children (process owners)."""


@models_group.command("list")
@with_appcontext
def list_command():
    """Every process with its latest version and the children running on it."""
    with db().transaction() as session:
        processes = service.list_processes(session, shell_reader())
    for p in processes:
        latest = p.latest
        click.echo(f"{p.process_id}  {p.name}: version {latest.version}, deployed "
                   f"{latest.deployed_at:%Y-%m-%d} by {latest.deployed_by}; children running "
                   f"{p.running} ({p.on_latest} on version {latest.version}); open drafts "
                   f"{p.drafts}")


@models_group.command("check")
@_FILES
@click.option("--process", "process_id", default=None,
              help="The process the files are a version of (default: the diagram's "
                   "executable process).")
@with_appcontext
def check_command(files, process_id):
    """Check a diagram with its forms (.bpmn and .json files, or a .zip) as the upload and
    check pages do; print every problem with its element and line. Exit 1 on problems.
    Nothing is stored."""
    try:
        with db().transaction() as session:
            checked = service.check_files(session, db().runtime, shell_reader(), _files(files),
                                          process_id=process_id)
    except EngineError as exc:
        _refused(exc)
    _print_report(checked.report, f"{checked.process_id} cannot be deployed until the list "
                                  "is empty")
    if not checked.report.ok:
        sys.exit(1)
    click.echo(f"{checked.process_id}: no problems found")


@models_group.command("deploy")
@_FILES
@click.option("--reason", required=True, help="Why this version is deployed (kept with it).")
@click.option("--pdsa-cycle", "pdsa_cycle", type=int, default=None,
              help="Id of the PDSA cycle the change tests.")
@click.option("--process", "process_id", default=None,
              help="The process the files are a version of (default: the diagram's "
                   "executable process).")
@_BY
@with_appcontext
def deploy_command(files, reason, pdsa_cycle, process_id, by):
    """Deploy a diagram with its forms as the process's next version, after the same check
    as the draft page's. A diagram identical to the latest version is not deployed again
    (exit 0)."""
    owner = _owner(by)
    try:
        with db().transaction() as session:
            done = deployment.deploy_files(session, db().runtime, owner, _files(files), reason,
                                        pdsa_cycle, db().settings.council,
                                        process_id=process_id)
            model, created = done.model, done.created
    except EngineError as exc:
        _refused(exc)
    if created:
        click.echo(f"{model.process_id} version {model.version}: deployed by {owner.username}. "
                   "Children who start from now on follow it; move running children with "
                   "pace models migrate.")
    else:
        click.echo(f"{model.process_id} version {model.version}: unchanged (the files are "
                   "identical to it), nothing deployed.")


@models_group.command("migrate")
@click.argument("process_id")
@click.option("--to", "--to-version", "version", type=int, required=True,
              help="The version to move children to.")
@click.option("--dry-run", is_flag=True,
              help="List who would move, each child's due dates that would change (before → "
                   "after) and tasks cancelled or opened, and why any could not; change "
                   "nothing.")
@click.option("--child", "references", multiple=True,
              help="A child's reference (repeat for several; default: every child who can move).")
@_BY
@with_appcontext
def migrate_command(process_id, version, dry_run, references, by):
    """Move running children to a version, each in its own transaction. Exit 1 when a
    chosen child was not moved (or, with --dry-run, could not move)."""
    owner = _owner(by)
    database = db()
    try:
        if dry_run:
            with database.transaction() as session:
                plan = deployment.migration_plan(session, database.runtime, owner, process_id,
                                              version)
            _print_plan(plan, references)
            return
        outcomes = deployment.migrate_children(database, owner, process_id, version,
                                            references=list(references) or None)
    except EngineError as exc:
        _refused(exc)
    for outcome in outcomes:
        state = "moved" if outcome.moved else "not moved"
        click.echo(f"{outcome.reference}: {state}: {outcome.message}")
    moved = sum(1 for o in outcomes if o.moved)
    click.echo(f"{moved} of {len(outcomes)} moved to version {version}.")
    if moved < len(outcomes):
        sys.exit(1)


def _print_plan(plan: deployment.MigrationPlan, references: tuple[str, ...]) -> None:
    candidates = plan.candidates
    click.echo(f"Dry run, nothing changed: {len(candidates)} children on other versions, "
               f"{len(plan.movable)} can move to version {plan.target.version}.")
    if not candidates:
        return
    chosen = deployment.choose_children(plan, references=list(references) or None)
    for c in chosen if references else candidates:
        where = "; ".join(c.moves) if c.can_move else c.reason
        mark = "can move" if c.can_move else "cannot move"
        click.echo(f"{c.reference} ({c.team}, version {c.version}): {mark}: {where}")
        if c.can_move:
            for change in c.changes:
                click.echo(f"    {change.text()}")
            if not c.changes:
                click.echo("    no due date changes")
    if not all(c.can_move for c in chosen):
        sys.exit(1)


def _side(text: str):
    """A .zip, or a folder holding the .bpmn and its forms (as bpmn/<process>/ does, forms
    beside it or in forms/), when one exists at ``text``; else ``PROCESS:VERSION``."""
    path = Path(text)
    if path.is_file():
        return _files((path,))
    if path.is_dir():
        return _files(tuple(sorted(p for p in (*path.glob("*.bpmn"), *path.glob("*.json"),
                                               *path.glob("forms/*.json")) if p.is_file())))
    process_id, sep, number = text.rpartition(":")
    if not sep or not process_id or not number.isdigit():
        raise click.BadParameter(f"{text!r} is neither a folder, a .zip nor PROCESS:VERSION "
                                 "(for example permanence_journey:2)", param_hint="BEFORE or AFTER")
    return service.VersionRef(process_id, int(number))


@models_group.command("diff")
@click.argument("before")
@click.argument("after")
@with_appcontext
def diff_command(before, after):
    """What changes from BEFORE to AFTER, each a deployed version (PROCESS:VERSION, e.g.
    permanence_journey:1), a folder with the diagram and its forms, or a .zip of them, as
    the compare page lists it.
    Exit 0 once compared (whether or not anything differs), 1 when refused (an unknown
    version, a file with problems, two different processes)."""
    try:
        with db().transaction() as session:
            found = service.compare(session, db().runtime, shell_reader(), _side(before),
                                    _side(after))
    except EngineError as exc:
        _refused(exc, "nothing was compared")
    changes = found.diff.changes
    click.echo(f"{found.process_id}: {found.before} → {found.after}: "
               f"{len(changes) or 'no'} change{'s' if len(changes) != 1 else ''}")
    for change in changes:
        click.echo(f"  {change.text}" + (f" ({change.detail})" if change.detail else ""))
