"""Wires the worker UI into the app: sign-in sessions, CSRF, blueprints, error pages.

Kept apart from ``create_app`` so the factory stays small and each concern can be read
in one place. Config defaults use ``setdefault`` so a test or deployment config wins.
"""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, render_template, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from engine import clock
from engine.errors import Conflict, EngineError, NotFound
from workflows import profiles
from workflows.policy import (MEASURE_ROLES, MODEL_READ_ROLES, PEOPLE_ROLES, TEAM_WORK_ROLES,
                              can_view_task)

from web.shared import body_limits

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")


@login_manager.user_loader
def _load_user(user_id: str):
    from web.security.sign_in import load_user  # sign-in owns what a session id means
    return load_user(user_id)


def _config_defaults(app: Flask) -> None:
    """PACE Flow's session and form settings, unless the deployment or a test set its own.

    Flask pre-fills some of these keys (31-day sessions, cookie "session"), so a key still
    holding Flask's own default counts as unset."""
    minutes = int(app.config.get("SESSION_TIMEOUT_MINUTES", 30))
    ours = {
        "SESSION_TIMEOUT_MINUTES": minutes,
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=minutes),  # idle timeout
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "pace_session",
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "WTF_CSRF_TIME_LIMIT": None,  # the session lifetime bounds the token
        "QUEUE_PAGE_SIZE": 25,
    }
    for key, value in ours.items():
        if key not in app.config or app.config[key] == Flask.default_config.get(key, object()):
            app.config[key] = value


# -- template helpers -------------------------------------------------------------------
def _local_zone():
    """Times are stored in UTC and shown as the workers' clock shows them: GMT/BST unless
    the deployment names another zone (``PACE_TIME_ZONE``, checked at start-up by
    workflows/configuration.py)."""
    try:
        return ZoneInfo(os.environ.get("PACE_TIME_ZONE", "").strip() or "Europe/London")
    except ZoneInfoNotFoundError:  # no tz database installed: show UTC
        return timezone.utc


_LOCAL = _local_zone()


def format_date(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        local = value.astimezone(_LOCAL) if value.tzinfo else value
        return f"{local.day} {local:%b %Y %H:%M}"
    return f"{value.day} {value:%b %Y}"


def format_time(value: datetime) -> str:
    """"14:32" on the workers' clock: when something was saved today."""
    return f"{value.astimezone(_LOCAL):%H:%M}"


def _role_name(code: str, child=None) -> str:
    """A role's label; given the child (or profile), in that profile's words."""
    return profiles.role_label(code, child)




def _nav():
    """Service navigation items for the signed-in user: (endpoint, label)."""
    if not current_user.is_authenticated:
        return []
    items = []
    if current_user.has_queue:
        items += [("queue.my_work", "My work"), ("queue.team_queue", "Team queue")]
    if current_user.can_view_children:
        items.append(("children.index", "Children"))
    if current_user.can_view_overview:
        items.append(("overview.index", "Overview"))
    if current_user.has_any(TEAM_WORK_ROLES):
        items.append(("team_work.index", "My team's work"))  # web/pages/team_work.py
    if set(current_user.roles) & MEASURE_ROLES:
        items.append(("measures.index", "Measures"))
    if set(current_user.roles) & MODEL_READ_ROLES:
        items.append(("models.index", "Processes"))
    if "auditor" in current_user.roles:
        items.append(("audit.index", "Audit"))
    if "admin" in current_user.roles:
        items.append(("imports.index", "Import"))  # web/pages/imports.py
    if set(current_user.roles) & PEOPLE_ROLES:
        items.append(("people_admin.index", "Teams and people"))  # web/pages/people.py
    items.append(("api_docs_page.page", "API"))  # the reference links to your API tokens
    return items


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["time"] = format_time
    app.jinja_env.filters["role_name"] = _role_name
    app.jinja_env.globals["nav_items"] = _nav
    app.jinja_env.globals["today"] = clock.today
    app.jinja_env.globals["can_view_task"] = can_view_task
    app.jinja_env.globals["service_name"] = "PACE Flow"
    app.jinja_env.filters["nl2br"] = lambda text: Markup("<br>").join(
        (text or "").splitlines())


# -- errors and headers -----------------------------------------------------------------
ERROR_TEXT = {
    400: ("There is a problem with the request", "The request could not be understood. "
          "Go back and try again."),
    403: ("You do not have access to this page", "Your roles do not include this page. "
          "If you need it, ask an administrator."),
    404: ("Page not found", "There is no such page, or it is outside your team's records."),
    405: ("This action is not available here", "Use the buttons on the page."),
    409: ("This record has changed", "Someone else changed it. Reload the page and try again."),
    413: (body_limits.TITLE, body_limits.TEXT),  # a body over the route's limit
    422: ("There is a problem with what was entered", "Go back, correct it and try again."),
    429: ("Too many attempts", "Wait a few minutes and try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you "
          "entered has been saved unless you were told it was."),
    503: ("The service is busy", "Try again in a moment."),
}


def render_error(status: int, message: str | None = None):
    title, text = ERROR_TEXT.get(status, ERROR_TEXT[500])
    return render_template("errors/error.html", status=status, title=title,
                           text=message or text), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        from web.pages.kept_entries import answer_refused_form  # signed out: sign in again,
        kept = answer_refused_form(exc.description)             # the entries kept
        if kept is not None:
            return kept
        return render_error(400, "The form had expired or did not come from this service. "
                                 "Go back, reload the page and submit it again.")

    @app.errorhandler(HTTPException)
    def _http(exc):
        return render_error(exc.code or 500)

    @app.errorhandler(NotFound)
    def _engine_not_found(_exc):
        return render_error(404)

    @app.errorhandler(Conflict)
    def _conflict(exc):
        return render_error(409, str(exc))

    @app.errorhandler(EngineError)
    def _refused(exc):
        """A service's typed refusal (403, 409, 422 …) a page did not handle itself: its
        message on the error page, never a 500."""
        return render_error(exc.status, str(exc) or None)

    @app.errorhandler(OperationalError)
    def _busy(_exc):
        return render_error(503)


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # Children's records must not linger in shared browsers' caches or the back button.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    _config_defaults(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    _register_template_helpers(app)
    _register_errors(app)
    app.after_request(_security_headers)
    from web.security import sign_in as auth
    from web.pages import (allocation, api_tokens, children, journey_endings, overview, queue,
                           tasks, team_work)
    for blueprint in (auth.bp, queue.bp, tasks.bp, children.bp, overview.bp, api_tokens.bp,
                      team_work.bp, allocation.bp, journey_endings.bp):
        app.register_blueprint(blueprint)
    from web.pages import task_drafts
    from web.security import session_timeout
    app.register_blueprint(task_drafts.bp)  # drafts saved while typing
    session_timeout.init_app(app)  # the timeout warning and "Stay signed in"
    from web.pages import due_dates
    due_dates.init_app(app)  # "Due today", "3 days overdue" (workflows/due_words.py)
