"""Is this installation working? The checks of ``pace doctor`` and of the administrators'
status section (on the e-mail outbox page): the database answers and is migrated to the
newest revision, each enabled profile's diagrams are deployed, a ``pace worker`` has been
seen lately (engine/heartbeat.py), how e-mail is set up, and the e-mail the worker gave up
on (engine/outbox.py ``not_sent``).

Each check is ``ok``, ``warn`` (worth a look, the service works) or ``fail`` (part of the
service is not working: ``pace doctor`` exits 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from engine import heartbeat, outbox, registry

from . import profiles
from .app import ROOT

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    message: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL


def checks(database, at: datetime | None = None) -> list[Check]:
    """Every check, in the order an operator reads them. ``database``: workflows.app's."""
    at = at or heartbeat.now()
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            schema = _schema(connection)
    except SQLAlchemyError as exc:
        reason = str(exc).splitlines()[0][:300]
        where = database.engine.url.render_as_string(hide_password=True)
        return [Check("database", FAIL, f"not reachable at {where}: {reason}. Check "
                                        "PACE_DATABASE_URL (database_url in the settings file) "
                                        "and that the database server is running")]
    found = [Check("database", OK, f"reachable ({database.engine.dialect.name})"), schema]
    if schema.failed:
        return found  # the tables the other checks read may not be there
    with database.transaction(read_only=True) as session:
        found.append(_diagrams(session))
        found.append(_worker(session, at))
        found.append(_mail(database))
        found.append(_parked(session))
    return found


def _alembic_script() -> ScriptDirectory:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config)


def _schema(connection) -> Check:
    script = _alembic_script()
    expected = set(script.get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return Check("schema", FAIL, "no schema: run `pace init-db`")
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = sorted(current - known)
    if unknown:
        return Check("schema", FAIL, "the database has revisions this release does not know "
                                     f"({', '.join(unknown)}): is an older release running?")
    # A head another revision depends on (``depends_on``) is applied without being stored
    # as a head of the database: count every revision below the stored heads as applied.
    applied = {r.revision for r in script.revision_map.iterate_revisions(tuple(current), "base")}
    missing = sorted(expected - applied)
    if not missing:
        return Check("schema", OK, f"migrated to the newest revision ({len(expected)} heads)")
    return Check("schema", FAIL, "not migrated to the newest revision (missing "
                                 f"{', '.join(missing)}): run `pace init-db`")


def _diagrams(session) -> Check:
    deployed, missing = [], []
    for profile in profiles.enabled():
        for process_id in profile.processes:
            model = registry.latest(session, process_id)
            (deployed.append(f"{process_id} v{model.version}") if model is not None
             else missing.append(process_id))
    if missing:
        return Check("diagrams", FAIL, f"not deployed: {', '.join(missing)}; run `pace init-db`")
    return Check("diagrams", OK, f"deployed: {', '.join(deployed)}")


def _ago(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} minutes ago"
    return f"{seconds // 3600} hours ago"


def _round(did: dict) -> str:
    done = [f"{key.replace('_', ' ')}: {value}" for key, value in did.items() if value]
    return ", ".join(done) if done else "nothing was due"


def _worker(session, at: datetime) -> Check:
    workers = heartbeat.seen(session)
    if not workers:
        return Check("worker", FAIL, "no `pace worker` has ever reported: timers, reminders, "
                                     "escalations, e-mail and imports wait until one runs")
    fresh = [w for w in workers if w.fresh(at)]
    if not fresh:
        last = workers[0]
        return Check("worker", FAIL, f"no `pace worker` seen for {heartbeat.STALE_AFTER} of its "
                                     f"intervals: {last.worker} was last seen "
                                     f"{_ago(last.age(at))} (every "
                                     f"{int(last.interval.total_seconds())} s); start it again")
    newest = fresh[0]
    others = f"; {len(fresh) - 1} more running" if len(fresh) > 1 else ""
    message = (f"{newest.worker} last seen {_ago(newest.age(at))} (every "
               f"{int(newest.interval.total_seconds())} s), round {newest.rounds}: "
               f"{_round(newest.last_round)}{others}")
    if newest.errors:
        return Check("worker", WARN, f"{message}; {newest.errors} error(s) in its last round, "
                                     f"the last: {newest.last_error}")
    return Check("worker", OK, message)


def _mail(database) -> Check:
    policy = database.runtime.config.notifications
    if policy is None:
        return Check("e-mail", OK, "this deployment sends no notifications")
    settings = policy.mail_settings()
    if not settings.enabled:
        return Check("e-mail", WARN, "off: set PACE_SMTP_HOST (and PACE_SMTP_PORT, _TLS, _USER, "
                                     "_PASSWORD, _FROM) for notices by e-mail; in-app "
                                     "notifications work without it")
    return Check("e-mail", OK, f"on, via {settings.describe()}, from {settings.sender}, "
                               f"links to {settings.base_url}")


def _parked(session) -> Check:
    counts, _rows = outbox.not_sent(session, limit=1, failed_only=True)
    failed = counts.get("failed", 0)
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    message = f"{failed} e-mail(s) given up on, {waiting} waiting to be sent"
    if failed:
        return Check("parked e-mail", WARN, f"{message}: see `pace worker failures` or the "
                                            "outbox page, and send them again from there")
    return Check("parked e-mail", OK, message)
