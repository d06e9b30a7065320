"""Warning a worker before an idle session ends, and letting them stay signed in.

A session ends after ``PERMANENT_SESSION_LIFETIME`` without a request (web/pages/ui.py sets
it from ``SESSION_TIMEOUT_MINUTES``; Flask renews the cookie's expiry on every answer).
Ending silently cost workers what they had typed, so every signed-in page carries the
lifetime and the warning time (templates/session/_timeout.html), and
``static/js/session-timeout.mjs`` opens the GOV.UK timeout warning that long before the
end. "Stay signed in" posts to ``keep_alive`` (CSRF-checked like every form), whose answer
renews the cookie; when nobody answers, the page goes to ``timed_out``, which says why the
worker has to sign in again and brings them back to the page afterwards.

The page's timing is rendered from the server's own settings, never written into the
script, so a deployment (or a test) with another lifetime gets a warning that matches.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, request, url_for
from flask_login import current_user

from web.security.sign_in import default_page, safe_next

bp = Blueprint("session_timeout", __name__, url_prefix="/session")

WARNING_SECONDS = 120  # GOV.UK: warn two minutes before the session ends


@dataclass(frozen=True)
class Timing:
    """What a page needs to warn in time: the idle lifetime and how long before its end to
    warn, both in whole seconds."""
    lifetime: int
    warning: int


def timing(lifetime_seconds: float, warning_seconds: float) -> Timing:
    """The warning never comes before the page is a second old, however short the lifetime
    (a lifetime shorter than the warning would otherwise open it at once)."""
    lifetime = max(1, int(lifetime_seconds))
    return Timing(lifetime=lifetime, warning=max(0, min(int(warning_seconds), lifetime - 1)))


def duration_words(seconds: int) -> str:
    """"30 minutes", "1 minute", "45 seconds": how long without activity ends a session."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def current_timing() -> Timing:
    config = current_app.config
    return timing(current_app.permanent_session_lifetime.total_seconds(),
                  config.get("SESSION_WARNING_SECONDS", WARNING_SECONDS))


def signed_out_message() -> str:
    words = duration_words(current_timing().lifetime)
    return (f"You were signed out because {current_app.jinja_env.globals['service_name']} "
            f"had not been used for {words}. Sign in again to carry on.")


def same_site_path(url: str | None) -> str | None:
    """The path of ``url`` when it is a page of this service (the Referer of a form), else
    None, so a sign-in never leads somewhere else."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def sign_in_again(next_path: str | None, message: str | None = None):
    """Back to the sign-in page, saying why, and to ``next_path`` after it (303: a form
    posted after the session ended is not posted again)."""
    flash(message or signed_out_message(), "info")
    return redirect(url_for("auth.sign_in", next=safe_next(next_path)), 303)


@bp.post("/keep-alive")
def keep_alive():
    """"Stay signed in": any signed-in request renews the cookie; this one does only that
    and says how long the session now has."""
    if not current_user.is_authenticated:
        return jsonify(signed_in=False, message=signed_out_message()), 401
    return jsonify(signed_in=True, seconds_left=current_timing().lifetime)


@bp.get("/timed-out")
def timed_out():
    """Where a page goes when its warning ran out. A session kept alive meanwhile (another
    tab) goes straight back; otherwise the worker is told why to sign in again."""
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or default_page(current_user))
    return sign_in_again(target)


def template_values() -> dict:
    """The timing every page renders for session-timeout.mjs."""
    return {"session_timing": current_timing(),
            "session_words": duration_words(current_timing().lifetime)}


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.context_processor(template_values)
