"""Cookie flags and HTTPS: what the browser is told so that a session cannot leak.

``web/ui.py`` sets the page headers every response needs (CSP, no-sniff, frame and
referrer rules, no caching). This module adds what depends on how the service is reached:
behind HTTPS (``PACE_HTTPS=1``, or ``HTTPS`` in the config) the cookies are marked Secure
so a browser never sends them over plain HTTP, and HSTS keeps it on HTTPS. Plain
``make run`` on http://127.0.0.1 leaves both off, or the browser would drop the session.
"""
from __future__ import annotations

import os

from flask import Flask

PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000"  # a year: once on HTTPS, a council service stays there


def init_app(app: Flask) -> None:
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
