"""``pace children add``: a newly looked-after child from the command line, through the
service of the *Add a child* page and ``POST /api/v1/children``
(``workflows.services.children.add_child``), so it refuses the same things naming the same
fields, and the child's processes start exactly as they do there. It acts as the social
worker or manager named by ``--by``, who is recorded in the child's history.

``pace children end-early`` ends a child's journey early through the service of the
*End this journey early* page and ``POST /api/v1/children/<id>/early-ending``.

Exit codes: 0 added (or ended); 1 refused (each problem printed, nothing saved); 2 a usage mistake,
including a ``--by`` user who is unknown or inactive.
"""
from __future__ import annotations

from datetime import date

import click
from flask import Flask
from sqlalchemy import select
from flask.cli import with_appcontext

from engine.errors import EngineError
from engine.models import Subject
from workflows.services import children as child_service, journey_endings

from web.cli.acting import by_user
from web.cli.changes import refused

OPTIONS = {"reference": "--reference", "name": "--name", "date_of_birth": "--date-of-birth",
           "pathway": "--pathway", "start_date": "--start-date", "team": "--team",
           "allocated_worker": "--allocated-worker", "profile": "--profile"}


def _db():
    from web.shared.database import db
    return db()


@click.group("children")
def children_group():
    """Children on the looked-after processes."""


@children_group.command("add")
@click.option("--reference", required=True, help="The council's reference for the child.")
@click.option("--name", required=True, help="The child's name.")
@click.option("--date-of-birth", default=None, metavar="YYYY-MM-DD")
@click.option("--pathway", default=None, metavar="PATHWAY",
              help="Scotland: accommodated (permanence journey) or cso_home (CSO at home).")
@click.option("--start-date", default=None, metavar="YYYY-MM-DD",
              help="Scotland: the date the child was accommodated, or the CSO at home made.")
@click.option("--answer", "answers", multiple=True, metavar="FIELD=VALUE",
              help="Any other field of the profile's entry form (England: la_start, "
                   "legal_status, …); repeat it.")
@click.option("--team", default=None, help="The child's team (default: yours).")
@click.option("--allocated-worker", default=None, metavar="USERNAME")
@click.option("--profile", default=None, help="scotland or england, when both are enabled.")
@click.option("--by", "by", required=True, metavar="USERNAME",
              help="The social worker or manager adding the child (recorded in its history).")
@with_appcontext
def children_add_command(reference, name, date_of_birth, pathway, start_date, answers, team,
                         allocated_worker, profile, by):
    """Add a child and start their processes; the first tasks go to the team's queues."""
    data = {"reference": reference, "name": name, "date_of_birth": date_of_birth,
            "pathway": pathway, "start_date": start_date}
    for answer in answers:
        key, sign, value = answer.partition("=")
        if not sign or not key.strip():
            raise click.BadParameter(f"{answer!r} is not FIELD=VALUE", param_hint="--answer")
        data[key.strip()] = value
    data = {key: value for key, value in data.items() if value not in (None, "")}
    database = _db()
    try:
        with database.transaction() as session:
            child = child_service.add_child(session, database.runtime, by_user(session, by),
                                            data, profile=profile, team=team,
                                            allocated_worker=allocated_worker)
            added = (child.reference, child.team)
    except EngineError as exc:
        refused(exc, by, OPTIONS)
    click.echo(f"Added {added[0]} to team {added[1]}; the first tasks are in the team's queues.")


END_OPTIONS = {"reason": "--reason", "ended_on": "--ended-on", "note": "--note"}


@children_group.command("end-early")
@click.argument("reference")
@click.option("--reason", required=True, metavar="REASON",
              help="Why (Scotland): removed_by_parent, turned_18, moved_council, died or other.")
@click.option("--ended-on", required=True, metavar="YYYY-MM-DD",
              help="The day the journey ended: today or earlier, not before it started.")
@click.option("--note", default="", help="What happened (required with --reason other).")
@click.option("--by", "by", required=True, metavar="USERNAME",
              help="The team leader or service manager ending it (recorded in its history).")
@with_appcontext
def children_end_early_command(reference, reason, ended_on, note, by):
    """End a child's journey early: every open task and timer of their running processes
    is cancelled, and the reason is kept (workflows/services/journey_endings.py)."""
    try:
        day = date.fromisoformat(ended_on)
    except ValueError:
        raise click.BadParameter(f"{ended_on!r} is not a date (YYYY-MM-DD)",
                                 param_hint="--ended-on") from None
    database = _db()
    try:
        with database.transaction() as session:
            acting = by_user(session, by)
            child = session.scalar(select(Subject).where(Subject.reference == reference))
            if child is None:
                raise click.ClickException(f"there is no child with reference {reference!r}")
            done = journey_endings.end_journey_early(session, database.runtime, acting,
                                                     child.id, reason, day, note)
            said = (done.reason.label, len(done.instances), done.cancelled_tasks)
    except EngineError as exc:
        refused(exc, by, END_OPTIONS)
    click.echo(f"Ended {reference}'s journey on {day:%-d %B %Y}: {said[0]}. "
               f"{said[1]} process(es) ended, {said[2]} open task(s) cancelled.")


def init_app(app: Flask) -> None:
    app.cli.add_command(children_group)
