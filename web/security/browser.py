"""Cookie flags and HTTPS: what the browser is told so that a session cannot leak.

``web/pages/ui.py`` sets the page headers every response needs (CSP, no-sniff, frame and
referrer rules, no caching). This module adds what depends on how the service is reached:
behind HTTPS (``PACE_HTTPS=1``, or ``HTTPS`` in the config) the cookies are marked Secure
so a browser never sends them over plain HTTP, and HSTS keeps it on HTTPS. Plain
``make run`` on http://127.0.0.1 leaves both off, or the browser would drop the session.

Behind a reverse proxy (deploy/nginx.conf) the app sees the proxy's address and plain HTTP
unless it trusts the proxy's ``X-Forwarded-*`` headers: ``PACE_TRUSTED_PROXIES=N`` (how many
proxies stand in front, each adding its hop; 0, the default, trusts none, as a header a
client sends itself must never be believed) wraps the app in Werkzeug's ``ProxyFix``. Then
``request.remote_addr`` is the client's (sign-in limits, the address in the audit events),
``request.is_secure`` follows ``X-Forwarded-Proto`` (Flask-WTF checks the Referer of every
form posted over HTTPS) and links use the host the browser asked for.
"""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000"  # a year: once on HTTPS, a council service stays there


MAX_PROXIES = 5


def trusted_proxies(app: Flask) -> int:
    """``TRUSTED_PROXIES`` in the config, else ``PACE_TRUSTED_PROXIES``; 0 when unset."""
    raw = app.config.get("TRUSTED_PROXIES", os.environ.get("PACE_TRUSTED_PROXIES", "0"))
    text = str(raw).strip() or "0"
    if not text.isdigit() or int(text) > MAX_PROXIES:
        raise ValueError(f"PACE_TRUSTED_PROXIES must be how many proxies stand in front of the "
                         f"app, a whole number from 0 to {MAX_PROXIES}, not {raw!r}")
    return int(text)


def init_app(app: Flask) -> None:
    proxies = app.config["TRUSTED_PROXIES"] = trusted_proxies(app)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_port=proxies)
    https = bool(app.config.setdefault("HTTPS", os.environ.get("PACE_HTTPS", "0") == "1"))
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("SESSION_COOKIE_SECURE")) or https
    app.config.setdefault("REMEMBER_COOKIE_SECURE", https)  # no remember cookie is issued,
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)  # but one would be as safe
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_MAX_HOURS", 12)  # a sign-in lasts a working day at most
    if https:
        app.config["PREFERRED_URL_SCHEME"] = "https"

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
