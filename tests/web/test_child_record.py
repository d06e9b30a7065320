"""What was recorded, readable by everyone who may see the child: each completed step with its
answers in the form's words on the child page, before the task is claimed on a task page,
and in ``GET /api/v1/children/{id}`` (one read: workflows/services/child_record.py)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import lxml.html
import pytest
from sqlalchemy import select

from engine.errors import NotFound
from engine.models import AuditEvent, UserAccount
from workflows.children.recorded_answers import long_date
from workflows.services import child_record

from .api_client import api
from .conftest import cached_client, post
from .journeys import child_at


def _text(page: str) -> str:
    doc = lxml.html.fromstring(page)
    for hidden in doc.xpath("//script|//style"):
        hidden.drop_tree()
    return re.sub(r"\s+", " ", doc.find("body").text_content())


@pytest.fixture(scope="module")
def legal(shared_world):
    """A north child whose legal referral was sent months ago (every date in the past), its
    legal advice task open in the legal services queue; the referral's recorded answers."""
    world = shared_world
    if "record_legal" not in world.children:
        subject_id, item_id = child_at(world.database, "R0001", "north", "legal_opinion",
                                       date.today() - timedelta(weeks=60), name="Rory Record")
        world.children["record_legal"], world.tasks["record_legal"] = subject_id, item_id
    with world.database.transaction() as session:
        referral = session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == world.children["record_legal"],
            AuditEvent.event_type == "task_completed")
            .order_by(AuditEvent.chain_seq.desc())).first()
    assert referral.data["task"] == "legal_referral"
    return world, referral.data["answers"]


def test_an_unclaimed_task_shows_the_child_and_the_answers_before_it(legal):
    world, referral = legal
    response = cached_client(world, "legal").get(f"/tasks/{world.tasks['record_legal']}")
    page = _text(response.get_data(as_text=True))
    assert response.status_code == 200 and "Claim task" in page
    assert "About the child" in page and "Rory Record" in page and "R0001" in page
    assert "Children and Families North" in page and "Current stage Permanence journey" in page
    assert "Previous steps" in page and "Send referral for legal advice" in page
    assert f"Questions for legal services {referral['questions']}" in page
    sent = date.fromisoformat(referral["referral_date"])
    assert f"Date referral sent {long_date(sent)}" in page
    assert referral["referral_date"] not in page  # no ISO dates


def test_legal_advice_is_readable_on_the_child_page_by_the_social_worker(legal):
    world, _referral = legal
    item = world.tasks["record_legal"]
    lawyer = cached_client(world, "legal")
    assert post(lawyer, f"/tasks/{item}/claim").status_code == 302
    today = date.today()
    done = post(lawyer, f"/tasks/{item}", {
        "advice_date.day": str(today.day), "advice_date.month": str(today.month),
        "advice_date.year": str(today.year), "solicitor": "Lewis Gray",
        "evidence_sufficient": "more_needed", "advice": "Seek the school's report first.",
        "action": "complete"})
    assert done.status_code == 302, done.get_data(as_text=True)
    for reader in ("sw.north", "tl.north", "manager", "auditor"):
        page = _text(cached_client(world, reader).get(
            f"/children/{world.children['record_legal']}").get_data(as_text=True))
        assert "What was recorded" in page, reader
        assert "Give legal advice" in page and "Completed by Lewis Gray" in page, reader
        assert "Is there enough evidence for the route being considered? More evidence needed" \
            in page, reader
        assert f"Date advice given {long_date(today)}" in page, reader
        assert "more_needed" not in page and "evidence_sufficient" not in page, reader
        # newest first
        assert page.index("Give legal advice,") < page.index("Send referral for legal advice,")
    # the completed task page shows its own answers, unfolded
    html = lawyer.get(f"/tasks/{item}").get_data(as_text=True)
    own = lxml.html.fromstring(html).xpath('//details[@open]')
    assert len(own) == 1 and "Seek the school's report first." in own[0].text_content()


def test_the_api_gives_the_same_steps(legal):
    world, referral = legal
    child = world.children["record_legal"]
    body = api(world, "sw.north").get(f"/api/v1/children/{child}").get_json()
    steps = body["recorded_steps"]
    with world.database.transaction() as session:
        actor = session.scalar(select(UserAccount).where(UserAccount.username == "sw.north"))
        expected = child_record.steps(session, world.database.runtime, actor, child)
    assert [s["title"] for s in steps] == [s.title for s in expected]
    sent = next(s for s in steps if s["task_name"] == "legal_referral")
    assert {"name": "questions", "label": "Questions for legal services",
            "text": referral["questions"], "parts": []} in sent["answers"]


def test_another_teams_worker_cannot_read_the_record(legal):
    world, _referral = legal
    child = world.children["record_legal"]
    assert cached_client(world, "sw.south").get(f"/children/{child}").status_code == 404
    assert api(world, "sw.south").get(f"/api/v1/children/{child}").status_code == 404
    with world.database.transaction() as session:
        south = session.scalar(select(UserAccount).where(UserAccount.username == "sw.south"))
        with pytest.raises(NotFound):
            child_record.steps(session, world.database.runtime, south, child)
