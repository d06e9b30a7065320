"""The council's OpenID Connect provider, through Authlib: the client, the sign-ins under way,
what went wrong in words a worker can act on, and the provider's sign-out.

Authlib does the protocol: the authorization code flow with PKCE (S256), a ``state`` and a
``nonce`` per sign-in, the provider's discovery document and keys (JWKS) fetched over
HTTPS and cached (the keys fetched again when a token names a key not seen yet), and the
ID token's signature, issuer (the discovery document's, which must be the configured
``PACE_OIDC_ISSUER``), audience (our client id), expiry and nonce checked. What a sign-in
under way must match (state, nonce, PKCE verifier) is kept in ``sign_in_attempt`` rows
(``AttemptStore``, Authlib's cache), not only in the browser's cookie: the row is taken
(deleted) by the first return that names it, so a ``state`` works once even when someone
replays the return with a copy of the earlier cookie, and any web worker can finish it.

The routes are in web/security/oidc_views.py; sign-out (web/security/sign_in.py) asks
``provider_sign_out`` where to send the browser so the provider's session ends too.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import current_app
from joserfc.errors import (BadSignatureError, ClaimError, ExpiredTokenError, InvalidKeyIdError,
                            JoseError)
from sqlalchemy import delete

from engine.models import SignInAttempt
from workflows.sign_in_settings import OidcSettings, SignInSettings

from web.shared.database import db

NAME = "council"
TIMEOUT_SECONDS = 10  # each call to the provider: a provider that hangs must not hang a worker


def settings() -> SignInSettings:
    return db().settings.sign_in


def configured() -> OidcSettings | None:
    return settings().oidc


class AttemptStore:
    """Authlib's cache for sign-ins under way, in the database (see the module's
    docstring). ``get`` takes the row: reading a state is using it up."""

    @staticmethod
    def _key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def set(self, key: str, value: str, expires_in: int) -> None:
        now = datetime.now(timezone.utc)
        with db().transaction() as session:
            session.execute(delete(SignInAttempt).where(SignInAttempt.expires_at < now))
            session.add(SignInAttempt(key_hash=self._key(key), data=value,
                                      expires_at=now + timedelta(seconds=expires_in)))

    def get(self, key: str) -> str | None:
        with db().transaction() as session:
            return session.scalar(delete(SignInAttempt).where(
                SignInAttempt.key_hash == self._key(key),
                SignInAttempt.expires_at >= datetime.now(timezone.utc))
                .returning(SignInAttempt.data))

    def delete(self, key: str) -> None:
        with db().transaction() as session:
            session.execute(delete(SignInAttempt).where(SignInAttempt.key_hash == self._key(key)))


def client():
    """The Authlib client for the current settings (made again when a test or a restart
    brings other settings); None when no provider is configured."""
    oidc = configured()
    if oidc is None:
        return None
    made = current_app.extensions.get("pace_oidc")
    if made is None or made[0] is not oidc:
        registry = OAuth()
        registry.init_app(current_app, cache=AttemptStore())
        registry.register(NAME, client_id=oidc.client_id, client_secret=oidc.client_secret,
                          server_metadata_url=oidc.discovery_url,
                          client_kwargs={"scope": " ".join(oidc.scopes),
                                         "code_challenge_method": "S256",
                                         "default_timeout": TIMEOUT_SECONDS})
        made = current_app.extensions["pace_oidc"] = (oidc, registry.create_client(NAME))
    return made[1]


def metadata() -> dict:
    """The provider's discovery document; ``ProviderMisconfigured`` when its issuer is not
    the configured one (OpenID Connect Discovery: they must be identical)."""
    found = client().load_server_metadata()
    if found.get("issuer") != configured().issuer:
        raise ProviderMisconfigured(f"the discovery document's issuer {found.get('issuer')!r} "
                                    f"is not PACE_OIDC_ISSUER {configured().issuer!r}")
    return found


class ProviderMisconfigured(Exception):
    """The provider's answers do not fit the settings: for the operator, not the worker."""


# -- what went wrong, for the worker ----------------------------------------------------------
AGAIN = ("Go to the sign-in page and sign in again. If this happens again, tell your IT "
         "service desk, saying when it happened.")


class Problem(Exception):
    """A sign-in that did not happen: a heading, what happened and what to do, in plain words,
    and the technical reason for the server's log."""

    def __init__(self, status: int, title: str, text: str, todo: str = AGAIN, reason: str = ""):
        super().__init__(reason or title)
        self.status, self.title, self.text, self.todo = status, title, text, todo


def problem_from(exc: Exception) -> Problem:
    """The worker's words for an error raised while finishing a sign-in."""
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MismatchingStateError):
        return Problem(400, "This sign-in has already been used or has expired",
                       "The link back from the council's sign-in was used before, or is too old.",
                       "Go to the sign-in page and sign in again.", reason)
    if isinstance(exc, requests.RequestException):
        return Problem(502, "The council's sign-in cannot be reached",
                       "PACE Flow could not reach the council's sign-in service, so you are not "
                       "signed in.", "Try again in a few minutes. If it goes on, tell your IT "
                       "service desk.", reason)
    if isinstance(exc, ProviderMisconfigured):
        return Problem(502, "Sign-in is not set up correctly",
                       "The council's sign-in service and PACE Flow's settings do not match, so "
                       "you are not signed in.", "Tell your IT service desk: the server's log "
                       "says what to change.", reason)
    why = _token_fault(exc)
    if why:
        return Problem(401, "PACE Flow could not confirm who you are",
                       f"The answer from the council's sign-in could not be trusted: {why}. "
                       "You are not signed in and nothing was saved.", AGAIN, reason)
    if isinstance(exc, AuthlibBaseError):
        if getattr(exc, "error", "") == "access_denied":
            return Problem(403, "You did not sign in", "The council's sign-in did not sign you "
                           "in (it was cancelled or refused).",
                           "Go to the sign-in page to try again.", reason)
        return Problem(401, "The council's sign-in did not sign you in",
                       "The council's sign-in service answered with an error, so you are not "
                       "signed in.", AGAIN, reason)
    # anything else (a discovery document without a key address, an answer of the wrong
    # shape): the provider and PACE Flow do not fit; the log has the details
    current_app.logger.error("sign-in through the provider failed", exc_info=exc)
    return Problem(502, "Sign-in is not set up correctly",
                   "The council's sign-in service answered in a way PACE Flow cannot use, so "
                   "you are not signed in.", "Tell your IT service desk: the server's log says "
                   "what went wrong.", reason)


def _token_fault(exc: Exception) -> str | None:
    if isinstance(exc, (BadSignatureError, InvalidKeyIdError)):
        return "it was not signed with the council's sign-in keys"
    if isinstance(exc, ExpiredTokenError):
        return "it had expired"
    if isinstance(exc, ClaimError):
        return {"iss": "it came from a sign-in service that is not the council's",
                "aud": "it was meant for another service, not PACE Flow",
                "azp": "it was meant for another service, not PACE Flow",
                "nonce": "it did not belong to this sign-in",
                "exp": "it had expired", "iat": "its time was wrong",
                "nbf": "it is not valid yet"}.get(exc.claim, f"its {exc.claim} was wrong")
    if isinstance(exc, JoseError):
        return "it could not be read as a signed ID token"
    return None


# -- signing out at the provider ----------------------------------------------------------------
def provider_sign_out(id_token: str, signed_out_url: str) -> str | None:
    """Where to send the browser so the provider ends its session too (RP-initiated
    logout: its end_session_endpoint with id_token_hint and post_logout_redirect_uri), or
    None when the provider offers no such endpoint or cannot be reached (PACE Flow's own
    session has ended either way)."""
    if configured() is None:
        return None
    try:
        if not metadata().get("end_session_endpoint"):
            return None
        return client().create_logout_url(post_logout_redirect_uri=signed_out_url,
                                          id_token_hint=id_token)["url"]
    except (requests.RequestException, ProviderMisconfigured, ValueError) as exc:
        current_app.logger.warning("provider sign-out skipped: %s", exc)
        return None
