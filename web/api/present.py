"""Rows read in a view turned into the plain values the response schemas dump.

Read inside the view's transaction; nothing here decides who may see what (web.security.access
does, before these are called).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Milestone, ProcessInstance, Subject, UserAccount, WorkItem
from engine.queues import due_status
from web.shared.read_models import _milestone_row


def user_refs(session: Session, ids) -> dict[int, dict]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(select(UserAccount.id, UserAccount.username, UserAccount.display_name)
                           .where(UserAccount.id.in_(ids))).all()
    return {uid: {"username": name, "display_name": shown} for uid, name, shown in rows}


def child_ref(child: Subject) -> dict:
    return {"id": child.id, "reference": child.reference, "name": child.display_name}


def work_items(session: Session, items, today: date) -> list[dict]:
    items = list(items)
    users = user_refs(session, [i.assignee_id for i in items] + [i.completed_by for i in items])
    return [work_item(item, users, today) for item in items]


def work_item(item: WorkItem, users: dict[int, dict], today: date) -> dict:
    return {
        "id": item.id, "instance_id": item.instance_id, "child": child_ref(item.subject),
        "task_name": item.task_name, "title": item.title, "role": item.role, "team": item.team,
        "status": item.status, "assignee": users.get(item.assignee_id),
        "created_at": item.created_at, "due_date": item.due_date, "remind_date": item.remind_date,
        "due_status": due_status(item, today), "escalation_level": item.escalation_level or 0,
        "completed_at": item.completed_at, "completed_by": users.get(item.completed_by),
    }


def instance_summary(instance: ProcessInstance) -> dict:
    return {"id": instance.id, "process_id": instance.process_id,
            "process_name": instance.model.name or instance.process_id,
            "model_version": instance.model.version, "status": instance.status,
            "started_at": instance.started_at, "completed_at": instance.completed_at,
            "end_event": instance.end_event, "parent_instance_id": instance.parent_instance_id}


def milestones(rows, today: date) -> list[dict]:
    shown = []
    for m in rows:
        row = _milestone_row(m, today)
        shown.append({"code": row.code, "label": row.label, "occurrence": row.occurrence,
                      "planned_date": row.planned, "actual_date": row.actual,
                      "status": row.status, "days_late": row.days_late})
    return shown


def instance_milestones(session: Session, instance_id: int, today: date) -> list[dict]:
    rows = session.scalars(select(Milestone).where(Milestone.instance_id == instance_id)
                           .order_by(Milestone.id)).all()
    return milestones(rows, today)
