"""The same task completed in the browser and through the API leaves the same instance
state (READY tasks and their data, every task's state, milestones, work items) and the same
audit events (types and data; only who and when may differ), on both databases."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from engine import clock
from engine.milestones import KEY as MILESTONE_KEY
from engine.models import AuditEvent, Milestone, ProcessInstance, WorkItem

from .api_client import api
from .conftest import post, sign_in
from .journeys import child_at

CASES = {
    "legal_referral": (
        "sw.north",
        {"referral_date.day": "3", "referral_date.month": "11", "referral_date.year": "2025",
         "solicitor": "Ms A. Law", "route_under_consideration": "adoption",
         "questions": "Are the grounds for a permanence order met?"},
        {"referral_date": "2025-11-03", "solicitor": "Ms A. Law",
         "route_under_consideration": "adoption",
         "questions": "Are the grounds for a permanence order met?"}),
    "planning_meeting": (
        "tl.north",
        {"date_held.day": "2", "date_held.month": "1", "date_held.year": "2026",
         "chair": "Tom Lees", "actions_agreed": "Contact plan agreed.", "attendees.count": "2",
         "attendees.0.name": "Mum", "attendees.0.relationship_or_role": "Mother",
         "attendees.0.attended": "true", "attendees.1.name": "Gran",
         "attendees.1.relationship_or_role": "Grandmother"},
        {"date_held": "2026-01-02", "chair": "Tom Lees", "actions_agreed": "Contact plan agreed.",
         "attendees": [{"name": "Mum", "relationship_or_role": "Mother", "attended": True},
                       {"name": "Gran", "relationship_or_role": "Grandmother",
                        "attended": False}]}),
}
LA_START = {"legal_referral": date(2025, 5, 5), "planning_meeting": date(2025, 12, 31)}


# A generated document names its own row, task and file (the child's reference is in the
# file name, so its bytes, digest and size differ too): what must match is which template,
# version and reason made it.
_DOCUMENT_ROW = {"document", "work_item", "name", "sha256", "size"}


def _same_in_both(data):
    if isinstance(data, dict) and "template_sha256" in data:
        return {k: v for k, v in data.items() if k not in _DOCUMENT_ROW}
    return data


def _state(world, subject_id: int, after_seq: int) -> dict:
    """Everything a completion changes, without ids, task UUIDs, actors or times."""
    database = world.database
    with database.transaction() as session:
        instance = session.scalars(select(ProcessInstance).where(
            ProcessInstance.subject_id == subject_id)).one()
        wf = database.runtime.load_workflow(instance)
        ready = sorted((t.task_spec.name, sorted(t.data.items(), key=str))
                       for t in wf.get_tasks(state=TaskState.READY, manual=True))
        states = sorted((t.task_spec.name, TaskState.get_name(t.state)) for t in wf.get_tasks())
        recorded = wf.top_workflow.task_tree.internal_data.get(MILESTONE_KEY)
        milestones = sorted((m.code, m.occurrence, m.planned_date, m.actual_date, m.process_id,
                             m.model_version, sorted((m.data or {}).items(), key=str))
                            for m in session.scalars(select(Milestone).where(
                                Milestone.subject_id == subject_id)))
        items = sorted((w.task_name, w.title, w.role, w.team, w.status, w.assignee_id,
                        w.due_date, w.remind_date, tuple(w.escalate_dates or ()), w.draft,
                        w.completion_digest, w.completed_by)
                       for w in session.scalars(select(WorkItem).where(
                           WorkItem.subject_id == subject_id)))
        events = [(e.event_type, _same_in_both(e.data)) for e in session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == subject_id, AuditEvent.chain_seq > after_seq)
            .order_by(AuditEvent.chain_seq))]
        return {"status": instance.status, "model": instance.model_id, "ready": ready,
                "task_states": states, "milestones_in_workflow": recorded,
                "milestone_rows": milestones, "work_items": items, "events": events}


def _head(world, subject_id: int) -> int:
    with world.database.transaction() as session:
        return max(session.scalars(select(AuditEvent.chain_seq).where(
            AuditEvent.subject_id == subject_id)))


@pytest.mark.parametrize("task_name", list(CASES))
def test_ui_and_api_completions_are_identical(world, task_name):
    user, form, data = CASES[task_name]
    children = {}
    for way, reference in (("ui", "N0301"), ("api", "N0302")):
        children[way] = child_at(world.database, reference, "north", task_name,
                                 LA_START[task_name], name="Twin Child", seed=11)
    heads = {way: _head(world, subject_id) for way, (subject_id, _item) in children.items()}
    before = {way: _state(world, children[way][0], heads[way]) for way in children}
    assert before["ui"] == before["api"]  # two identical children to start from

    clock.set_now(date(2026, 1, 5))
    try:
        browser = sign_in(world.app.test_client(), user)
        item = children["ui"][1]
        assert post(browser, f"/tasks/{item}/claim").status_code == 302
        done = post(browser, f"/tasks/{item}", {**form, "action": "complete"})
        assert done.status_code == 302, done.get_data(as_text=True)[:2000]

        client = api(world, user)
        item = children["api"][1]
        assert client.post(f"/api/v1/work-items/{item}/claim").status_code == 200
        response = client.post(f"/api/v1/work-items/{item}/complete", json={"data": data})
        assert response.status_code == 200, response.get_json()
    finally:
        clock.set_now(None)

    after = {way: _state(world, children[way][0], heads[way]) for way in children}
    assert after["ui"]["events"][0][0] == "task_claimed"
    assert "task_completed" in [kind for kind, _ in after["ui"]["events"]]
    assert after["ui"]["ready"] != before["ui"]["ready"]  # the process moved on
    for key in after["ui"]:
        assert after["ui"][key] == after["api"][key], key
