"""Behind a reverse proxy (issue 30): PACE_TRUSTED_PROXIES=N makes the app believe N hops of
``X-Forwarded-For``/``-Proto``; 0 (the default) believes none.

The test client plays the proxy: the connection comes from 10.0.0.2 and carries the
headers deploy/nginx.conf sets. Trusted, the sign-in's audit event records the client's
address and the request is HTTPS, so Flask-WTF checks the form's Referer; untrusted, a
client's own ``X-Forwarded-For`` changes nothing.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.conftest import make_database
from web import create_app
from workflows.demo import scotland as demo

from .conftest import post
from .journeys import make_app

PROXY, CLIENT = "10.0.0.2", "203.0.113.7"
FORWARDED = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"198.51.100.9, {CLIENT}",
             "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "pace.example.gov.uk"}


@pytest.fixture(scope="module")
def database(request, tmp_path_factory):
    found = make_database("sqlite", tmp_path_factory.mktemp("proxy"), request)
    with found.transaction() as session:
        demo.ensure_users(session, actor="test")
    return found


def sign_in_from(app, referer: str | None = None):
    client = app.test_client()
    client.environ_base.update(FORWARDED)
    if referer:
        client.environ_base["HTTP_REFERER"] = referer
    return post(client, "/sign-in", {"username": "sw.north", "password": demo.DEMO_PASSWORD})


def last_sign_in(database) -> dict:
    with database.transaction() as session:
        return session.scalars(select(AuditEvent.data).where(AuditEvent.event_type == "signed_in")
                               .order_by(AuditEvent.id.desc())).first()


def test_one_trusted_proxy_gives_the_client_address_and_https(database):
    app = make_app(database, TRUSTED_PROXIES=1)
    signed_in = sign_in_from(app, referer="https://pace.example.gov.uk/sign-in")
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[-1500:]
    assert last_sign_in(database)["ip"] == CLIENT  # the proxy's own hop, not the client's claim
    # HTTPS as the proxy says: the form's Referer is checked, so a post without one is refused
    refused = sign_in_from(app)
    assert refused.status_code == 400 and "did not come from this service" in \
        refused.get_data(as_text=True)
    other_site = sign_in_from(app, referer="https://evil.example/sign-in")
    assert other_site.status_code == 400


def test_without_trusted_proxies_forwarded_headers_are_ignored(database):
    app = make_app(database)  # PACE_TRUSTED_PROXIES unset: 0
    assert app.config["TRUSTED_PROXIES"] == 0
    signed_in = sign_in_from(app)  # plain HTTP to the app: no Referer check
    assert signed_in.status_code == 302
    assert last_sign_in(database)["ip"] == PROXY


def test_the_setting_comes_from_the_environment_and_is_checked(database, monkeypatch):
    url = database.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("PACE_TRUSTED_PROXIES", "2")
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "x"})
    assert app.config["TRUSTED_PROXIES"] == 2
    app.extensions["pace_db"].engine.dispose()
    for wrong in ("-1", "one", "9"):
        monkeypatch.setenv("PACE_TRUSTED_PROXIES", wrong)
        with pytest.raises(ValueError, match="PACE_TRUSTED_PROXIES must be how many proxies"):
            create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "x"})
