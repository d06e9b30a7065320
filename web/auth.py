"""Sign-in and sign-out, and what makes a session cookie valid.

Failed attempts are audit events, so throttling works across several web workers with no
state in process memory, and auditors see the attempts. A session is valid only while its
row in ``sign_in_session`` exists (web/sign_in_sessions.py): sign-out deletes it, so a
copied cookie is worthless afterwards, and sign-in starts a new session, so a cookie
planted before sign-in never becomes a signed-in one.
"""
from __future__ import annotations

import dataclasses
import functools
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from engine import audit, clock
from engine.models import AuditEvent
from workflows import accounts, demo, demo_casts, profiles

from . import sign_in_sessions
from .access import Principal, fingerprint
from .database import db

bp = Blueprint("auth", __name__)

@functools.cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so a wrong name takes as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16))


def safe_next(target: str | None) -> str | None:
    """Only same-site paths, so a crafted link cannot send a worker elsewhere after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def _recent_failures(dbs, username: str) -> int:
    since = clock.now() - timedelta(minutes=current_app.config["SIGN_IN_LOCK_MINUTES"])
    return dbs.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.event_type == "sign_in_failed", AuditEvent.actor == username,
        AuditEvent.at >= since)) or 0


def _demo_users():
    if not current_app.config.get("DEMO_MODE"):
        return None
    return [{"username": u, "name": n, "roles": ", ".join(profiles.role_label(r) for r in roles),
             "team": cast.teams.get(t, "All teams") if t else "All teams"}
            for cast in demo_casts.enabled() for u, n, roles, t in cast.users]


def _page(errors: dict[str, str] | None = None, username: str = "", status: int = 200):
    return render_template("auth/sign_in.html", errors=errors or {}, username=username,
                           demo_users=_demo_users(), demo_password=demo.DEMO_PASSWORD,
                           next=safe_next(request.values.get("next")) or ""), status


def default_page(principal: Principal) -> str:
    if principal.has_queue:
        return url_for("queue.my_work")
    if principal.can_view_children:
        return url_for("children.index")
    return url_for("queue.home")


def _max_hours() -> float:
    return current_app.config["SESSION_MAX_HOURS"]


def load_user(user_id: str) -> Principal | None:
    """Flask-Login's user loader: "<user id>:<password fingerprint>:<session token>"."""
    ident, _, rest = user_id.partition(":")
    print_, _, token = rest.partition(":")
    if not ident.isdigit() or not token:
        return None
    with db().transaction() as dbs:
        found, live = sign_in_sessions.user_and_live(dbs, int(ident), token, _max_hours())
        if found is None or not live:
            return None
        if not found.active or fingerprint(found) != print_:
            # deactivated or password changed: end the session for good, so re-activating
            # the account or restoring the old password does not bring it back
            sign_in_sessions.end(dbs, token)
            return None
        return dataclasses.replace(Principal.from_account(found), session_token=token)


@bp.get("/sign-in")
def sign_in():
    if current_user.is_authenticated:
        return redirect(default_page(current_user))
    return _page()


@bp.post("/sign-in")
def sign_in_post():
    username = (request.form.get("username") or "").strip()[:80]
    password = request.form.get("password") or ""
    errors = {}
    if not username:
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"
    if errors:
        return _page(errors, username, 400)
    limit = current_app.config["SIGN_IN_MAX_FAILURES"]
    with db().transaction() as dbs:
        if _recent_failures(dbs, username) >= limit:
            audit.record(dbs, "sign_in_throttled", username, data={"ip": request.remote_addr})
            throttled = True
        else:
            throttled = False
            user = accounts.find_user(dbs, username)
            if user is None:
                check_password_hash(_dummy_hash(), password)
            ok = user is not None and user.active and accounts.check_password(user, password)
            if ok:
                token = sign_in_sessions.start(dbs, user.id, _max_hours())
                principal = dataclasses.replace(Principal.from_account(user), session_token=token)
                audit.record(dbs, "signed_in", username, data={"ip": request.remote_addr})
            else:
                audit.record(dbs, "sign_in_failed", username, data={"ip": request.remote_addr})
    if throttled:
        minutes = current_app.config["SIGN_IN_LOCK_MINUTES"]
        return _page({"username": f"Too many failed attempts to sign in as this user. "
                                  f"Wait {minutes} minutes and try again."}, username, 429)
    if not ok:
        return _page({"username": "The username or password is not right"}, username, 401)
    session.clear()  # a fresh session on sign-in, so a planted session id is worthless
    session.permanent = True  # PERMANENT_SESSION_LIFETIME is the idle timeout
    login_user(principal)
    return redirect(safe_next(request.form.get("next")) or default_page(principal))


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        with db().transaction() as dbs:
            sign_in_sessions.end(dbs, current_user.session_token)
            audit.record(dbs, "signed_out", current_user.username)
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))
