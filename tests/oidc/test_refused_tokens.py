"""Signing in through a provider whose answers cannot be trusted: each is refused with a page
that says what happened and what to do, and nothing is created (no account, no session).

The provider is a real HTTP server (servers.CraftedProvider): the app fetches its discovery
document and keys and exchanges the code over HTTP, as with a council's provider. The first
test signs in with a good token through the same path, so the refusals are the tokens'
doing, not the path's. Both databases.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from engine.models import AuditEvent, SignInAttempt, SignInSession, UserAccount
from tests.web.journeys import make_app
from workflows import accounts
from workflows.app import Settings
from workflows.sign_in_settings import OidcSettings, SignInSettings

from .servers import CLIENT_ID, CLIENT_SECRET, CraftedProvider

GROUPS = {"groups": ["pace-social-workers", "pace-north"], "email": "sam.new@council.example",
          "name": "Sam New", "preferred_username": "sam.new"}


@pytest.fixture
def crafted():
    with CraftedProvider() as provider:
        provider.claims = dict(GROUPS)
        yield provider


def oidc_settings(issuer: str, **changes) -> Settings:
    return Settings(sign_in=SignInSettings(oidc=OidcSettings(**{
        "issuer": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "provider_name": "Council Account", "create_people": True,
        "role_map": {"pace-social-workers": ("social_worker",)},
        "team_map": {"pace-north": ("north",)}, **changes})))


@pytest.fixture
def app(database, crafted):
    database.settings = oidc_settings(crafted.issuer)
    with database.transaction() as session:
        accounts.ensure_team(session, "north", "North team")
    return make_app(database)


def counts(database) -> tuple[int, int]:
    with database.transaction() as session:
        return (session.scalar(select(func.count()).select_from(UserAccount)),
                session.scalar(select(func.count()).select_from(SignInSession)))


def to_provider_and_back(client) -> str:
    """The browser's trip: our sign-in link, the provider's authorization endpoint (which
    answers at once), and the return address it sends back (path and query)."""
    start = client.get("/sign-in/oidc")
    assert start.status_code == 302, start.get_data(as_text=True)
    query = dict(part.split("=", 1) for part in urlsplit(start.headers["Location"]).query.split("&"))
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert query["nonce"] and query["state"]
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def assert_refused(response, status: int, words: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status, page
    assert "govuk-heading-l" in page and words in page, page
    assert "Go to the sign-in page" in page
    return page


def test_a_good_token_signs_in_a_new_person_with_roles_from_groups(app, database, crafted):
    before = counts(database)
    client = app.test_client()
    response = client.get(to_provider_and_back(client))
    assert response.status_code == 302 and response.headers["Location"] == "/my-work"
    assert client.get("/my-work").status_code == 200
    assert counts(database) == (before[0] + 1, before[1] + 1)
    with database.transaction() as session:
        person = accounts.find_user(session, "sam.new")
        assert (person.roles, person.team, person.email) == (
            ["social_worker"], "north", "sam.new@council.example")
        assert (person.oidc_issuer, person.oidc_subject) == (crafted.issuer, "crafted-subject")
        assert person.password_hash is None
        assert session.scalar(select(func.count()).select_from(SignInAttempt)) == 0


REFUSALS = {
    "forged_signature": "it was not signed with the council&#39;s sign-in keys",
    "wrong_audience": "it was meant for another service, not PACE Flow",
    "wrong_issuer": "it came from a sign-in service that is not the council&#39;s",
    "expired": "it had expired",
    "no_nonce": "it did not belong to this sign-in",
}


@pytest.mark.parametrize("fault", sorted(REFUSALS))
def test_an_untrustworthy_token_is_refused_and_nothing_is_created(app, database, crafted, fault):
    crafted.fault = fault
    before = counts(database)
    client = app.test_client()
    response = client.get(to_provider_and_back(client))
    page = assert_refused(response, 401, REFUSALS[fault])
    assert "PACE Flow could not confirm who you are" in page
    assert "You are not signed in and nothing was saved" in page
    assert crafted.token_requests == 1  # the code was exchanged: the token itself was refused
    assert counts(database) == before
    assert client.get("/my-work").headers["Location"].startswith("/sign-in")


def test_a_replayed_state_is_refused_even_with_the_earlier_cookie(app, database, crafted):
    client = app.test_client()
    back = to_provider_and_back(client)
    cookie = client.get_cookie("pace_session").value  # as it was before the return
    assert client.get(back).status_code == 302
    after_first = counts(database)

    same_browser = client.get(back)
    assert_refused(same_browser, 400, "This sign-in has already been used or has expired")
    copied = app.test_client()
    copied.set_cookie("pace_session", cookie)
    page = assert_refused(copied.get(back), 400, "already been used or has expired")
    assert "sign in again" in page
    assert counts(database) == after_first
    assert copied.get("/my-work").headers["Location"].startswith("/sign-in")
    assert crafted.token_requests == 1  # refused before the code went back to the provider


def test_a_deactivated_person_is_refused(app, database, crafted):
    client = app.test_client()
    assert client.get(to_provider_and_back(client)).status_code == 302
    with database.transaction() as session:
        accounts.find_user(session, "sam.new").active = False
    before = counts(database)
    again = app.test_client()
    page = assert_refused(again.get(to_provider_and_back(again)), 403,
                          "Your PACE Flow account is deactivated")
    assert "You cannot sign in to PACE Flow" in page
    assert counts(database) == before
    with database.transaction() as session:  # the reason is kept for the administrators
        refused = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "sign_in_refused")).one()
        assert refused.data["subject"] == "crafted-subject"
        assert refused.data["reason"].startswith("Your PACE Flow account is deactivated")


def test_groups_that_give_no_role_are_refused(app, database, crafted):
    crafted.claims["groups"] = ["someone-elses-group"]
    before = counts(database)
    client = app.test_client()
    assert_refused(client.get(to_provider_and_back(client)), 403,
                   "give you no role in PACE Flow")
    assert counts(database) == before


def test_a_provider_that_cannot_be_reached_is_a_clear_page(database):
    database.settings = oidc_settings("http://127.0.0.1:9")  # nothing listens there
    client = make_app(database).test_client()
    sign_in_page = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with Council Account" in sign_in_page
    assert_refused(client.get("/sign-in/oidc"), 502, "could not reach the council&#39;s sign-in")


def test_local_passwords_can_be_turned_off(database, crafted):
    database.settings = Settings(sign_in=SignInSettings(
        oidc=oidc_settings(crafted.issuer).sign_in.oidc, local_passwords=False))
    client = make_app(database).test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with Council Account" in page and 'name="password"' not in page
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = client.post("/sign-in", data={"username": "admin", "password": "x" * 12,
                                             "csrf_token": token})
    assert response.status_code == 403
    assert "Signing in with a password is turned off" in response.get_data(as_text=True)


def test_without_a_provider_its_pages_are_not_there(database):
    client = make_app(database).test_client()
    assert "Sign in with" not in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/sign-in/oidc").status_code == 404
    assert client.get("/sign-in/oidc/callback?code=x&state=y").status_code == 404


def test_sign_out_ends_the_providers_session_too(app, database, crafted):
    client = app.test_client()
    assert client.get(to_provider_and_back(client)).status_code == 302
    page = client.get("/my-work")
    assert f"form-action 'self' {crafted.issuer}" in page.headers["Content-Security-Policy"]
    token = page.get_data(as_text=True).split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    query = dict(part.split("=", 1) for part in target.query.split("&"))
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{crafted.issuer}/session/end"
    assert query["post_logout_redirect_uri"] == "http%3A%2F%2Flocalhost%2Fsigned-out"
    assert query["id_token_hint"].count(".") == 2  # the ID token of this sign-in
    assert counts(database)[1] == 0
    assert client.get("/my-work").headers["Location"].startswith("/sign-in")
    signed_out = client.get("/signed-out").get_data(as_text=True)
    assert "You have signed out of PACE Flow and of Council Account" in signed_out


@pytest.mark.parametrize("query", [
    "", "code=x", "state=nothing-we-sent&code=x", "error=access_denied&state=x",
    "error=server_error&error_description=%00%0D%0A", "state=%00&code=%FF%FE",
    "state=" + "x" * 5000,
])
def test_odd_returns_from_the_provider_get_a_page_not_a_failure(app, database, query):
    before = counts(database)
    response = app.test_client().get(f"/sign-in/oidc/callback?{query}")
    assert response.status_code in (400, 401, 403), response.status_code
    page = response.get_data(as_text=True)
    # control characters are refused before the route, by the app's query rules
    assert "Go to the sign-in page" in page or "There is a problem with the web address" in page
    assert counts(database) == before


def test_a_discovery_document_of_another_issuer_is_a_setup_problem(app, database, crafted):
    crafted.published_issuer = "https://login.elsewhere.example"
    page = assert_refused(app.test_client().get("/sign-in/oidc"), 502,
                          "Sign-in is not set up correctly")
    assert "the server&#39;s log says what to change" in page


def test_a_provider_without_keys_is_a_setup_problem_and_nothing_is_created(app, database, crafted):
    crafted.publishes_keys = False
    before = counts(database)
    client = app.test_client()
    assert_refused(client.get(to_provider_and_back(client)), 502, "Sign-in is not set up correctly")
    assert counts(database) == before


def test_administrators_see_who_has_signed_in_through_the_provider(app, database, crafted):
    with database.transaction() as session:
        accounts.create_user(session, "admin", "Ada Admin", "a-long-password", ["admin"], None)
    client = app.test_client()
    assert client.get(to_provider_and_back(client)).status_code == 302
    admin = app.test_client()
    token = admin.get("/sign-in").get_data(as_text=True).split(
        'name="csrf-token" content="', 1)[1].split('"', 1)[0]
    assert admin.post("/sign-in", data={"username": "admin", "password": "a-long-password",
                                        "csrf_token": token}).status_code == 302
    sam = admin.get("/people/sam.new").get_data(as_text=True)
    assert "Through the council's sign-in only (no password here)" in sam
    assert "Has not signed in through the council" not in sam
    own = admin.get("/people/admin").get_data(as_text=True)
    assert "With a password" in own and "Has not signed in through the council" in own
