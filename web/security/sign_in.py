"""Sign-in and sign-out, and what makes a session cookie valid.

Failed attempts are limited per client address and weighed per account
(web/security/sign_in_limits.py): an address over its limit is answered 429 without a password
being hashed, and no stream of wrong passwords keeps a user out who signs in from
elsewhere. The counts live in the database, so every web worker shares them. A password
is hashed outside any database transaction (SQLite's write lock is not held for it). A
session is valid only while its row in ``sign_in_session`` exists
(web/security/sessions.py): sign-out deletes it, so a copied cookie is worthless
afterwards, and sign-in starts a new session, so a cookie planted before sign-in never
becomes a signed-in one; the cookie also carries the account's session epoch, replaced
when the password changes or the account is deactivated.
"""
from __future__ import annotations

import dataclasses
import functools
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from engine import audit
from engine.models import UserAccount
from engine.plain_text import single_line_problem
from workflows import accounts, profiles
from workflows.demo import scotland as demo, casts as demo_casts

from web.security import oidc, sign_in_limits, sessions as sign_in_sessions
from web.security.access import Principal, fingerprint
from web.shared.database import db

bp = Blueprint("auth", __name__)

@functools.cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so a wrong name takes as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16))


def password_matches(user: UserAccount | None, password: str) -> bool:
    """The one place sign-in hashes a password: always exactly once, so a wrong name, an
    account without a local password and a wrong password all take as long."""
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        return False
    return accounts.check_password(user, password)


def limits() -> sign_in_limits.Limits:
    return sign_in_limits.Limits.from_config(current_app.config)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths, so a crafted link cannot send a worker elsewhere after sign-in;
    and one line (a line break would split the Location header: a 500 after the sign-in)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target \
            or single_line_problem(target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def _demo_users():
    if not current_app.config.get("DEMO_MODE"):
        return None
    return [{"username": u, "name": n, "roles": ", ".join(profiles.role_label(r) for r in roles),
             "team": cast.teams.get(t, "All teams") if t else "All teams"}
            for cast in demo_casts.enabled() for u, n, roles, t in cast.users]


def _page(errors: dict[str, str] | None = None, username: str = "", status: int = 200):
    """The sign-in page: the council's provider's button where one is configured
    (web/security/oidc_views.py), the password form unless local passwords are off."""
    provider, local = oidc.configured(), oidc.settings().local_passwords
    return render_template("auth/sign_in.html", errors=errors or {}, username=username,
                           demo_users=_demo_users() if local else None,
                           demo_password=demo.DEMO_PASSWORD,
                           provider_name=provider.provider_name if provider else None,
                           local_passwords=local,
                           next=safe_next(request.values.get("next")) or ""), status


# Where each role starts (the first that applies), after signing in and at "/": a manager
# oversees the team before their own few tasks; a process owner works on processes; an
# administrator on teams and people.
LANDINGS = (
    (lambda user: user.can_view_overview, "overview.index"),
    (lambda user: user.has_queue, "queue.my_work"),
    (lambda user: "process_owner" in user.roles, "models.index"),
    (lambda user: "admin" in user.roles, "people_admin.index"),  # /people
    (lambda user: user.can_view_children, "children.index"),
)


def default_page(principal: Principal) -> str:
    for applies, endpoint in LANDINGS:
        if applies(principal):
            return url_for(endpoint)
    return url_for("queue.home")  # the home page lists whatever the menu offers


def _max_hours() -> float:
    return current_app.config["SESSION_MAX_HOURS"]


def load_user(user_id: str) -> Principal | None:
    """Flask-Login's user loader: "<user id>:<session epoch>:<session token>"."""
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
    if not oidc.settings().local_passwords:
        return render_template("errors/error.html", status=403,
                               title="Signing in with a password is turned off",
                               text="This service signs you in through "
                                    f"{oidc.configured().provider_name}: go to the sign-in page "
                                    "and use its button."), 403
    username = (request.form.get("username") or "").strip()[:80]
    password = request.form.get("password") or ""
    errors = {}
    if not username:
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"
    if errors:
        return _page(errors, username, 400)
    address = sign_in_limits.address_key(request.remote_addr)
    now = sign_in_limits.now()
    with db().transaction(read_only=True) as dbs:
        until = sign_in_limits.refused_until(dbs, address, now)
        user = accounts.find_user(dbs, username) if until is None else None
    if until is not None:  # answered without reading the account or hashing the password
        with db().transaction() as dbs:
            sign_in_limits.count_refused(dbs, address)
        return _too_many(until, username)
    ok = password_matches(user, password) and user.active
    with db().transaction() as dbs:
        if ok:
            token = sign_in_sessions.start(dbs, user.id, _max_hours())
            principal = dataclasses.replace(Principal.from_account(user), session_token=token)
            audit.record(dbs, "signed_in", user.username, data={"ip": request.remote_addr})
        else:
            blocked = sign_in_limits.record_failure(dbs, limits(), address,
                                                    user.id if user else None, now)
            if user is not None:  # a name that is no account is only counted (see above)
                audit.record(dbs, "sign_in_failed", user.username,
                             data={"ip": request.remote_addr})
    if not ok:
        if blocked is not None:
            return _too_many(blocked, username, "The username or password is not right. ")
        return _page({"username": "The username or password is not right"}, username, 401)
    session.clear()  # a fresh session on sign-in, so a planted session id is worthless
    session.permanent = True  # PERMANENT_SESSION_LIFETIME is the idle timeout
    login_user(principal)
    return redirect(safe_next(request.form.get("next")) or default_page(principal))


def _too_many(until: datetime, username: str, before: str = ""):
    body, status = _page({"username": f"{before}There have been too many failed attempts to "
                                      f"sign in from your network. "
                                      f"{sign_in_limits.try_again_text(until)}"}, username, 429)
    return body, status, {"Retry-After": str(sign_in_limits.seconds_left(until))}


@bp.post("/sign-out")
def sign_out():
    """Ends PACE Flow's session; after a sign-in through the council's provider, the browser
    then goes to the provider so its session ends too (web/security/oidc.py)."""
    id_token = None
    if current_user.is_authenticated:
        with db().transaction() as dbs:
            id_token = sign_in_sessions.end(dbs, current_user.session_token)
            audit.record(dbs, "signed_out", current_user.username)
    logout_user()
    session.clear()
    at_provider = oidc.provider_sign_out(id_token, url_for("oidc.signed_out", _external=True)) \
        if id_token else None
    if at_provider:
        return redirect(at_provider)
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))
