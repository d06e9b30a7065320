"""The "API tokens" page: a signed-in user creates and revokes their own tokens.

An ordinary UI page (session and CSRF, like every form), so a worker can get a token
without the command line. Creating one asks for the password again, so a browser left
signed in does not hand out lasting access; wrong passwords count towards the same limits
as sign-in (web/security/sign_in_limits.py). A token expires after 30 to 365 days (90 unless
chosen). A new token is shown on the page that created it, once; the page is never cached
(the app sends ``Cache-Control: no-store``).
"""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required

from engine import audit
from engine.models import ApiToken
from web.security import api_tokens as tokens
from web.security import sign_in_limits
from web.shared.database import db
from workflows import accounts
from workflows.services.actors import account

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


LIFETIMES = (30, 90, 180, 365)  # days, offered on the page


def _page(new_secret: str | None = None, errors: dict[str, str] | None = None, name: str = "",
          days: int = tokens.DEFAULT_DAYS, status: int = 200, headers: dict | None = None):
    with db().transaction() as session:
        rows = tokens.for_user(session, current_user.id)
        shown = [(t, tokens.is_active(t)) for t in rows]
    errors = errors or {}
    return render_template("api/tokens.html", tokens=shown, new_secret=new_secret,
                           errors=errors, name=name, days=days, lifetimes=LIFETIMES,
                           page_has_errors=bool(errors)), status, headers or {}


@bp.get("")
@login_required
def index():
    return _page()


@bp.post("")
@login_required
def create():
    name = (request.form.get("name") or "").strip()
    password = request.form.get("password") or ""
    days_text = request.form.get("expires_in_days") or str(tokens.DEFAULT_DAYS)
    days = int(days_text) if days_text.isdigit() and int(days_text) in LIFETIMES else None
    errors = {}
    if not name or len(name) > 100 or "\x00" in name:
        errors["name"] = "Enter what the token is for, in 100 characters or fewer"
    if days is None:
        errors["expires_in_days"] = "Choose when the token expires"
    if not password:
        errors["password"] = "Enter your password"
    kept = {"name": name[:100].replace("\x00", ""), "days": days or tokens.DEFAULT_DAYS}
    if errors:
        return _page(errors=errors, status=400, **kept)
    problem = _check_password(password)
    if problem is not None:
        return _page(errors={"password": problem[0]}, status=problem[1], headers=problem[2],
                     **kept)
    with db().transaction() as session:
        _row, secret = tokens.create(session, account(session, current_user), name,
                                     current_user.username, days)
    return _page(new_secret=secret)


def _check_password(password: str) -> tuple[str, int, dict] | None:
    """None when ``password`` is the signed-in user's; else (message, status, headers).
    Hashed once, outside any transaction, and only from an address under its limit."""
    address = sign_in_limits.address_key(request.remote_addr)
    now = sign_in_limits.now()
    limits = sign_in_limits.Limits.from_config(current_app.config)
    with db().transaction(read_only=True) as session:
        until = sign_in_limits.refused_until(session, address, now)
        holder = account(session, current_user)
    if until is not None:
        with db().transaction() as session:
            sign_in_limits.count_refused(session, address)
        return (f"There have been too many failed attempts from your network. "
                f"{sign_in_limits.try_again_text(until)}", 429,
                {"Retry-After": str(sign_in_limits.seconds_left(until))})
    if not holder.password_hash:
        return ("You have no password in this service (you sign in through the council), "
                "so ask an administrator for a token", 400, {})
    if accounts.check_password(holder, password):
        return None
    with db().transaction() as session:
        blocked = sign_in_limits.record_failure(session, limits, address, holder.id, now)
        audit.record(session, "sign_in_failed", holder.username,
                     data={"ip": request.remote_addr, "when": "creating an API token"})
    if blocked is not None:
        return (f"The password is not right, and there have been too many failed attempts "
                f"from your network. {sign_in_limits.try_again_text(blocked)}", 429,
                {"Retry-After": str(sign_in_limits.seconds_left(blocked))})
    return "The password is not right", 401, {}


@bp.post("/<int(max=2147483647):token_id>/revoke")
@login_required
def revoke(token_id: int):
    with db().transaction() as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.user_id != current_user.id:
            abort(404)
        tokens.revoke(session, token, current_user.username)
        name = token.name
    flash(f"The token “{name}” is revoked; anything using it is refused from now on.", "success")
    return redirect(url_for("api_tokens.index"))
