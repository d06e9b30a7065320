"""Steps every browser journey takes."""
from __future__ import annotations

from playwright.sync_api import expect

from workflows.demo.scotland import DEMO_PASSWORD


def sign_in(page, axe, base: str, username: str) -> None:
    page.goto(f"{base}/sign-in")
    expect(page).to_have_title("Sign in – PACE Flow")
    axe.check(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
