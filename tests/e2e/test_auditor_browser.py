"""An auditor in a real browser, on a demo caseload, with axe-core on every page visited.

Sign in → Audit → find a child whose journey has finished → the timeline → the diagram of
the journey with the path highlighted → select a task in the diagram → who completed it
and what changed. The auditor's reading is itself recorded.
"""
from __future__ import annotations

import threading
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.models import AuditEvent, ProcessInstance, UserAccount, WorkItem
from tests.conftest import make_database
from tests.web.journeys import make_app
from workflows.demo import scotland as demo

from .steps import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_world(request, tmp_path):
    """The app on a free port over a small demo caseload (some journeys finished)."""
    database = make_database("sqlite", tmp_path, request)
    demo.build(database, children=7, seed=1, today=date(2026, 3, 1))  # nos. 6 and 7 finish
    app = make_app(database)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield database, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _finished_journey(database):
    """A finished permanence journey, who completed its legal referral and what changed."""
    with database.transaction() as session:
        instance = session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_id == "permanence_journey",
            ProcessInstance.status == "completed").order_by(ProcessInstance.id)).first()
        assert instance is not None, "the demo caseload has no finished journey"
        item = session.scalars(select(WorkItem).where(
            WorkItem.instance_id == instance.id, WorkItem.task_name == "legal_referral")).one()
        worker = session.get(UserAccount, item.completed_by)
        completed = session.scalars(select(AuditEvent).where(
            AuditEvent.instance_id == instance.id, AuditEvent.event_type == "task_completed",
            AuditEvent.task_id == item.task_id)).one()
        return (instance.subject.reference, instance.subject.display_name, instance.end_event,
                worker.display_name, completed.data["answers"]["questions"])


def test_auditor_follows_a_finished_journey_on_the_diagram(demo_world, page, axe, artifacts):
    database, base = demo_world
    reference, name, end, worker, questions = _finished_journey(database)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, axe, base, "auditor")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Audit").click()
    expect(page).to_have_title("Audit – PACE Flow")
    axe.check(page)

    page.get_by_label("Child’s name, reference or process number").fill(reference)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_title(f"Audit: records matching “{reference}” – PACE Flow")
    page.get_by_role("link", name=name, exact=True).first.click()  # children, then processes
    expect(page).to_have_title(f"Audit timeline: {name} ({reference}) – PACE Flow")
    expect(page.get_by_role("cell", name="Process ended").first).to_be_visible()
    axe.check(page)

    page.get_by_role("navigation", name="Audit record").get_by_role("link", name="Diagram").click()
    expect(page).to_have_title(f"Audit diagram: Permanence journey for {name} ({reference}) "
                               "– PACE Flow")
    diagram = page.locator("#audit-diagram")
    expect(diagram).to_have_attribute("data-ready", "true")
    # The path: the tasks done, the end reached, the flows taken, nothing open.
    for element in ("accommodated", "planning_meeting", "legal_referral", "substantive_lar", end):
        done = diagram.locator(f'.djs-element.pace-done[data-element-id="{element}"]')
        expect(done).to_have_count(1)
    assert diagram.locator(".djs-connection.pace-taken").count() >= 8
    expect(diagram.locator(".pace-current")).to_have_count(0)
    expect(diagram.locator(".app-audit-badge--done").first).to_be_visible()
    axe.check(page)
    page.screenshot(path=str(artifacts / "audit-diagram.png"), full_page=True)

    # Select a task in the diagram: its events, who completed it and what changed.
    diagram.locator('.djs-element[data-element-id="legal_referral"]').click()
    heading = page.get_by_role("heading", name="Events for “Send referral for legal advice”")
    expect(heading).to_be_focused()
    events = page.locator("[data-audit-events] > tbody > tr:visible")
    completed = events.filter(has_text="Task completed")
    expect(completed).to_have_count(1)
    expect(completed).to_contain_text(worker)
    expect(completed).to_contain_text("Questions for legal services")
    expect(completed.get_by_role("cell", name=questions, exact=True)).to_be_visible()
    expect(events.filter(has_text="Task ready")).to_have_count(1)
    expect(events.filter(has_text="Hold planning meeting")).to_have_count(0)
    assert "element=legal_referral" in page.url  # a reload keeps the selection
    page.screenshot(path=str(artifacts / "audit-diagram-task.png"), full_page=True)

    page.get_by_role("link", name="Show every event in this process").click()
    expect(page.get_by_role("heading", name="Events in this process")).to_be_visible()
    expect(events.filter(has_text="Hold planning meeting").first).to_be_visible()

    page.get_by_role("navigation", name="Audit record").get_by_role(
        "link", name="Check integrity").click()
    expect(page.get_by_role("heading", name="Intact")).to_be_visible()
    axe.check(page)
    assert not dialogs

    with database.transaction() as session:
        viewed = session.scalars(select(AuditEvent.data).where(
            AuditEvent.event_type == "record_viewed", AuditEvent.actor == "auditor")).all()
    assert [v["page"] for v in viewed] == ["timeline", "diagram", "verify"]
    print("axe moderate/minor findings:", axe.minor)
