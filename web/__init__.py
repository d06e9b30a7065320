"""Flask application factory."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from workflows import configuration
from workflows.app import Database

from web.shared.database import db

__all__ = ["create_app", "db"]


def _secret_key(instance_path: Path) -> str:
    """A stable secret per installation, kept in the instance folder (never in git).

    Made readable by its owner only from the first byte: written to a new file opened with
    mode 0600, then linked into place, so there is no moment it is world-readable and no
    moment a second process starting alongside reads it half-written (the link fails for
    the process that comes second, which reads the first one's)."""
    path = instance_path / "secret_key"
    if not path.exists():
        draft = instance_path / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
                file.flush()
                os.fsync(file.fileno())
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            draft.unlink(missing_ok=True)
    elif path.stat().st_mode & 0o077:  # made by an older release, or by hand
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(test_config: dict | None = None) -> Flask:
    # PACE_CONFIG's TOML file fills the variables the environment leaves unset, before
    # anything reads one (workflows/configuration.py); a bad file stops here, named.
    loaded = configuration.apply()
    app = Flask(__name__, instance_relative_config=True)
    app.extensions["pace_config"] = loaded
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("PACE_DATABASE_URL", f"sqlite:///{instance / 'pace.db'}"),
        DEMO_MODE=os.environ.get("PACE_DEMO", "0") == "1",
    )
    for key, variable in (("SESSION_TIMEOUT_MINUTES", "PACE_SESSION_TIMEOUT_MINUTES"),
                          ("SESSION_MAX_HOURS", "PACE_SESSION_MAX_HOURS")):
        if configuration.configured(os.environ, variable):  # checked by apply()
            app.config[key] = int(os.environ[variable])
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("PACE_SECRET_KEY") or _secret_key(instance)
    app.extensions["pace_db"] = Database.connect(app.config["DATABASE_URL"],
                                                 **app.config.get("ENGINE_OPTIONS", {}))
    from web.shared import fault_points
    fault_points.install(app.extensions["pace_db"])  # test-only; off unless PACE_TEST_PAUSE_AT
    from web.shared import body_limits, query_args
    query_args.init_app(app)  # before any route: bounded <int:…>, one-line query parameters
    body_limits.init_app(app)  # one body limit (MAX_CONTENT_LENGTH), raised per upload route
    from web.cli import commands as cli
    from web.pages import ui
    cli.init_app(app)
    from web.security import oidc_views
    oidc_views.init_app(app)  # sign-in through the council's OpenID Connect provider
    ui.init_app(app)  # worker UI: sign-in, CSRF, blueprints, error pages
    from web.security import browser as browser_security
    browser_security.init_app(app)  # cookie flags, HTTPS (PACE_HTTPS), extra headers
    # Aims, run charts, stage delays and PDSA; time to decision; forecast: one blueprint.
    from web.pages import measures, measures_blueprint, measures_forecast, measures_survival  # noqa: F401
    app.register_blueprint(measures_blueprint.bp)  # after the three pages joined it
    from web.pages import notifications
    notifications.init_app(app)  # notification centre: header count, list, e-mail choices
    from . import api
    api.init_app(app)  # JSON API /api/v1 (after ui: wraps its error pages for API paths)
    from web.pages import audit as audit_views, audit_exports  # noqa: F401 - the exports join its blueprint
    app.register_blueprint(audit_views.bp)  # auditor pages: timeline, diagram path, export
    from web.pages import model_migrations, process_models as models_views  # noqa: F401 - moves and comparisons join its blueprint
    app.register_blueprint(models_views.bp)  # process owners: versions, drafts, deploy, migrate
    from web.pages import imports as import_views
    app.register_blueprint(import_views.bp)  # administrators: caseload upload and import jobs
    from web.pages import people as people_views
    app.register_blueprint(people_views.bp)  # administrators: teams, people, who holds each role
    from web.pages import case_file
    case_file.init_app(app)  # case notes and attachments on the child and task pages
    from web.pages import documents
    documents.init_app(app)  # generated documents on the child page; a draft's Word templates
    return app
