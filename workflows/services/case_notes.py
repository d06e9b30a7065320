"""Case notes and comments on a child or on one of its tasks: write, change, read.

The child page, the task page and ``/api/v1/children/{id}/notes`` and
``/api/v1/work-items/{id}/notes`` all come here. Everyone who may see the child reads the
notes (``policy.can_read_case_file``); the workers and managers among them write them
(``policy.can_add_to_case_file``). A note is never deleted; its author may change it for 15
minutes (``casework.note_rules``). Each version is an audit event on the child's chain
(``case_note_added``, ``case_note_edited``, the whole text in each), so the auditor's
timeline and exports hold every version.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import FieldError, Forbidden, InvalidData, NotFound
from engine.models import Subject, UserAccount, WorkItem
from engine.plain_text import storable_problem

from .. import policy
from ..casework import note_rules
from ..casework.tables import CaseNote
from ..policy import Actor
from .actors import account
from .child_audit import record_added
from .tasks import visible_task


@dataclass(frozen=True)
class NoteView:
    id: int
    subject_id: int
    text: str
    author: str
    written_at: datetime
    edited_at: datetime | None
    version: int
    task_id: int | None
    task_title: str | None
    can_change: bool          # by this reader, now
    editable_until: datetime


def _child(session: Session, actor: Actor, subject_id: int) -> Subject:
    child = session.get(Subject, subject_id)
    if child is None or not policy.can_read_case_file(actor, child.team):
        raise NotFound(f"There is no child with id {subject_id} in your teams.")
    return child


def _may_write(actor: Actor, child: Subject) -> None:
    if not policy.can_add_to_case_file(actor, child.team):
        raise Forbidden("Your role reads a child's notes but does not add to them.")


def _checked_text(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    problem = note_rules.text_problem(text) or storable_problem(text)
    if problem:
        raise InvalidData([FieldError("text", problem)])
    return text


def _write(session: Session, actor: Actor, child: Subject, item: WorkItem | None,
           text: str) -> CaseNote:
    text = _checked_text(text)
    author = account(session, actor)
    audit.lock_chain(session, child.id)
    note = CaseNote(subject_id=child.id, work_item_id=item.id if item else None,
                    author_id=author.id, text=text, version=1, created_at=clock.now())
    session.add(note)
    session.flush()
    record_added(session, "case_note_added", author.username, child.id, item, "note", note.id,
                 text=text)
    return note


def add_to_child(session: Session, actor: Actor, subject_id: int, text: str) -> CaseNote:
    """A note on the child."""
    child = _child(session, actor, subject_id)
    _may_write(actor, child)
    return _write(session, actor, child, None, text)


def add_to_task(session: Session, actor: Actor, item_id: int, text: str) -> CaseNote:
    """A comment on one of the child's tasks (a task the actor may see)."""
    item = visible_task(session, actor, item_id)
    child = _child(session, actor, item.subject_id)
    _may_write(actor, child)
    return _write(session, actor, child, item, text)


def change(session: Session, actor: Actor, note_id: int, text: str) -> CaseNote:
    """The author corrects their note within 15 minutes of writing it; the version before
    stays in the audit chain."""
    note = session.get(CaseNote, note_id)
    if note is None:
        raise NotFound(f"There is no note with id {note_id}.")
    child = _child(session, actor, note.subject_id)
    refusal = note_rules.edit_refusal(note.author_id, _aware(note.created_at), actor.id,
                                      clock.now())
    if refusal:
        raise Forbidden(refusal)
    text = _checked_text(text)
    audit.lock_chain(session, child.id)
    session.refresh(note)
    note.text, note.version, note.edited_at = text, note.version + 1, clock.now()
    item = session.get(WorkItem, note.work_item_id) if note.work_item_id else None
    audit.record(session, "case_note_edited", actor.username, subject_id=child.id,
                 instance_id=item.instance_id if item else None,
                 task_id=item.task_id if item else None,
                 data={"note": note.id, "work_item": note.work_item_id,
                       "version": note.version, "text": text})
    return note


def _aware(moment: datetime) -> datetime:
    """SQLite gives back a naive UTC time."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _views(session: Session, actor: Actor, notes) -> list[NoteView]:
    notes = list(notes)
    names = dict(session.execute(select(UserAccount.id, UserAccount.display_name).where(
        UserAccount.id.in_({n.author_id for n in notes}))).all()) if notes else {}
    items = {i.id: i.title for i in session.scalars(select(WorkItem).where(
        WorkItem.id.in_({n.work_item_id for n in notes if n.work_item_id})))} if notes else {}
    now = clock.now()
    return [NoteView(n.id, n.subject_id, n.text, names.get(n.author_id, "Unknown"), _aware(n.created_at),
                     _aware(n.edited_at) if n.edited_at else None, n.version, n.work_item_id,
                     items.get(n.work_item_id),
                     note_rules.edit_refusal(n.author_id, _aware(n.created_at), actor.id,
                                             now) is None,
                     note_rules.editable_until(_aware(n.created_at))) for n in notes]


def of_child(session: Session, actor: Actor, subject_id: int) -> list[NoteView]:
    """Every note on the child and on its tasks, newest first."""
    child = _child(session, actor, subject_id)
    return _views(session, actor, session.scalars(
        select(CaseNote).where(CaseNote.subject_id == child.id)
        .order_by(CaseNote.created_at.desc(), CaseNote.id.desc())))


def of_task(session: Session, actor: Actor, item_id: int) -> list[NoteView]:
    """The comments on one task, newest first."""
    item = visible_task(session, actor, item_id)
    _child(session, actor, item.subject_id)
    return _views(session, actor, session.scalars(
        select(CaseNote).where(CaseNote.work_item_id == item.id)
        .order_by(CaseNote.created_at.desc(), CaseNote.id.desc())))


def get(session: Session, actor: Actor, note_id: int) -> NoteView:
    """One note, for its edit page."""
    note = session.get(CaseNote, note_id)
    if note is None:
        raise NotFound(f"There is no note with id {note_id}.")
    _child(session, actor, note.subject_id)
    return _views(session, actor, [note])[0]
