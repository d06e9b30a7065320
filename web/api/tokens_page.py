"""The "API tokens" page: a signed-in user creates and revokes their own tokens.

An ordinary UI page (session and CSRF, like every form), so a worker can get a token
without the command line. A new token is shown on the page that created it, once; the page
is never cached (the app sends ``Cache-Control: no-store``).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.models import ApiToken
from web.database import db
from workflows.services.actors import account

from . import tokens

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


def _page(new_secret: str | None = None, error: str | None = None, name: str = "",
          status: int = 200):
    with db().transaction() as session:
        rows = tokens.for_user(session, current_user.id)
        shown = [(t, tokens.is_active(t)) for t in rows]
    return render_template("api/tokens.html", tokens=shown, new_secret=new_secret, error=error,
                           name=name, page_has_errors=bool(error)), status


@bp.get("")
@login_required
def index():
    return _page()


@bp.post("")
@login_required
def create():
    name = (request.form.get("name") or "").strip()
    if not name or len(name) > 100 or "\x00" in name:
        return _page(error="Enter what the token is for, in 100 characters or fewer",
                     name=name[:100].replace("\x00", ""), status=400)
    with db().transaction() as session:
        _row, secret = tokens.create(session, account(session, current_user), name,
                                     current_user.username)
    return _page(new_secret=secret)


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
