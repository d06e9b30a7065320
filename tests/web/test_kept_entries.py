"""Nothing typed is lost: drafts saved while typing, "Stay signed in", and a submit after the
session ended (web/pages/task_drafts.py, web/security/session_timeout.py,
web/pages/kept_entries.py). The browser's side is tests/e2e/test_kept_entries_browser.py."""
from __future__ import annotations

import itertools
import re
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, WorkItem
from web.security.session_timeout import duration_words, timing
from workflows.services.tasks import MAX_DRAFT_BYTES

from .conftest import cached_client, csrf_token, hold, make_app, post, sign_in
from .journeys import child_at

TODAY = date.today()
ENTRIES = {"referral_date.day": str(TODAY.day), "referral_date.month": str(TODAY.month),
           "referral_date.year": str(TODAY.year), "solicitor": "Ms A. Law",
           "route_under_consideration": "adoption",
           "questions": "Do the grounds for a permanence order apply?"}


_REFERENCES = itertools.count(7001)


def _item(world, item_id: int) -> WorkItem:
    with world.database.transaction() as session:
        return session.get(WorkItem, item_id)


def _events(world, kind: str, item_id: int | None = None) -> int:
    with world.database.transaction() as session:
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.event_type == kind)
        if item_id is not None:
            item = session.get(WorkItem, item_id)
            query = query.where(AuditEvent.task_id == item.task_id)
        return session.scalar(query)


def _autosave(client, item_id: int, data: dict, token: str | None = "page"):
    body = dict(data)
    if token:
        body["csrf_token"] = csrf_token(client) if token == "page" else token
    return client.post(f"/tasks/{item_id}/autosave", data=body,
                       headers={"Accept": "application/json"})


# -- drafts saved while typing ---------------------------------------------------------
def test_the_holder_s_typing_is_kept_as_the_task_s_draft(shared_world):
    world, item = shared_world, shared_world.tasks["north"]
    hold(world, "sw.north")
    client = cached_client(world, "sw.north")
    response = _autosave(client, item, {"questions": "First thoughts", "solicitor": ""})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert re.fullmatch(r"Draft saved at \d\d:\d\d", response.json["message"])
    assert _item(world, item).draft == {"questions": "First thoughts"}
    saved = _events(world, "draft_saved", item)
    # The same entries again (a pause in typing without a change) write nothing.
    assert _autosave(client, item, {"questions": "First thoughts"}).status_code == 200
    assert _events(world, "draft_saved", item) == saved
    assert _autosave(client, item, {"questions": "Second thoughts"}).status_code == 200
    assert _item(world, item).draft == {"questions": "Second thoughts"}
    assert _events(world, "draft_saved", item) == saved + 1
    # The page says where the status goes and where to post.
    page = client.get(f"/tasks/{item}").get_data(as_text=True)
    assert f'data-autosave-url="/tasks/{item}/autosave"' in page
    assert 'id="draft-status" role="status"' in page and "js/task-autosave.mjs" in page


def test_typing_never_claims_a_task_nor_writes_over_another_holder_s_draft(shared_world):
    world, item = shared_world, shared_world.tasks["north"]
    hold(world, None)  # in the team queue
    kept = _item(world, item).draft
    worker = cached_client(world, "sw.north")
    response = _autosave(worker, item, {"questions": "Mine now?"})
    assert response.status_code == 409 and "no longer hold this task" in response.json["message"]
    assert _item(world, item).status == "ready" and _item(world, item).draft == kept
    hold(world, "sw2.north")  # given to a colleague while the page was open
    response = _autosave(worker, item, {"questions": "Over theirs"})
    assert response.status_code == 409 and "holds this task" in response.json["message"]
    assert _item(world, item).draft == kept and _item(world, item).assignee_id == \
        world.users["sw2.north"]
    south = _autosave(cached_client(world, "sw.south"), item, {"questions": "x"})
    assert south.status_code == 404 and south.json["saved"] is False
    hold(world, None)


def test_a_draft_larger_than_a_task_holds_is_refused_with_the_reason(shared_world):
    world, item = shared_world, shared_world.tasks["north"]
    hold(world, "sw.north")
    client = cached_client(world, "sw.north")
    big = "x" * (MAX_DRAFT_BYTES + 10)
    response = _autosave(client, item, {"questions": big})
    assert response.status_code == 422
    assert f"larger than {MAX_DRAFT_BYTES // 1024} KB" in response.json["message"]
    assert response.json["message"].startswith("Your entries could not be saved automatically")
    assert _item(world, item).draft in (None, {"questions": "Second thoughts"})
    assert (_item(world, item).draft or {}).get("questions") != big
    hold(world, None)


def test_autosave_needs_the_page_s_token_and_a_session(shared_world):
    world, item = shared_world, shared_world.tasks["north"]
    hold(world, "sw.north")
    before = _item(world, item).draft
    client = cached_client(world, "sw.north")
    for token in (None, "forged"):
        response = _autosave(client, item, {"questions": "Forged"}, token=token)
        assert response.status_code == 400 and response.is_json
        assert "Reload the page" in response.json["message"]
    anonymous = world.app.test_client()
    response = _autosave(anonymous, item, {"questions": "Forged"})
    assert response.status_code == 401 and response.json["signed_in"] is False
    assert "Sign in again" in response.json["message"]
    assert _item(world, item).draft == before
    hold(world, None)


# -- the timeout warning and "Stay signed in" ------------------------------------------
def test_the_warning_s_timing_follows_the_server_s_lifetime():
    assert timing(1800, 120) == timing(1800.0, 120)
    assert (timing(1800, 120).lifetime, timing(1800, 120).warning) == (1800, 120)
    assert timing(20, 120).warning == 19  # never at once, however short the lifetime
    assert timing(0.2, 120).lifetime == 1
    assert [duration_words(s) for s in (1800, 60, 45, 1, 90)] == [
        "30 minutes", "1 minute", "45 seconds", "1 second", "90 seconds"]


def test_every_signed_in_page_carries_the_warning_and_its_timing(shared_world):
    app = make_app(shared_world.database, PERMANENT_SESSION_LIFETIME=timedelta(minutes=20),
                   SESSION_WARNING_SECONDS=90)
    client = sign_in(app.test_client(), "sw.north")
    for path in ("/my-work", "/children", f"/tasks/{shared_world.tasks['north']}"):
        page = client.get(path, follow_redirects=True).get_data(as_text=True)
        assert 'data-lifetime="1200" data-warning="90"' in page, path
        assert '<dialog class="app-timeout-dialog"' in page and "Stay signed in" in page
        assert "js/session-timeout.mjs" in page
    signed_out = app.test_client().get("/sign-in").get_data(as_text=True)
    assert "timeout-dialog" not in signed_out and 'id="kept-entries-note"' in signed_out


def test_stay_signed_in_renews_the_session(shared_world):
    app = make_app(shared_world.database, PERMANENT_SESSION_LIFETIME=timedelta(seconds=3))
    client = sign_in(app.test_client(), "sw.north")
    token = csrf_token(client)
    for _ in range(3):  # 4.5 s in all, each wait shorter than the lifetime
        time.sleep(1.5)  # a real wait: the session cookie expires by the wall clock
        response = client.post("/session/keep-alive", headers={"X-CSRFToken": token})
        assert response.status_code == 200 and response.json == {"signed_in": True,
                                                                   "seconds_left": 3}
        assert "pace_session=" in response.headers["Set-Cookie"]
    time.sleep(4.5)  # then nothing for longer than the lifetime (counted in whole seconds)
    response = client.post("/session/keep-alive", headers={"X-CSRFToken": token})
    assert response.status_code == 401 and response.json["signed_in"] is False


def test_a_page_whose_warning_ran_out_asks_to_sign_in_again_and_comes_back(shared_world):
    client = shared_world.app.test_client()
    item = shared_world.tasks["north"]
    response = client.get(f"/session/timed-out?next=/tasks/{item}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/sign-in?next=/tasks/{item}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were signed out because PACE Flow had not been used for 30 minutes" in page
    assert f'name="next" value="/tasks/{item}"' in page
    assert client.get("/session/timed-out?next=//elsewhere.example").headers[
        "Location"] == "/sign-in"
    signed_in = cached_client(shared_world, "sw.north")  # kept alive elsewhere: straight back
    assert signed_in.get(f"/session/timed-out?next=/tasks/{item}").headers[
        "Location"] == f"/tasks/{item}"


# -- a submit after the session ended --------------------------------------------------
@pytest.fixture
def short_lived(shared_world):
    """The same database served with a two-second idle lifetime; a task of its own."""
    app = make_app(shared_world.database, PERMANENT_SESSION_LIFETIME=timedelta(seconds=2))
    reference = f"N{next(_REFERENCES):04d}"
    _child, item = child_at(shared_world.database, reference, "north", "legal_referral",
                            TODAY - timedelta(weeks=27), name="North Child Kept")
    return app, item


def test_a_submit_after_the_session_ended_writes_nothing_and_asks_to_sign_in(shared_world,
                                                                              short_lived):
    app, item = short_lived
    client = sign_in(app.test_client(), "sw.north")
    assert post(client, f"/tasks/{item}/claim").status_code == 302
    token = csrf_token(client)
    before = (_item(shared_world, item).status, _item(shared_world, item).draft,
              _events(shared_world, "task_completed"))
    time.sleep(3.5)  # real: longer than the cookie's wall-clock lifetime, in whole seconds
    response = client.post(f"/tasks/{item}", data={**ENTRIES, "action": "complete",
                                                     "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/sign-in?next=/tasks/{item}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were signed out because PACE Flow had not been used for 2 seconds" in page
    assert (_item(shared_world, item).status, _item(shared_world, item).draft,
            _events(shared_world, "task_completed")) == before

    # Signed in again, the page posts the kept entries back: shown, not saved.
    sign_in(client, "sw.north")
    shown = post(client, f"/tasks/{item}", {**ENTRIES, "action": "restore"})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "Your entries from before you were signed out are back in the form" in text
    assert 'value="Ms A. Law"' in text and "Do the grounds for a permanence order apply?" in text
    assert 'data-kept-entries="posted"' in text
    assert _item(shared_world, item).draft == before[1]

    # The next submit completes the task, once; the same submit again changes nothing.
    done = post(client, f"/tasks/{item}", {**ENTRIES, "action": "complete"})
    assert done.status_code == 302 and _item(shared_world, item).status == "completed"
    again = post(client, f"/tasks/{item}", {**ENTRIES, "action": "complete"})
    assert again.status_code in (302, 409)
    assert _events(shared_world, "task_completed", item) == 1


def test_a_stale_form_of_a_signed_in_worker_comes_back_filled(shared_world, short_lived):
    _app, item = short_lived
    client = sign_in(shared_world.app.test_client(), "sw.north")
    assert post(client, f"/tasks/{item}/claim").status_code == 302
    origin = "http://localhost"
    response = client.post(f"/tasks/{item}", data={**ENTRIES, "action": "complete",
                                                    "csrf_token": "from-an-older-sign-in"},
                           headers={"Origin": origin})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The form had expired or did not come from this service, so nothing was saved" in text
    assert 'value="Ms A. Law"' in text and 'id="task-form"' in text
    assert _item(shared_world, item).status == "claimed" and _item(shared_world, item).draft is None
    # From another site's page the entries are not shown: the plain error page.
    foreign = client.post(f"/tasks/{item}", data={**ENTRIES, "csrf_token": "x"},
                          headers={"Origin": "https://elsewhere.example"})
    assert foreign.status_code == 400 and "Ms A. Law" not in foreign.get_data(as_text=True)


def test_entries_put_back_to_a_task_no_longer_held_are_shown_to_copy(shared_world, short_lived):
    _app, item = short_lived
    client = sign_in(shared_world.app.test_client(), "sw.north")  # never claimed it
    response = post(client, f"/tasks/{item}", {**ENTRIES, "action": "restore"})
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "You no longer hold this task" in text and "Ms A. Law" in text
    assert _item(shared_world, item).status == "ready"
