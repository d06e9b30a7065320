"""Notification centre: header count, list, mark read (CSRF), e-mail choices, admin outbox."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine import clock, notifications, work_items
from engine.models import Notification, NotificationPreference, OutboxMessage, UserAccount

from .conftest import post


def reassign_north_referral(world, to: str = "sw2.north") -> int:
    with world.database.transaction() as session:
        item_id = world.tasks["north"]
        target = session.get(UserAccount, world.users[to])
        leader = session.get(UserAccount, world.users["tl.north"])
        work_items.reassign(session, item_id, target, leader)
    return item_id


def count_in_header(page: str) -> int:
    found = re.search(r'id="notifications-count">(\d+)<', page)
    return int(found.group(1)) if found else 0


def test_count_list_and_opening_the_task_marks_it_read(world, client_for):
    client = client_for("sw2.north")
    assert count_in_header(client.get("/my-work").get_data(as_text=True)) == 0
    item_id = reassign_north_referral(world)
    page = client.get("/my-work").get_data(as_text=True)
    assert count_in_header(page) == 1
    assert 'href="/notifications"' in page

    listing = client.get("/notifications").get_data(as_text=True)
    assert "You have 1 unread notification." in listing
    assert (f'<a class="govuk-link" href="/tasks/{item_id}">Assigned to you: Send referral for legal '
            f'advice for child N0001</a>') in listing
    assert "Tom Lees gave you" in listing

    assert client.get(f"/tasks/{item_id}").status_code == 200
    assert count_in_header(client.get("/my-work").get_data(as_text=True)) == 0
    assert "You have no unread notifications." in client.get("/notifications").get_data(as_text=True)


def test_mark_read_needs_the_csrf_token_and_touches_only_your_own(world, client_for):
    reassign_north_referral(world)
    with world.database.transaction() as session:
        note_id = session.scalar(select(Notification.id))
    other = client_for("sw.north")
    assert post(other, f"/notifications/{note_id}/read").status_code == 302
    owner = client_for("sw2.north")
    assert owner.post(f"/notifications/{note_id}/read").status_code == 400  # no token
    assert count_in_header(owner.get("/my-work").get_data(as_text=True)) == 1
    response = post(owner, f"/notifications/{note_id}/read")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    assert count_in_header(owner.get("/notifications").get_data(as_text=True)) == 0


def test_mark_all_read(world, client_for):
    reassign_north_referral(world)
    with world.database.transaction() as session:  # and back: sw2 hears it moved away
        item = world.tasks["north"]
        work_items.reassign(session, item, session.get(UserAccount, world.users["sw.north"]),
                            session.get(UserAccount, world.users["tl.north"]))
    client = client_for("sw2.north")
    assert count_in_header(client.get("/notifications").get_data(as_text=True)) == 2
    page = post(client, "/notifications/read-all", follow_redirects=True).get_data(as_text=True)
    assert "2 notifications marked as read." in page and count_in_header(page) == 0


def test_email_choices_are_saved_per_kind(world, client_for):
    client = client_for("tl.north")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'id="escalation-immediate" name="escalation" type="radio" value="immediate" checked' in page
    assert 'id="overdue-digest" name="overdue" type="radio" value="digest" checked' in page
    assert "You have no e-mail address on your account" in page
    policy = world.database.runtime.config.notifications
    choices = {kind: info.mode for kind, info in policy.kinds.items()}
    choices.update(escalation="digest", digest="none")
    response = post(client, "/notifications/preferences", choices)
    assert response.status_code == 302
    with world.database.transaction() as session:
        saved = notifications.preferences(session, policy, world.users["tl.north"])
    assert saved["escalation"] == "digest" and saved["digest"] == "none"
    assert post(client, "/notifications/preferences", {**choices, "digest": "immediate"}).status_code == 400
    with world.database.transaction() as session:
        assert session.scalar(select(NotificationPreference.mode).where(
            NotificationPreference.kind == "digest")) == "none"


def test_outbox_is_for_administrators_and_failed_mail_can_be_retried(world, client_for):
    with world.database.transaction() as session:
        session.add(OutboxMessage(message_id="<x@test>", dedupe_key="test:1", user_id=None,
                                  to_address="tl.north@council.example", subject="[PACE Flow] test",
                                  text_body="t", html_body=None, kind="escalation", status="failed",
                                  created_at=clock.now(), attempts=10,
                                  last_error="SMTPRecipientsRefused: 550 no such mailbox"))
    assert client_for("sw.north").get("/notifications/outbox").status_code == 403
    admin = client_for("admin")
    page = admin.get("/notifications/outbox").get_data(as_text=True)
    assert "550 no such mailbox" in page and "Failed: 1." in page
    with world.database.transaction() as session:
        row_id = session.scalar(select(OutboxMessage.id))
    post(admin, f"/notifications/outbox/{row_id}/retry")
    with world.database.transaction() as session:
        assert session.get(OutboxMessage, row_id).status == "pending"


def test_signed_out_visitors_are_sent_to_sign_in(world):
    client = world.app.test_client()
    response = client.get("/notifications")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_notice_about_a_finished_task_is_done_not_new(world, client_for):
    import random
    from engine.models import ProcessInstance, WorkItem
    from workflows import sample_answers
    from workflows.demo import scotland as demo

    item_id = reassign_north_referral(world)
    client = client_for("sw2.north")
    assert count_in_header(client.get("/notifications").get_data(as_text=True)) == 1
    with world.database.transaction() as session:  # the new holder completes it
        item = session.get(WorkItem, item_id)
        instance = session.get(ProcessInstance, item.instance_id)
        schema, _ = world.database.runtime.form_for(instance, item.task_name)
        data = sample_answers.fill(schema, clock.today(), random.Random(3), demo.WEIGHTS)
        world.database.runtime.complete(session, item_id, data,
                                        session.get(UserAccount, world.users["sw2.north"]))
    listing = client.get("/notifications").get_data(as_text=True)
    assert count_in_header(listing) == 0 and "You have no unread notifications." in listing
    assert 'govuk-tag--grey">Task done</strong>' in listing and ">New</strong>" not in listing
    assert "Mark as read" not in listing
    assert "Nothing unread." in client.get("/notifications?show=unread").get_data(as_text=True)
