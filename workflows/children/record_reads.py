"""The child's record as colleagues read it: every completed step, newest first, with its
answers in the words of the form of the diagram version the child was on.

Read from the child's ``task_completed`` audit events, which keep each completion's answers
for good (a workflow's own task data is merged forward and, in a loop, reset), and from the
forms of the versions those instances ran (cached per version by the engine's registry).
Who may read it is decided by the caller (``workflows.services.child_record``).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AuditEvent, ProcessInstance, UserAccount
from engine.runtime import Runtime

from workflows import profiles

from .recorded_answers import RecordedStep, answers, submitted


def recorded_steps(session: Session, runtime: Runtime, subject_id: int) -> list[RecordedStep]:
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.subject_id == subject_id, AuditEvent.event_type == "task_completed")
        .order_by(AuditEvent.chain_seq.desc())).all()
    if not events:
        return []
    instances = {i.id: i for i in session.scalars(select(ProcessInstance).where(
        ProcessInstance.id.in_({e.instance_id for e in events})))}
    people = dict(session.execute(select(UserAccount.username, UserAccount.display_name).where(
        UserAccount.username.in_({e.actor for e in events}))).all())
    steps = []
    for event in events:
        data = event.data or {}
        instance = instances.get(event.instance_id)
        task = str(data.get("task") or "")
        schema, ui = runtime.form_for(instance, task) if instance else ({}, {})
        process = profiles.process_name(instance.process_id, instance.model.name or "") \
            if instance else ""
        steps.append(RecordedStep(
            task_id=event.task_id or "", task_name=task,
            title=str(data.get("title") or schema.get("title") or "Completed step"),
            process=process, completed_at=event.at,
            completed_by=people.get(event.actor, event.actor),
            answers=answers(schema, ui, submitted(data))))
    return steps
