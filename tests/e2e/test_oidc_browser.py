"""A social worker signs in through the council's OpenID Connect provider in a real browser
(the npm package oidc-provider, started by tests/oidc/servers.py), is given their role and
team from their groups, completes a task, and signs out at the provider too; axe-core on
every PACE Flow page."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.oidc.servers import CLIENT_ID, CLIENT_SECRET, node_provider
from workflows import accounts
from workflows.app import Settings
from workflows.sign_in_settings import OidcSettings, SignInSettings

pytestmark = pytest.mark.browser

USERS = {"jo.north": {"email": "jo.north@council.example", "name": "Jo North",
                      "preferred_username": "jo.north",
                      "groups": ["all-staff", "pace-social-workers", "pace-north"]}}
ONLY_THIS_MACHINE = re.compile(r"^(?!http://127\.0\.0\.1[:/])")


def test_social_worker_signs_in_at_the_council_and_out_again(live_world, page, axe, artifacts):
    base = live_world.base_url
    page.context.route(ONLY_THIS_MACHINE, lambda route: route.abort())
    with node_provider(base, USERS) as provider:
        live_world.database.settings = Settings(sign_in=SignInSettings(oidc=OidcSettings(
            issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
            provider_name="Council Account", scopes=("openid", "email", "profile", "groups"),
            create_people=True, role_map={"pace-social-workers": ("social_worker",)},
            team_map={"pace-north": ("north",)})))

        page.goto(f"{base}/sign-in")
        expect(page).to_have_title("Sign in – PACE Flow")
        axe.check(page)
        page.screenshot(path=str(artifacts / "sign-in-with-provider.png"), full_page=True)
        page.get_by_role("button", name="Sign in with Council Account").click()
        expect(page).to_have_title("Council sign-in")
        page.get_by_label("Council username").fill("jo.north")
        page.get_by_label("Council password").fill("the council's password")
        page.get_by_role("button", name="Sign in to the council").click()

        expect(page).to_have_title("My work – PACE Flow")
        axe.check(page)
        with live_world.database.transaction() as session:
            jo = accounts.find_user(session, "jo.north")
            assert (jo.display_name, jo.roles, jo.team) == ("Jo North", ["social_worker"], "north")
            assert (jo.oidc_issuer, jo.oidc_subject) == (provider.issuer, "jo.north")

        page.get_by_role("navigation", name="Menu").get_by_role("link", name="Team queue").click()
        expect(page).to_have_title("Team queue – PACE Flow")
        axe.check(page)
        page.get_by_role("button",
                         name="Claim Send referral for legal advice for North Child 1").click()
        expect(page).to_have_title("Send referral for legal advice for North Child 1 – PACE Flow")
        axe.check(page)
        dates = page.get_by_role("group", name="Date referral sent")
        sent = date.today()
        dates.get_by_label("Day").fill(str(sent.day))
        dates.get_by_label("Month").fill(str(sent.month))
        dates.get_by_label("Year").fill(str(sent.year))
        page.get_by_label("Questions for legal services").fill(
            "Do the grounds for a permanence order apply?")
        page.get_by_label("Adoption").check()
        page.get_by_role("button", name="Complete task").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
            "Send referral for legal advice completed for North Child 1")
        axe.check(page)

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_title("Sign out of the council")
        page.get_by_role("button", name="Yes, sign me out").click()
        expect(page).to_have_title("You have signed out – PACE Flow")
        expect(page.get_by_role("main")).to_contain_text(
            "You have signed out of PACE Flow and of Council Account")
        axe.check(page)
        page.screenshot(path=str(artifacts / "signed-out-at-the-provider.png"), full_page=True)

        # The provider's session ended too: signing in again asks for the council password.
        page.get_by_role("link", name="Sign in again").click()
        page.get_by_role("button", name="Sign in with Council Account").click()
        expect(page).to_have_title("Council sign-in")
        page.goto(f"{base}/my-work")
        expect(page).to_have_title("Sign in – PACE Flow")


def test_a_forged_token_gets_a_clear_page(live_world, page, axe):
    """The refusal page as a worker sees it (tests/oidc/test_refused_tokens.py goes over
    every kind of untrustworthy token)."""
    from tests.oidc.servers import CraftedProvider
    base = live_world.base_url
    page.context.route(ONLY_THIS_MACHINE, lambda route: route.abort())
    with CraftedProvider() as provider:
        provider.fault = "forged_signature"
        provider.claims = {"email": "jo.north@council.example", "groups": ["pace-social-workers"]}
        live_world.database.settings = Settings(sign_in=SignInSettings(oidc=OidcSettings(
            issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
            provider_name="Council Account")))
        page.goto(f"{base}/sign-in")
        page.get_by_role("button", name="Sign in with Council Account").click()
        expect(page).to_have_title("PACE Flow could not confirm who you are – PACE Flow")
        expect(page.get_by_role("main")).to_contain_text(
            "it was not signed with the council's sign-in keys")
        axe.check(page)
        page.get_by_role("link", name="Go to the sign-in page").click()
        expect(page).to_have_title("Sign in – PACE Flow")
