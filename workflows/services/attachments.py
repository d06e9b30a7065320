"""Attachments on a child or on one of its tasks: upload, download, list.

The child page, the task page and ``/api/v1/children/{id}/attachments``,
``/api/v1/work-items/{id}/attachments`` and ``/api/v1/attachments/{id}`` all come here.
Everyone who may see the child reads and downloads the files (``policy.can_read_case_file``);
the workers and managers among them attach files (``policy.can_add_to_case_file``).

An upload is refused, with nothing stored, when it is larger than ``PACE_ATTACHMENT_MAX_MB``;
when ``PACE_CLAMD`` names a ClamAV daemon, when the daemon finds something or cannot be asked
(``casework.virus_scan``: fail closed; first, so a virus is called one whatever its type);
and when its content is not a PDF, a Word document or a picture (``casework.file_types``:
read from the bytes, never from the name). A stored
file keeps its SHA-256; every upload and every download is an audit event on the child's
chain (``attachment_uploaded``, ``attachment_downloaded``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from engine import audit, clock
from engine.errors import FieldError, Forbidden, InvalidData, NotFound
from engine.models import Subject, UserAccount, WorkItem
from engine.plain_text import one_line

from .. import policy
from ..casework import file_types, virus_scan
from ..casework.attachment_settings import AttachmentSettings
from ..casework.tables import Attachment
from ..policy import Actor
from .actors import account
from .child_audit import record_added
from .tasks import visible_task

MAX_NAME_CHARS = 200


class TooLarge(InvalidData):
    """Larger than the deployment's limit (HTTP 413); nothing was stored."""
    status = 413


@dataclass(frozen=True)
class AttachmentView:
    id: int
    subject_id: int
    file_name: str
    kind: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    task_id: int | None
    task_title: str | None


def size_in_words(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def _child(session: Session, actor: Actor, subject_id: int) -> Subject:
    child = session.get(Subject, subject_id)
    if child is None or not policy.can_read_case_file(actor, child.team):
        raise NotFound(f"There is no child with id {subject_id} in your teams.")
    return child


def _plain_name(name: str, detected: file_types.Detected) -> str:
    name = one_line(name or "").strip().replace("/", "_").replace("\\", "_")[-MAX_NAME_CHARS:]
    return name or f"attachment ({detected.kind})"


def _store(session: Session, actor: Actor, settings: AttachmentSettings, child: Subject,
           item: WorkItem | None, file_name: str, content: bytes) -> Attachment:
    if not policy.can_add_to_case_file(actor, child.team):
        raise Forbidden("Your role reads a child's attachments but does not add to them.")
    if not content and not file_name:
        raise InvalidData([FieldError("file", "Choose the file to attach.")])
    if len(content) > settings.max_bytes:
        raise TooLarge([FieldError("file", (
            f"The file is {size_in_words(len(content))}; a file can be at most "
            f"{settings.max_mb} MB. Nothing was attached: make it smaller (for example save "
            "it as a PDF with smaller pictures) or split it into several files."))])
    if settings.clamd is not None:  # first: a virus is reported as one, whatever its type
        try:
            virus_scan.scan(settings.clamd, content)
        except virus_scan.Refused as exc:
            raise InvalidData([FieldError("file", str(exc))]) from None
    try:
        detected = file_types.detect(content)
    except file_types.NotAllowed as exc:
        raise InvalidData([FieldError("file", str(exc))]) from None
    uploader = account(session, actor)
    audit.lock_chain(session, child.id)
    stored = Attachment(subject_id=child.id, work_item_id=item.id if item else None,
                        uploaded_by=uploader.id, file_name=_plain_name(file_name, detected),
                        content_type=detected.content_type, size=len(content),
                        sha256=file_types.sha256(content), scanned=settings.clamd is not None,
                        uploaded_at=clock.now(), content=content)
    session.add(stored)
    session.flush()
    record_added(session, "attachment_uploaded", uploader.username, child.id, item,
                 "attachment", stored.id, name=stored.file_name,
                 content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                 scanned=stored.scanned)
    return stored


def upload_to_child(session: Session, actor: Actor, settings: AttachmentSettings,
                    subject_id: int, file_name: str, content: bytes) -> Attachment:
    """Attach a file to the child."""
    child = _child(session, actor, subject_id)
    return _store(session, actor, settings, child, None, file_name, content)


def upload_to_task(session: Session, actor: Actor, settings: AttachmentSettings,
                   item_id: int, file_name: str, content: bytes) -> Attachment:
    """Attach a file to one of the child's tasks (a task the actor may see)."""
    item = visible_task(session, actor, item_id)
    child = _child(session, actor, item.subject_id)
    return _store(session, actor, settings, child, item, file_name, content)


def download(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    """The file with its content, for someone who may see the child; the download is audited."""
    stored = session.scalars(select(Attachment).where(Attachment.id == attachment_id)
                             .options(undefer(Attachment.content))).first()
    if stored is None:
        raise NotFound(f"There is no attachment with id {attachment_id} in your teams.")
    try:
        child = _child(session, actor, stored.subject_id)
    except NotFound:
        raise NotFound(f"There is no attachment with id {attachment_id} in your teams.") from None
    audit.lock_chain(session, child.id)
    audit.record(session, "attachment_downloaded", actor.username, subject_id=child.id,
                 data={"attachment": stored.id, "name": stored.file_name,
                       "sha256": stored.sha256})
    return stored


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _views(session: Session, rows) -> list[AttachmentView]:
    rows = list(rows)
    if not rows:
        return []
    names = dict(session.execute(select(UserAccount.id, UserAccount.display_name).where(
        UserAccount.id.in_({r.uploaded_by for r in rows}))).all())
    items = {i.id: i.title for i in session.scalars(select(WorkItem).where(
        WorkItem.id.in_({r.work_item_id for r in rows if r.work_item_id})))}
    return [AttachmentView(r.id, r.subject_id, r.file_name,
                           file_types.ALLOWED.get(r.content_type, "File"), r.size, r.sha256,
                           names.get(r.uploaded_by, "Unknown"), _aware(r.uploaded_at),
                           r.work_item_id, items.get(r.work_item_id)) for r in rows]


def of_child(session: Session, actor: Actor, subject_id: int) -> list[AttachmentView]:
    """Every file on the child and its tasks, newest first."""
    child = _child(session, actor, subject_id)
    return _views(session, session.scalars(
        select(Attachment).where(Attachment.subject_id == child.id)
        .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())))


def of_task(session: Session, actor: Actor, item_id: int) -> list[AttachmentView]:
    """The files on one task, newest first."""
    item = visible_task(session, actor, item_id)
    _child(session, actor, item.subject_id)
    return _views(session, session.scalars(
        select(Attachment).where(Attachment.work_item_id == item.id)
        .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())))
