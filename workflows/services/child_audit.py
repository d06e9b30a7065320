"""An audit event about something added to a child's record, on the child or on one of its
tasks (a case note, an attachment): on the child's chain, naming the task when there is one."""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine import audit
from engine.models import WorkItem


def record_added(session: Session, event_type: str, actor: str, subject_id: int,
                 item: WorkItem | None, key: str, record_id: int, **data) -> None:
    """``data`` starts with ``{key: record_id}``, the work item and its title, then ``data``."""
    audit.record(session, event_type, actor, subject_id=subject_id,
                 instance_id=item.instance_id if item else None,
                 task_id=item.task_id if item else None,
                 data={key: record_id, "work_item": item.id if item else None,
                       "task_title": item.title if item else None, **data})
