"""Who is calling the API: a Bearer token, or (for reading only) the browser's session.

Why API writes need a token and the API needs no CSRF token: a browser attaches the
session cookie to any request a hostile page makes it send, which is what CSRF abuses;
it never attaches an ``Authorization`` header on its own, and a page on another site
cannot add one without a CORS preflight this app never grants. So POST, PUT and DELETE
under /api/v1 accept a Bearer token only, and the API's blueprints are exempt from
Flask-WTF's CSRF check. GET with a session cookie is allowed (the interactive docs page
uses it); it changes nothing, and the JSON cannot be read cross-site without CORS.
"""
from __future__ import annotations

import functools
import json

from flask import g, request
from flask_login import current_user

from web.security.access import Principal

from web.security import api_tokens as tokens
from .errors import fail

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _check_json() -> None:
    """Refuse a JSON body nested so deeply that decoding it exhausts the recursion limit
    (the argument parser downstream would fail on it). Reading it stops at the app's body
    limit, chunked or not (web/shared/body_limits.py): 413 past it."""
    if request.is_json:
        try:
            json.loads(request.get_data(cache=True))
        except RecursionError:
            fail(400, "The JSON body is nested too deeply.")
        except ValueError:
            pass  # malformed JSON: reported by the argument parser as 400


def authenticate() -> None:
    """before_request of every API blueprint: 413 for a body declared over the limit, then
    ``g.api_principal`` or 401, then the JSON body checked (read only for a known caller)."""
    if request.content_length is not None and request.content_length > request.max_content_length:
        fail(413)  # refused before a byte of it is read
    _identify()
    _check_json()


def _identify() -> None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            fail(401, "Send the token as 'Authorization: Bearer <token>'.")
        from web.shared.database import db
        with db().transaction() as session:
            user = tokens.authenticate(session, secret.strip())
            principal = Principal.from_account(user) if user is not None else None
        if principal is None:
            fail(401, "The API token is not valid: it is unknown, revoked or expired, or its "
                      "user is no longer active.")
        g.api_principal, g.api_auth = principal, "token"
        return
    if current_user.is_authenticated:
        if request.method not in READ_METHODS:
            fail(401, "Requests that change records need an API token "
                      "('Authorization: Bearer <token>'); a signed-in session can only read.")
        g.api_principal, g.api_auth = current_user._get_current_object(), "session"
        return
    fail(401)


def protect(blueprint) -> None:
    """Every API blueprint, where it is defined: authenticated, with JSON errors."""
    from .errors import attach
    blueprint.before_request(authenticate)
    attach(blueprint)


def principal() -> Principal:
    return g.api_principal


def roles(allowed):
    """Decorator: 403 unless the caller holds one of ``allowed`` (checked before the
    request's arguments are read, so a caller without the role learns nothing more)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            require(allowed)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def require(roles) -> Principal:
    """The caller, when they hold one of ``roles``; 403 otherwise (as the UI's pages)."""
    caller = principal()
    if not caller.has_any(roles):
        fail(403)
    return caller
