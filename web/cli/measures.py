"""``pace measures settings show|set`` and ``pace pdsa list|add``: the aims' settings and
PDSA cycles of this council (``PACE_COUNCIL``), through the same services as the settings
and PDSA pages and ``/api/v1`` (``workflows.services.aim_settings``, ``.pdsa_cycles``), so a
value the page refuses is refused here, naming the same field, and every change is audited
under the user named by ``--by`` (an active user holding the role the page asks for).

Exit codes: 0 done; 1 refused (each problem printed, nothing saved); 2 a usage mistake,
including a ``--by`` user who is unknown, inactive or without the role.
"""
from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from engine.errors import EngineError, InvalidData
from workflows.measures.aims import AimSettings
from workflows.services import aim_settings, pdsa_cycles

from web.cli.acting import by_user
from web.cli.changes import key_values, refused


def _database():
    from web.shared.database import db
    return db()


def _actor(session, username: str):
    """The ``--by`` user (an Actor to the services); the service checks their role."""
    return by_user(session, username)


# -- pace measures settings ------------------------------------------------------------------------
@click.group("measures")
def measures_group():
    """The PACE measures: the aims' settings and the national programme's aggregate export."""


@measures_group.group("settings")
def settings_group():
    """The aims' settings of this council (PACE_COUNCIL)."""


def _number(value) -> str:
    return "" if value is None else f"{value:g}"


def _echo_settings(settings: AimSettings) -> None:
    population = settings.population
    click.echo(f"{settings.title} (council {settings.council})")
    for key, value in (("wording", settings.wording),
                       ("target_pct", _number(float(settings.target_pct))),
                       ("threshold", f"{settings.threshold.text}"),
                       ("max_age", _number(population.max_age)),
                       ("min_age", _number(population.min_age)),
                       ("teams", ",".join(population.teams)),
                       ("start_date", settings.start_date.isoformat()
                        if settings.start_date else ""),
                       ("end_date", settings.end_date.isoformat() if settings.end_date else "")):
        click.echo(f"  {key}={value}")


@settings_group.command("show")
@click.option("--aim", type=int, default=None, help="Only this aim (1, 2 or 3).")
@with_appcontext
def settings_show_command(aim):
    """Each aim's settings as KEY=VALUE lines (the keys `set` takes)."""
    database = _database()
    council = database.settings.council
    try:
        with database.transaction(read_only=True) as session:
            found = [aim_settings.aim_settings(session, None, council, aim)] if aim is not None \
                else list(aim_settings.settings(session, None, council).values())
    except EngineError as exc:
        refused(exc)
    for settings in found:
        _echo_settings(settings)


@settings_group.command("set")
@click.option("--aim", type=int, required=True, help="The aim (1, 2 or 3).")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.option("--by", "by", required=True,
              help="User name of the process owner or administrator making the change.")
@with_appcontext
def settings_set_command(aim, assignments, by):
    """Change settings of an aim, e.g. `target_pct=80 threshold=24m`; an empty value
    clears an optional one (max_age, min_age, teams, start_date, end_date). Keys:
    wording, target_pct, threshold, max_age, min_age, teams (codes, comma-separated),
    start_date, end_date (YYYY-MM-DD)."""
    changes = key_values(assignments)
    database = _database()
    try:
        with database.transaction() as session:
            changed = aim_settings.change(session, _actor(session, by),
                                          database.settings.council, aim, changes)
    except EngineError as exc:
        refused(exc, by)
    click.echo(f"Saved: {', '.join(changes)}.")
    _echo_settings(changed)


# -- pace measures export --aggregate ----------------------------------------------------------
@measures_group.command("export")
@click.option("--aggregate", is_flag=True,
              help="The national programme's aggregate export (required: the per-measure "
                   "CSVs are downloaded from the Measures pages).")
@click.option("--on", "on", default=None, metavar="YYYY-MM-DD",
              help="Measurement date (default today).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True),
              default="-",
              help="File to write (default: standard output).")
@with_appcontext
def export_command(aggregate, on, fmt, output):
    """Each aim per cohort month for the whole council (PACE_COUNCIL): numerator,
    denominator, percentage, target, diagram version and PDSA cycles, small numbers
    suppressed, no child named. The format is documented in docs/measures.md."""
    import json

    from engine import clock, csv_cells
    from workflows.measures import aggregate as aggregates
    from workflows.services import measure_exports

    if not aggregate:
        raise click.UsageError("say --aggregate: the aggregate for the national programme is "
                               "the export made here")
    try:
        day = clock.today() if on is None else date.fromisoformat(on)
    except ValueError:
        raise click.BadParameter(f"{on!r} is not a date; write YYYY-MM-DD", param_hint="--on")
    database = _database()
    try:
        with database.transaction(read_only=True) as session:
            found = measure_exports.aggregate(session, None, database.settings.council, day)
    except InvalidData as exc:
        raise click.BadParameter("; ".join(e.message for e in exc.errors), param_hint="--on")
    except EngineError as exc:
        refused(exc)
    if fmt == "json":
        text = json.dumps(aggregates.as_json(found), default=str, indent=2) + "\n"
    else:
        text = csv_cells.to_text(aggregates.csv_rows(found))
    if output == "-":
        click.echo(text, nl=False)
    else:
        with open(output, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        click.echo(f"Wrote {len(found.rows)} rows ({fmt}, format version "
                   f"{aggregates.FORMAT_VERSION}) to {output}", err=True)


# -- pace pdsa -----------------------------------------------------------------------------------
@click.group("pdsa")
def pdsa_group():
    """PDSA cycles of this council (PACE_COUNCIL), which annotate the aims' run charts."""


@pdsa_group.command("list")
@click.option("--aim", type=click.IntRange(1, 3), default=None, help="Only this aim's cycles.")
@with_appcontext
def pdsa_list_command(aim):
    """One line per cycle, by start date: id, aim, cycle number, dates, act, change idea."""
    database = _database()
    with database.transaction(read_only=True) as session:
        found = pdsa_cycles.cycles(session, None, database.settings.council, aim)
        lines = [f"#{c.id}  Aim {c.aim}  cycle {c.cycle_number}  {c.start_date.isoformat()} to "
                 f"{c.end_date.isoformat() if c.end_date else '(open)'}  "
                 f"{c.act or 'act not decided'}  {c.change_idea}" for c in found]
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} PDSA cycle(s)")


OPTIONS = {"aim": "--aim", "change_idea": "--title", "start_date": "--start",
           "end_date": "--end", "cycle_number": "--cycle", "plan": "--plan",
           "prediction": "--prediction", "act": "--act", "model_version": "--model-version"}


@pdsa_group.command("add")
@click.option("--aim", required=True, help="The aim the change is tested for (1, 2 or 3).")
@click.option("--title", required=True, help="The change idea, one line.")
@click.option("--start", required=True, help="Start date, YYYY-MM-DD.")
@click.option("--end", default=None, help="End date, YYYY-MM-DD.")
@click.option("--cycle", default=None, help="Cycle number (default 1).")
@click.option("--plan", default=None)
@click.option("--prediction", default=None)
@click.option("--act", default=None, help="adopt, adapt or abandon.")
@click.option("--model-version", default=None,
              help="The version of the aim's diagram that carries the change.")
@click.option("--by", "by", required=True,
              help="User name of the process owner or service manager recording it.")
@with_appcontext
def pdsa_add_command(aim, title, start, end, cycle, plan, prediction, act, model_version, by):
    """Record a PDSA cycle, as the PDSA page does."""
    given = {"aim": aim, "change_idea": title, "start_date": start, "end_date": end,
             "cycle_number": cycle, "plan": plan, "prediction": prediction, "act": act,
             "model_version": model_version}
    values = {key: value for key, value in given.items() if value is not None}
    database = _database()
    try:
        with database.transaction() as session:
            cycle_row = pdsa_cycles.record(session, _actor(session, by),
                                           database.settings.council, values)
            done = f"Recorded PDSA cycle #{cycle_row.id}: Aim {cycle_row.aim}, " \
                   f"{cycle_row.change_idea} (cycle {cycle_row.cycle_number})"
    except EngineError as exc:
        refused(exc, by, OPTIONS)
    click.echo(done)


def init_app(app) -> None:
    for command in (measures_group, pdsa_group):
        app.cli.add_command(command)
