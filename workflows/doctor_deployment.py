"""Is this deployment set up to run for real? The checks ``pace doctor`` adds to those of
workflows/doctor.py: the secret key, HTTPS cookies, and whether the mail server and the
council's OpenID Connect provider answer from this server.

Why separate: these talk to other servers (up to a few seconds each) and judge the
configuration rather than the database, so they belong to the operator's ``pace doctor``,
not to the administrators' status section that every load of the outbox page runs. Each
failure says what to set, and where (the variable, or the key of the settings file).
"""
from __future__ import annotations

import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, replace

from engine import outbox
from engine.outbox import MailSettings

from .doctor import FAIL, OK, WARN, Check

MIN_SECRET_LENGTH = 32
# Values that are in examples, not secrets: a key copied from the documentation is public.
PLACEHOLDERS = frozenset({"change-me", "changeme", "secret", "dev", "development", "test",
                          "replace-me", "please-change-me", "your-secret-key"})
NEW_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"
NETWORK_TIMEOUT = 5.0  # seconds: a monitoring run must not hang on a dead server


@dataclass(frozen=True)
class Deployment:
    """What the checks judge, gathered by the caller (the CLI reads the app and the
    environment). ``secret_key``: the configured one (PACE_SECRET_KEY or ``secret_key`` in
    the settings file), None when the app made its own; ``secret_key_file``: where it did."""
    secret_key: str | None
    secret_key_file: str
    https_cookies: bool
    demo: bool
    mail: MailSettings | None
    oidc_issuer: str | None


def checks(deployment: Deployment) -> list[Check]:
    return [_secret_key(deployment), _https(deployment), _smtp(deployment.mail),
            _oidc(deployment.oidc_issuer)]


def _secret_key(deployment: Deployment) -> Check:
    key = deployment.secret_key
    if key is None:
        if deployment.demo:
            return Check("secret key", WARN, f"generated into {deployment.secret_key_file}: "
                                             "fine for the demo on one machine")
        return Check("secret key", FAIL,
                     "not set: neither PACE_SECRET_KEY nor secret_key in the settings file "
                     f"(PACE_CONFIG); the app made one up in {deployment.secret_key_file}, "
                     "which another server or a rebuilt container would make differently, "
                     "signing everyone out. Set PACE_SECRET_KEY (or secret_key) to the output "
                     f"of {NEW_KEY}, the same on every server")
    if key.strip().lower() in PLACEHOLDERS:
        return Check("secret key", FAIL, f"PACE_SECRET_KEY is {key!r}, an example value anyone "
                                         f"can read: set it to the output of {NEW_KEY}")
    if len(key) < MIN_SECRET_LENGTH or len(set(key)) < 8:
        return Check("secret key", FAIL,
                     f"PACE_SECRET_KEY is too easy to guess ({len(key)} characters, "
                     f"{len(set(key))} different): use at least {MIN_SECRET_LENGTH} random "
                     f"characters, e.g. the output of {NEW_KEY}")
    return Check("secret key", OK, f"set ({len(key)} characters)")


def _https(deployment: Deployment) -> Check:
    if deployment.https_cookies:
        return Check("https cookies", OK, "on: the session cookie is Secure and HSTS is sent")
    message = ("off: the session cookie would also be sent over plain HTTP. Put TLS in front "
               "(deploy/nginx.conf) and set PACE_HTTPS=1 (https = true in the settings file)")
    return Check("https cookies", WARN if deployment.demo else FAIL,
                 message + ("; fine for the demo on this machine" if deployment.demo else ""))


def _smtp(mail: MailSettings | None) -> Check:
    if mail is None or not mail.enabled:
        return Check("smtp", OK, "not used: e-mail is off (see the e-mail check)")
    try:
        connection = outbox.connect(replace(mail, timeout=NETWORK_TIMEOUT))
        try:
            code, _ = connection.noop()
        finally:
            try:
                connection.quit()
            except smtplib.SMTPException:
                pass
    except smtplib.SMTPAuthenticationError as exc:
        return Check("smtp", FAIL, f"{mail.describe()} refused the user name or password "
                                   f"({exc.smtp_code}): check PACE_SMTP_USER and "
                                   "PACE_SMTP_PASSWORD (smtp.user, smtp.password)")
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        return Check("smtp", FAIL, f"cannot talk to {mail.describe()}: {_reason(exc)}. Check "
                                   "PACE_SMTP_HOST, PACE_SMTP_PORT and PACE_SMTP_TLS (smtp.host, "
                                   "smtp.port, smtp.tls) and that this server may reach it")
    if code != 250:
        return Check("smtp", FAIL, f"{mail.describe()} answered {code} to NOOP: is it a mail "
                                   "server? Check PACE_SMTP_HOST and PACE_SMTP_PORT")
    return Check("smtp", OK, f"{mail.describe()} answers")


def _oidc(issuer: str | None) -> Check:
    if not issuer:
        return Check("sign-in provider", OK, "none: people sign in with local passwords "
                                             "(PACE_OIDC_ISSUER not set)")
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=NETWORK_TIMEOUT) as response:  # noqa: S310
            document = json.loads(response.read(1_000_000))
    except urllib.error.HTTPError as exc:
        return Check("sign-in provider", FAIL, f"{url} answered {exc.code}: check "
                                               "PACE_OIDC_ISSUER (oidc.issuer) is the provider's "
                                               "issuer address")
    except (urllib.error.URLError, OSError) as exc:
        return Check("sign-in provider", FAIL, f"cannot reach {url}: {_reason(exc)}. Check "
                                               "PACE_OIDC_ISSUER (oidc.issuer) and that this "
                                               "server may reach the provider (proxy, firewall)")
    except ValueError:
        return Check("sign-in provider", FAIL, f"{url} did not answer with JSON: check "
                                               "PACE_OIDC_ISSUER (oidc.issuer)")
    if not isinstance(document, dict):
        return Check("sign-in provider", FAIL, f"{url} is not a discovery document")
    if document.get("issuer") != issuer:
        return Check("sign-in provider", FAIL,
                     f"the provider calls itself {document.get('issuer')!r}, not {issuer!r}: "
                     "set PACE_OIDC_ISSUER to exactly its issuer, or every ID token is refused")
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")
               if not document.get(k)]
    if missing:
        return Check("sign-in provider", FAIL, f"its discovery document lacks "
                                               f"{', '.join(missing)}")
    return Check("sign-in provider", OK, f"{issuer} answers (discovery document read)")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"no answer within {NETWORK_TIMEOUT:g} s"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
