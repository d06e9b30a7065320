"""The task page: a form from the task's JSON Schema, validation, drafts, completion,
stale and repeated submits. Each test gets its own database (they complete tasks)."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from engine.models import AuditEvent, WorkItem

from .conftest import post
from .journeys import child_at

# A week ago: after the child was accommodated (27 weeks before the run) and not in the future.
_SENT = date.today() - timedelta(days=7)
REFERRAL = {"referral_date.day": str(_SENT.day), "referral_date.month": str(_SENT.month),
            "referral_date.year": str(_SENT.year),
            "solicitor": "Ms A. Law", "route_under_consideration": "adoption",
            "questions": "Are the grounds for a permanence order met?"}


def _claim(client, item_id):
    response = post(client, f"/tasks/{item_id}/claim")
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{item_id}"


def _item(world, item_id) -> WorkItem:
    with world.database.transaction() as session:
        return session.get(WorkItem, item_id)


def test_form_is_rendered_from_the_schema(world, client_for):
    client = client_for("sw.north")
    item = world.tasks["north"]
    _claim(client, item)
    page = client.get(f"/tasks/{item}").get_data(as_text=True)
    assert "<title>Send referral for legal advice for North Child 1 – PACE Flow</title>" in page
    for part in ("day", "month", "year"):  # a GOV.UK date input
        assert f'name="referral_date.{part}"' in page
    assert len(re.findall(r'name="route_under_consideration" type="radio"', page)) == 5
    assert re.search(r'<textarea class="govuk-textarea" id="f-questions" name="questions" rows="6"', page)
    assert "Solicitor referred to (optional)" in page and "Questions for legal services</label>" in page
    assert 'name="csrf_token"' in page and "Complete task" in page and "Save draft" in page


def test_invalid_submit_shows_messages_next_to_fields_and_keeps_entries(world, client_for):
    client = client_for("sw.north")
    item = world.tasks["north"]
    _claim(client, item)
    wrong = {**REFERRAL, "referral_date.day": "31", "referral_date.month": "2", "questions": "",
             "action": "complete"}
    response = post(client, f"/tasks/{item}", wrong)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<title>Error: Send referral for legal advice" in page
    assert "There is a problem" in page
    assert '<a href="#f-referral_date-day">Date referral sent must be a real date</a>' in page
    assert '<a href="#f-questions">Enter questions for legal services</a>' in page
    assert re.search(r'id="f-questions-error" class="govuk-error-message">.*Enter questions', page)
    assert 'aria-describedby="f-questions-error"' in page
    # Nothing lost: every entry is shown again.
    assert 'value="31"' in page and 'value="Ms A. Law"' in page
    assert re.search(r'value="adoption" checked', page)
    assert _item(world, item).status == "claimed"


def test_completion_returns_to_the_queue_and_the_next_task_reaches_legal(world, client_for):
    client = client_for("sw.north")
    item = world.tasks["north"]
    _claim(client, item)
    response = post(client, f"/tasks/{item}", {**REFERRAL, "action": "complete"})
    assert response.status_code == 302 and response.headers["Location"] == "/my-work"
    page = client.get("/my-work").get_data(as_text=True)
    assert "govuk-notification-banner--success" in page
    assert ("Send referral for legal advice completed for North Child 1 (N0001). Now open for "
            "this child: Give legal advice (Legal services).") in page
    assert _item(world, item).status == "completed"
    legal_queue = client_for("legal").get("/team-queue").get_data(as_text=True)
    assert "Give legal advice" in legal_queue and "North Child 1" in legal_queue


def test_a_repeated_identical_submit_shows_the_success_result(world, client_for):
    client = client_for("sw.north")
    item = world.tasks["north"]
    _claim(client, item)
    first = post(client, f"/tasks/{item}", {**REFERRAL, "action": "complete"})
    client.get("/my-work")  # the banner is shown once
    again = post(client, f"/tasks/{item}", {**REFERRAL, "action": "complete"})
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == "/my-work"
    assert "completed for North Child 1" in client.get("/my-work").get_data(as_text=True)
    with world.database.transaction() as session:
        completions = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "task_completed", AuditEvent.subject_id == world.children["north"],
            AuditEvent.data["task"].as_string() == "legal_referral")).all()
    assert len(completions) == 1


def test_a_different_submit_after_completion_is_a_clear_conflict(world, client_for):
    client = client_for("sw.north")
    item = world.tasks["north"]
    _claim(client, item)
    post(client, f"/tasks/{item}", {**REFERRAL, "action": "complete"})
    changed = {**REFERRAL, "questions": "A second, different question", "action": "complete"}
    response = post(client, f"/tasks/{item}", changed)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Your entries were not saved" in page and "already completed" in page
    assert "A second, different question" in page  # nothing typed is lost


def test_a_task_someone_else_holds_cannot_be_overwritten(world, client_for):
    holder, other = client_for("sw2.north"), client_for("sw.north")
    item = world.tasks["north"]
    _claim(holder, item)
    response = post(other, f"/tasks/{item}", {**REFERRAL, "action": "complete"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Priya Shah holds this task" in page and 'value="Ms A. Law"' in page
    assert _item(world, item).status == "claimed"
    claim = post(other, f"/tasks/{item}/claim", follow_redirects=True).get_data(as_text=True)
    assert "Priya Shah claimed this task first" in claim


def test_save_draft_keeps_partial_entries(world, client_for):
    client = client_for("sw.north")
    item = world.tasks["north"]
    _claim(client, item)
    partial = {"referral_date.day": "4", "solicitor": "Mr B. Brief", "action": "draft"}
    response = post(client, f"/tasks/{item}", partial)
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{item}"
    page = client.get(f"/tasks/{item}").get_data(as_text=True)
    assert "Draft saved" in page and "This form shows your saved draft" in page
    assert 'value="4"' in page and 'value="Mr B. Brief"' in page
    assert _item(world, item).draft == {"referral_date": "--4", "solicitor": "Mr B. Brief"}


def test_repeating_rows_are_added_and_removed_without_javascript(world, client_for):
    child, item = child_at(world.database, "N0009", "north", "planning_meeting", date.today(),
                           name="North Child 9")
    client = client_for("tl.north")
    _claim(client, item)
    url = f"/tasks/{item}"
    held = date.today()  # the day the child was accommodated: not before it, not after today
    base = {"date_held.day": str(held.day), "date_held.month": str(held.month),
            "date_held.year": str(held.year),
            "chair": "Tom Lees", "actions_agreed": "Contact plan agreed."}
    page = post(client, url, {**base, "attendees.count": "0", "action": "add:attendees"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Person 1" in text and 'name="attendees.0.name"' in text
    new_row = r'id="f-attendees-0-name" name="attendees.0.name" type="text" value=""[^>]*autofocus'
    assert re.search(new_row, text)  # focus moves to the new row
    rows = {**base, "attendees.count": "2", "attendees.0.name": "Mum",
            "attendees.0.relationship_or_role": "Mother", "attendees.0.attended": "true",
            "attendees.1.name": "Gran", "attendees.1.relationship_or_role": "Grandmother"}
    text = post(client, url, {**rows, "action": "remove:attendees:0"}).get_data(as_text=True)
    assert 'value="Gran"' in text and 'value="Mum"' not in text and "Person 2" not in text
    assert 'value="Contact plan agreed."' not in text  # textarea content, not a value attribute
    assert "Contact plan agreed." in text
    done = post(client, url, {**rows, "action": "complete"})
    assert done.status_code == 302
    with world.database.transaction() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "task_completed", AuditEvent.subject_id == child)).one()
    assert event.data["answers"]["attendees"] == [
        {"name": "Mum", "relationship_or_role": "Mother", "attended": True},
        {"name": "Gran", "relationship_or_role": "Grandmother", "attended": False}]


def test_team_leader_reassigns_and_the_change_is_audited(world, client_for):
    leader = client_for("tl.north")
    item = world.tasks["north"]
    page = leader.get(f"/tasks/{item}").get_data(as_text=True)
    assert "Give this task to" in page and "Priya Shah" in page
    # no reason: the form again, saying what to give, with the worker still chosen
    refused = post(leader, f"/tasks/{item}/reassign", {"assignee": str(world.users["sw2.north"])})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Give a reason for moving the task" in text and 'href="#reason"' in text
    assert f'value="{world.users["sw2.north"]}" selected' in text
    assert _item(world, item).assignee_id is None
    too_long = post(leader, f"/tasks/{item}/reassign",
                    {"assignee": str(world.users["sw2.north"]), "reason": "On leave " * 40})
    assert too_long.status_code == 422 and "300 characters or fewer" in too_long.get_data(
        as_text=True) and "On leave On leave" in too_long.get_data(as_text=True)
    response = post(leader, f"/tasks/{item}/reassign", {"assignee": str(world.users["sw2.north"]),
                                                        "reason": "Sam is on leave this week"})
    assert response.status_code == 302
    assert "is now with Priya Shah" in leader.get(response.headers["Location"]).get_data(as_text=True)
    assert _item(world, item).assignee_id == world.users["sw2.north"]
    with world.database.transaction() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "task_reassigned")).one()
    assert event.actor == "tl.north" and event.data["to"] == "sw2.north"
    assert event.data["reason"] == "Sam is on leave this week"
    south = str(world.users["sw.south"])  # not eligible: another team
    assert post(leader, f"/tasks/{item}/reassign",
                {"assignee": south, "reason": "Covering"}).status_code == 422
    assert _item(world, item).assignee_id == world.users["sw2.north"]


def test_claim_and_release_are_audited(world, client_for):
    client = client_for("sw.north")
    item = world.tasks["north"]
    _claim(client, item)
    assert "Send referral for legal advice" in client.get("/my-work").get_data(as_text=True)
    response = post(client, f"/tasks/{item}/release")
    assert response.status_code == 302
    assert "back in the team queue" in client.get("/team-queue").get_data(as_text=True)
    assert _item(world, item).status == "ready"
    with world.database.transaction() as session:
        for event_type in ("task_claimed", "task_released"):
            event = session.scalars(select(AuditEvent).where(
                AuditEvent.event_type == event_type)).one()
            assert event.actor == "sw.north" and event.subject_id == world.children["north"]


def test_a_form_naming_a_url_is_refused_with_entries_kept_and_nothing_fetched(world, client_for):
    """A form stored before forms were checked for outside references: the page says what
    to do (409), keeps what was typed, and the server requests nothing."""
    import json

    from sqlalchemy import update

    from engine.models import ProcessInstance, ProcessModel
    with world.database.transaction() as session:
        item = session.get(WorkItem, world.tasks["north"])
        model = session.get(ProcessInstance, item.instance_id).model
        forms = dict(model.forms)
        for name, text in forms.items():
            schema = json.loads(text)
            schema["allOf"] = [{"$ref": "http://192.0.2.1/x.json"}]
            forms[name] = json.dumps(schema)
        session.execute(update(ProcessModel).where(ProcessModel.id == model.id)
                        .values(forms=forms, content_hash="stored before the check"))
    client = client_for("sw.north")
    _claim(client, world.tasks["north"])
    response = post(client, f"/tasks/{world.tasks['north']}", {**REFERRAL, "action": "complete"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409  # 192.0.2.1 is unroutable: a fetch would hang, not pass
    assert "refers to &#39;http://192.0.2.1/x.json&#39;, outside the form" in page
    assert "ask a process owner to correct the form" in page
    assert 'value="Ms A. Law"' in page
    assert _item(world, world.tasks["north"]).status == "claimed"
