"""Nothing typed is lost, in a real browser with a short session lifetime (axe on every page):

- the timeout warning opens before the session ends, takes the focus, "Stay signed in" and
  Escape keep the session, and with no answer the page asks the worker to sign in again;
- a task form's draft is saved while the worker types; entries typed after the last save,
  submitted after the session ended, come back after signing in again, and the task
  completes exactly once.
"""
from __future__ import annotations

import re
import threading
import time
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from engine.models import AuditEvent, WorkItem
from tests.conftest import make_database
from tests.web.journeys import build_world, make_app
from workflows.demo.scotland import DEMO_PASSWORD

from .steps import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def serve(request, tmp_path):
    """serve(lifetime seconds, warning seconds) -> the test world on a live server whose
    sessions end after that idle time."""
    servers = []

    def _serve(lifetime: int, warning: int):
        database = make_database("sqlite", tmp_path, request)
        app = make_app(database, PERMANENT_SESSION_LIFETIME=timedelta(seconds=lifetime),
                       SESSION_WARNING_SECONDS=warning)
        world = build_world(database, app)
        server = make_server("127.0.0.1", 0, world.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        world.base_url = f"http://127.0.0.1:{server.server_port}"
        return world

    yield _serve
    for server in servers:
        server.shutdown()


def test_the_timeout_warning_keeps_the_session_or_asks_to_sign_in_again(serve, page, axe):
    world = serve(lifetime=12, warning=8)
    base = world.base_url
    sign_in(page, axe, base, "sw.north")
    expect(page).to_have_title("My work – PACE Flow")
    loaded = time.monotonic()

    dialog = page.get_by_role("dialog", name="You are about to be signed out")
    expect(dialog).to_be_visible(timeout=10_000)  # 8 s before the end: about 4 s in
    expect(dialog).to_contain_text("For your security, we will sign you out in")
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    axe.check(page)
    page.keyboard.press("Enter")  # "Stay signed in", with the keyboard
    expect(dialog).to_be_hidden()

    # Past the moment the first session would have ended, the page is still signed in; the
    # warning came back for the renewed session, and Escape stays signed in too.
    time.sleep(max(0.0, loaded + 14.5 - time.monotonic()))
    expect(page).to_have_title("My work – PACE Flow")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Team queue").click()
    expect(page).to_have_title("Team queue – PACE Flow")

    # Nobody answers this time: the page asks to sign in again and says why.
    expect(dialog).to_be_visible(timeout=10_000)
    expect(page).to_have_title("Sign in – PACE Flow", timeout=20_000)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "You were signed out because PACE Flow had not been used for 12 seconds")
    axe.check(page)


def _completions(world, item_id: int) -> int:
    with world.database.transaction() as session:
        item = session.get(WorkItem, item_id)
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event_type == "task_completed", AuditEvent.task_id == item.task_id))


def test_entries_submitted_after_the_session_ended_come_back_and_complete_once(serve, page,
                                                                               axe):
    world = serve(lifetime=20, warning=3)  # time to fill the form on a busy machine
    base, item = world.base_url, world.tasks["north"]
    page.clock.install()
    sign_in(page, axe, base, "sw.north")
    page.goto(f"{base}/tasks/{item}")
    page.get_by_role("button", name="Claim task").click()
    expect(page).to_have_title("Send referral for legal advice for North Child 1 – PACE Flow")
    axe.check(page)
    sent = date.today()
    dates = page.get_by_role("group", name="Date referral sent")
    dates.get_by_label("Day").fill(str(sent.day))
    dates.get_by_label("Month").fill(str(sent.month))
    dates.get_by_label("Year").fill(str(sent.year))
    page.get_by_label("Solicitor referred to (optional)").fill("Ms A. Law")
    page.get_by_label("Adoption").check()
    questions = "Do the grounds for a permanence order apply? " * 20
    page.get_by_label("Questions for legal services").fill(questions)
    # A pause in typing: the draft is saved quietly, for this worker's task only.
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Draft saved at \d\d:\d\d$"))
    with world.database.transaction() as session:
        assert session.get(WorkItem, item).draft["solicitor"] == "Ms A. Law"

    # Typed on, then called away, and the laptop sleeps: the page's timers stand still (no
    # save after the last words) while the server's session runs out.
    page.get_by_label("Solicitor referred to (optional)").fill("Ms A. Law KC")
    page.clock.pause_at(datetime.now() + timedelta(seconds=1))
    time.sleep(22.5)
    page.get_by_role("button", name="Complete task").click()
    expect(page).to_have_title("Sign in – PACE Flow")
    page.clock.resume()  # the laptop is awake again (axe-core needs the page's timers)

    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "You were signed out because PACE Flow had not been used for 20 seconds")
    expect(page.locator("#kept-entries-note")).to_contain_text(
        "Your entries are kept in this browser tab")
    assert _completions(world, item) == 0
    axe.check(page)
    page.get_by_label("Username").fill("sw.north")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_title("Send referral for legal advice for North Child 1 – PACE Flow")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your entries from before you were signed out are back in the form")
    expect(page.get_by_label("Solicitor referred to (optional)")).to_have_value("Ms A. Law KC")
    expect(page.get_by_label("Questions for legal services")).to_have_value(questions.strip())
    expect(page.get_by_label("Adoption")).to_be_checked()
    expect(dates.get_by_label("Day")).to_have_value(str(sent.day))
    axe.check(page)
    page.get_by_role("button", name="Complete task").click()

    expect(page).to_have_title("My work – PACE Flow")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Send referral for legal advice completed for North Child 1")
    axe.check(page)
    with world.database.transaction() as session:
        assert session.get(WorkItem, item).status == "completed"
    assert _completions(world, item) == 1


def test_staying_signed_in_in_one_tab_closes_the_warning_in_the_others(serve, page, axe):
    world = serve(lifetime=12, warning=8)
    sign_in(page, axe, world.base_url, "sw.north")
    expect(page).to_have_title("My work – PACE Flow")
    other = page.context.new_page()
    other.goto(f"{world.base_url}/team-queue")
    expect(other).to_have_title("Team queue – PACE Flow")

    warning = page.get_by_role("dialog", name="You are about to be signed out")
    other_warning = other.get_by_role("dialog", name="You are about to be signed out")
    expect(other_warning).to_be_visible(timeout=10_000)
    expect(warning).to_be_visible()  # opened first: the first tab arrived earlier
    page.evaluate("window.sameDocument = true")  # gone if the first tab went anywhere
    other_warning.get_by_role("button", name="Stay signed in").click()
    expect(other_warning).to_be_hidden()
    # The first tab heard of it at once, long before its own end would have moved it on.
    expect(warning).to_be_hidden(timeout=3_000)
    assert page.evaluate("window.sameDocument") is True
