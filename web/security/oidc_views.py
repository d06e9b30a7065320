"""Sign-in through the council's OpenID Connect provider: the pages.

``/sign-in/oidc`` sends the browser to the provider (Authlib makes the state, nonce and PKCE
challenge: web/security/oidc.py); ``/sign-in/oidc/callback`` is where the provider sends it
back: the code is exchanged, the ID token checked, and the claims handed to the one service
``workflows.services.sign_in.sign_in_from_claims``, which finds (or adds) the person and sets
their roles and team from their groups. Only then does a session start, exactly as after a
password sign-in. Anything wrong is a page saying what happened and what to do, with
nothing created: no account, no session. ``/signed-out`` is where the provider sends the
browser back after its own sign-out.

Both routes are GET: the provider's redirect is a GET, and the button on the sign-in page is
a link, because the page's Content-Security-Policy (form-action 'self') would stop a form
from being redirected to the provider.
"""
from __future__ import annotations

import dataclasses
import secrets

from flask import (Blueprint, abort, current_app, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_user

from workflows.services import sign_in as sign_in_service
from workflows.sign_in_claims import Refusal

from web.security import oidc, sessions as sign_in_sessions
from web.security.access import Principal
from web.security.sign_in import default_page, safe_next
from web.shared.database import db

bp = Blueprint("oidc", __name__)
NEXT, NONCE = "oidc_next", "oidc_nonce"


def problem_page(problem: oidc.Problem):
    current_app.logger.warning("sign-in through the provider refused: %s", problem)
    return render_template("auth/sign_in_problem.html", problem=problem), problem.status


@bp.get("/sign-in/oidc")
def start():
    if oidc.configured() is None:
        abort(404)
    if current_user.is_authenticated:
        return redirect(default_page(current_user))
    nonce = secrets.token_urlsafe(24)
    session[NONCE] = nonce  # checked again after Authlib's check: the token must carry it
    session[NEXT] = safe_next(request.args.get("next")) or ""
    try:
        oidc.metadata()
        return oidc.client().authorize_redirect(url_for("oidc.callback", _external=True),
                                                nonce=nonce)
    except Exception as exc:  # noqa: BLE001 - each kind has its page (oidc.problem_from)
        return problem_page(oidc.problem_from(exc))


@bp.get("/sign-in/oidc/callback")
def callback():
    settings = oidc.configured()
    if settings is None:
        abort(404)
    expected_nonce, next_page = session.pop(NONCE, None), session.pop(NEXT, "")
    try:
        oidc.metadata()
        token = oidc.client().authorize_access_token()
        claims = token.get("userinfo")
        if not claims:
            raise oidc.Problem(401, "PACE Flow could not confirm who you are",
                               "The council's sign-in did not send an ID token.",
                               reason="no id_token in the token response")
        if not expected_nonce or not secrets.compare_digest(str(claims.get("nonce", "")),
                                                            expected_nonce):
            raise oidc.Problem(401, "PACE Flow could not confirm who you are",
                               "The answer from the council's sign-in could not be trusted: it "
                               "did not belong to this sign-in. You are not signed in and "
                               "nothing was saved.", reason="nonce not this browser's")
    except oidc.Problem as problem:
        return problem_page(problem)
    except Exception as exc:  # noqa: BLE001 - each kind has its page (oidc.problem_from)
        return problem_page(oidc.problem_from(exc))
    try:
        with db().transaction() as dbs:
            person = sign_in_service.sign_in_from_claims(dbs, settings, dict(claims),
                                                         request.remote_addr)
            token_key = sign_in_sessions.start(dbs, person.id,
                                               current_app.config["SESSION_MAX_HOURS"],
                                               id_token=token.get("id_token"))
            principal = dataclasses.replace(Principal.from_account(person),
                                            session_token=token_key)
    except Refusal as refusal:  # the transaction is rolled back: nothing written but the reason
        with db().transaction() as dbs:
            sign_in_service.record_refusal(dbs, settings, dict(claims), str(refusal),
                                           request.remote_addr)
        return problem_page(oidc.Problem(403, "You cannot sign in to PACE Flow", str(refusal),
                                         todo="", reason=f"refused: {refusal}"))
    session.clear()  # a fresh session on sign-in, so a planted session id is worthless
    session.permanent = True
    login_user(principal)
    return redirect(next_page or default_page(principal))


@bp.get("/signed-out")
def signed_out():
    """Where the provider sends the browser after its own sign-out."""
    name = oidc.configured().provider_name if oidc.configured() else None
    return render_template("auth/signed_out.html", provider_name=name)


def _allow_provider_forms(response):
    """Sign-out is a form that ends at the provider (RP-initiated logout): the page's
    Content-Security-Policy (web/pages/ui.py, form-action 'self') must let that redirect
    through, for the provider's origin only."""
    provider = oidc.configured()
    policy = response.headers.get("Content-Security-Policy")
    if provider is not None and policy and "form-action 'self'" in policy:
        origin = "/".join(provider.issuer.split("/", 3)[:3])
        response.headers["Content-Security-Policy"] = policy.replace(
            "form-action 'self'", f"form-action 'self' {origin}")
    return response


def init_app(app) -> None:
    """Before the worker UI's init_app: after-request functions run last-registered first,
    so this one sees the page's policy already set."""
    app.register_blueprint(bp)
    app.after_request(_allow_provider_forms)
