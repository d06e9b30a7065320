"""The ``pace`` command line's commands (``init_app`` adds them to the app's Flask CLI).

The ``pace`` group itself, which builds the app, is in cli_main.py: the app factory imports
this module, so this module does not import the factory.
"""
from __future__ import annotations

import logging
import sys
import time
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from engine import audit, clock, heartbeat, sweeper
from workflows.demo import scotland as demo
from workflows.services import journey_endings
from workflows.process_models.bundled import deploy_bundled

from web.security import sign_in_limits

log = logging.getLogger(__name__)


def _db():
    from web.shared.database import db
    return db()


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the schema and deploy the diagrams in bpmn/."""
    database = _db()
    database.migrate()
    with database.transaction() as session:
        for model, created in deploy_bundled(session):
            state = "deployed" if created else "unchanged"
            click.echo(f"{model.process_id} version {model.version}: {state}")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when children already exist.")
@click.option("--children", default=60, show_default=True, help="How many children.")
@click.option("--seed", default=2026, show_default=True)
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The date the demo caseload ends on (default: today).")
@click.option("--profile", type=click.Choice(["scotland", "england"]), default="scotland",
              show_default=True, help="Whose caseload (the profile must be in PACE_PROFILES).")
@click.option("--force", is_flag=True,
              help="Build it even on a database with accounts that are not the demo's.")
@click.option("--bpmn", "bpmn_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="First create the schema and deploy the diagrams in this folder (laid out "
                   "as bpmn/ is), e.g. tests/fixtures/bpmn_version_1 to rehearse moving "
                   "children to the shipped version. Default: the versions already deployed.")
@with_appcontext
def demo_command(if_empty, children, seed, today, profile, force, bpmn_dir):
    """Build a demo caseload through the real runtime, with demo users for every role.

    Only in demo mode (PACE_DEMO=1, as `make run` sets): the demo users share a published
    password. A database with other accounts is refused unless --force."""
    if bpmn_dir and current_app.config.get("DEMO_MODE"):
        _db().migrate()
        with _db().transaction() as session:
            for model, created in deploy_bundled(session, folder=Path(bpmn_dir),
                                                 reason=f"Diagrams from {bpmn_dir} (demo)"):
                click.echo(f"{model.process_id} version {model.version}: "
                           f"{'deployed' if created else 'unchanged'}")
    _check_demo_allowed(if_empty, force)
    end = today.date() if today else date.today()
    if profile == "england":  # the English profile (docs/england-profile.md)
        from workflows.demo import england as england_demo
        from workflows import profiles
        try:
            profiles.check_enabled(profiles.get("england"))
        except profiles.ProfileError as exc:
            raise click.ClickException(f"{exc}; set PACE_PROFILES=england (or scotland,england) "
                                       "and run pace init-db") from None
        result = england_demo.build(_db(), children=children, seed=seed, today=end,
                                    if_empty=if_empty)
        click.echo("English caseload already present; nothing done." if result is None
                   else result.summary())
        click.echo(england_demo.sign_in_text())
        return
    result = demo.build(_db(), children=children, seed=seed, today=end, if_empty=if_empty)
    if result is None:
        click.echo("Demo caseload already present; nothing done.")
    else:
        click.echo(result.summary())
    click.echo(demo.sign_in_text())


def _check_demo_allowed(if_empty: bool, force: bool) -> None:
    if not current_app.config.get("DEMO_MODE"):
        raise click.ClickException(
            "demo mode is off: `pace demo` adds accounts whose password is published, so it "
            "runs only with PACE_DEMO=1 (as `make run` sets), never on a real installation")
    from sqlalchemy import func, select

    from engine.models import Subject
    from workflows.demo import casts as demo_casts
    with _db().transaction(read_only=True) as session:
        if if_empty and session.scalar(select(func.count()).select_from(Subject)):
            return  # nothing will be built
        real = demo_casts.real_users(session)
    if real and not force:
        raise click.ClickException(
            f"this database has {len(real)} account(s) that are not the demo's "
            f"({', '.join(real[:3])}{', …' if len(real) > 3 else ''}), so it looks like a real "
            "installation; nothing done. Add --force to put the demo's accounts and children "
            "into it anyway")


@click.command("export-ssda903")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="First day of the period, e.g. 2025-04-01.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Last day of the period, e.g. 2026-03-31.")
@click.option("--output", type=click.Path(file_okay=False), required=True,
              help="Folder for header.csv, episodes.csv and reviews.csv.")
@with_appcontext
def export_ssda903_command(start, end, output):
    """English profile: SSDA903-style CSV files for a period, checked against the rules."""
    from workflows.returns import ssda903 as england_export
    with _db().transaction() as session:
        export, findings = england_export.export_and_validate(session, start.date(), end.date())
    for path in export.write(output):
        click.echo(f"wrote {path}")
    click.echo(f"{len(export.header)} children, {len(export.episodes)} episodes, "
               f"{len(export.reviews)} reviews; {len(findings)} problem(s)")
    for finding in findings:
        click.echo(f"  {finding}")
    sys.exit(1 if findings else 0)


@click.group("worker", invoke_without_command=True)
@click.option("--once", is_flag=True,
              help="One sweep, then exit (after finishing any caseload import job queued).")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between sweeps.")
@click.option("--now", "now_text", default=None, help="Run as if it were this ISO date/time.")
@click.option("--import-lease", default=300, show_default=True,
              help="Seconds after which another worker may take over a caseload import job "
                   "this worker stopped renewing (it was killed).")
@click.pass_context
@with_appcontext
def worker_command(context, once, interval, now_text, import_lease):
    """Fire due timers, send reminders, escalate overdue tasks, send queued e-mail and run
    caseload import jobs uploaded in the browser (``pace worker failures``: what it parked).

    Every step runs inside an error boundary: whatever one item raises is logged and
    reported, and the loop goes on, so nothing a user typed can stop the worker."""
    from datetime import timedelta
    if context.invoked_subcommand is not None:
        return

    from workflows.caseload import job_runner as caseload_job_runner
    database = _db()
    worker_name = caseload_job_runner.worker_name()
    if now_text:
        try:
            clock.set_now(datetime.fromisoformat(now_text))
        except ValueError:
            raise click.BadParameter(f"{now_text!r} is not an ISO date or date-time",
                                     param_hint="--now") from None
    mail = database.runtime.config.notifications
    settings = mail.mail_settings() if mail else None
    if settings and settings.enabled:  # when off, the first sweep logs one line saying so
        click.echo(f"E-mail: on, via {settings.describe()}")
    started = heartbeat.now()
    while True:
        errors, more, did = _one_round(database, worker_name, interval,
                                       timedelta(seconds=import_lease))
        _beat(database, worker_name, started, interval, did, errors)
        if once and not more:
            sys.exit(1 if errors else 0)
        if not more:
            time.sleep(interval)


def _one_round(database, worker_name: str, interval: float,
               lease) -> tuple[list[str], bool, dict[str, int]]:
    """One sweep, about one interval of import work and the sign-in windows that ended;
    (errors, more import work queued, what was done). An exception no step caught (the
    database gone) is reported, never raised."""
    from workflows.caseload import job_runner as caseload_job_runner
    errors: list[str] = []
    more = False
    did: dict[str, int] = {}
    try:
        report = sweeper.sweep(database.factory, database.runtime)
        did.update(timers_fired=report.timers_fired, reminders=report.reminders,
                   escalations=report.escalations, digests=report.digests,
                   mails_sent=report.mails_sent, mail_errors=report.mail_errors)
        click.echo(f"{clock.now():%Y-%m-%d %H:%M} timers fired: {report.timers_fired}, "
                   f"reminders: {report.reminders}, escalations: {report.escalations}, "
                   f"mails sent: {report.mails_sent}, mail errors: {report.mail_errors}")
        errors += report.errors
    except Exception as exc:  # noqa: BLE001 - the worker's outermost boundary
        log.exception("the sweep failed; the worker goes on")
        errors.append(f"sweep: {type(exc).__name__}: {exc}")
    try:
        # Import jobs get about one interval of work, then timers are swept again.
        jobs = caseload_job_runner.work(database, worker_name, seconds=interval, lease=lease)
        if not jobs.idle:
            click.echo(f"{clock.now():%Y-%m-%d %H:%M} import jobs: {jobs.children} rows in "
                       f"{jobs.batches} batches, finished: {len(jobs.jobs_finished)}")
        errors += jobs.errors
        more = jobs.more
        did.update(import_rows=jobs.children, import_jobs_finished=len(jobs.jobs_finished))
    except Exception as exc:  # noqa: BLE001 - the worker's outermost boundary
        log.exception("the caseload import step failed; the worker goes on")
        errors.append(f"import jobs: {type(exc).__name__}: {exc}")
    try:  # children who have turned 18: their journeys end (workflows/services/journey_endings.py)
        with database.transaction() as session:
            did["journeys_ended_at_18"] = len(journey_endings.end_at_eighteen(
                session, database.runtime))
    except Exception as exc:  # noqa: BLE001 - the worker's outermost boundary
        log.exception("ending the journeys of children who turned 18 failed; the worker goes on")
        errors.append(f"18th birthdays: {type(exc).__name__}: {exc}")
    try:  # failed sign-ins counted per address: summaries of the windows that ended
        with database.transaction() as session:
            limits = sign_in_limits.Limits.from_config(current_app.config)
            did["sign_in_summaries"] = sign_in_limits.close_windows(
                session, sign_in_limits.now(), limits)
    except Exception as exc:  # noqa: BLE001 - the worker's outermost boundary
        log.exception("closing the sign-in windows failed; the worker goes on")
        errors.append(f"sign-in windows: {type(exc).__name__}: {exc}")
    for error in errors:
        click.echo(f"  error: {error}", err=True)
    return errors, more, did


def _beat(database, worker_name: str, started, interval: float, did: dict[str, int],
          errors: list[str]) -> None:
    """The heartbeat after each round (engine/heartbeat.py, read by `pace doctor`)."""
    try:
        heartbeat.beat(database.factory, worker_name, started_at=started, interval=interval,
                       did=did, errors=errors)
    except Exception:  # noqa: BLE001 - a missed beat must not stop the worker
        log.exception("the worker's heartbeat could not be recorded; the worker goes on")


@worker_command.command("failures")
@click.option("--limit", default=50, show_default=True, help="How many to list, newest first.")
@with_appcontext
def worker_failures_command(limit):
    """E-mail the worker gave up on (it could not be built or the server refused it for
    good), with the reason; an administrator can send one again from the outbox page."""
    from engine import outbox
    with _db().transaction() as session:
        counts, rows = outbox.not_sent(session, limit, failed_only=True)
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    click.echo(f"{counts.get('failed', 0)} e-mail(s) failed; {waiting} waiting to be sent")
    for row in rows:
        click.echo(f"  #{row.id} to {row.to_address!r}: {row.subject!r}\n"
                   f"      {row.last_error or 'no error recorded'}")


@click.command("doctor")
@with_appcontext
def doctor_command():
    """Check the database (reachable, migrated), the diagrams, the worker's heartbeat, e-mail
    and the e-mail the worker gave up on (workflows/doctor.py). Exits 1 when a check fails;
    warnings leave the exit code 0."""
    from workflows import doctor
    found = doctor.checks(_db()) + _deployment_checks()
    labels = {doctor.OK: "ok  ", doctor.WARN: "WARN", doctor.FAIL: "FAIL"}
    width = max(len(c.name) for c in found)
    for check in found:
        click.echo(f"{labels[check.status]}  {check.name:<{width}}  {check.message}")
    failed = [c.name for c in found if c.failed]
    if failed:
        click.echo(f"{len(failed)} check(s) failed: {', '.join(failed)}", err=True)
        sys.exit(1)


def _deployment_checks():
    """The secret key, HTTPS cookies, the mail server and the sign-in provider
    (workflows/doctor_deployment.py), judged from this app and its environment."""
    import os
    from pathlib import Path
    from workflows import doctor_deployment
    mail = _db().runtime.config.notifications
    return doctor_deployment.checks(doctor_deployment.Deployment(
        secret_key=(os.environ.get("PACE_SECRET_KEY") or "").strip() or None,
        secret_key_file=str(Path(current_app.instance_path) / "secret_key"),
        https_cookies=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        demo=bool(current_app.config.get("DEMO_MODE")),
        mail=mail.mail_settings() if mail else None,
        oidc_issuer=(os.environ.get("PACE_OIDC_ISSUER") or "").strip() or None))


@click.group("audit")
def audit_group():
    """Audit trail commands."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command():
    """Check every hash chain; exit 1 naming the first broken event."""
    with _db().transaction() as session:
        broken = audit.verify(session)
    if broken:
        click.echo(f"BROKEN: {broken}")
        sys.exit(1)
    click.echo("intact")


@audit_group.command("export")
@click.option("--child", "reference", default=None, help="One child's history (reference).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-")
@with_appcontext
def audit_export_command(reference, since, until, fmt, output):
    """Export audit events with their hashes (verifiable offline with verify-export)."""
    from sqlalchemy import select

    from engine.audit import export as audit_export
    from engine.models import Subject
    with _db().transaction() as session:
        subject_id = None
        if reference:
            subject_id = session.scalar(select(Subject.id).where(Subject.reference == reference))
            if subject_id is None:
                raise click.ClickException(f"there is no child with reference {reference!r}")
        rows = audit_export.rows(session, subject_id=subject_id,
                                 start=clock.aware(since) if since else None,
                                 end=clock.aware(until) if until else None)
    output.write(audit_export.to_json(rows) if fmt == "json" else audit_export.to_csv(rows))


@audit_group.command("verify-export")
@click.argument("export_file", type=click.File("r", encoding="utf-8"))
def audit_verify_export_command(export_file):
    """Check an exported file's hash chains, offline (no database needed)."""
    from engine.audit import export as audit_export
    try:
        rows = audit_export.read_export(export_file.read())
    except (ValueError, KeyError) as exc:
        raise click.ClickException(f"this is not a PACE Flow audit export ({exc})") from None
    broken = audit_export.verify_rows(rows)
    if broken:
        click.echo(f"BROKEN: {broken}")
        sys.exit(1)
    click.echo(f"intact ({len(rows)} events)")


def init_app(app: Flask) -> None:
    for command in (init_db_command, demo_command, worker_command, audit_group,
                    export_ssda903_command):
        app.cli.add_command(command)
    from web.cli import people as cli_people  # pace team …, pace user … (issue 25)
    cli_people.init_app(app)
    from web.cli.imports import import_command  # caseload import (issue 9)
    app.cli.add_command(import_command)
    from web.cli.tokens import token_group  # API tokens (issue 5)
    app.cli.add_command(token_group)
    from web.cli import measures as cli_measures  # pace measures settings, pace pdsa (issue 27)
    cli_measures.init_app(app)
    from web.cli.process_models import models_group  # process models: list, check, deploy, migrate
    app.cli.add_command(models_group)
    app.cli.add_command(doctor_command)  # is the installation working (issue 30)
    from web.cli import settings as cli_settings  # pace settings show|set (issue 25)
    cli_settings.init_app(app)
    from web.cli import children as cli_children  # pace children add (issue 25)
    cli_children.init_app(app)
