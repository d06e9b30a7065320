"""Documents made from what was recorded: the action minute, the referral for legal advice,
the review record.

A user task whose diagram names a Word template (``document`` property) makes its document
when it is completed (``made_on_completion``, called by ``tasks.complete``, so the task page
and the API alike); a worker can make it again from the child page (``make``), for instance
after the council corrected the template. The document is filled from the child's details
and the completion's answers in the words of the form (``documents.context``), kept with the
child with its SHA-256, the template's SHA-256 and the process version, and every making,
download and on-screen reading is an event on the child's audit chain (``document_generated``,
``document_downloaded``, ``document_viewed``), so the auditor's timeline and export show it.

Who may do what is ``policy.can_read_documents`` (everyone who may see the child) and
``policy.can_make_document`` (those among them who add to the child's file). A template that
cannot be filled never stops a completion: the child's process goes on, and the failure is
an audit event (``document_not_made``) naming the template and why.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from engine import audit, clock, registry
from engine.errors import Conflict, Forbidden, NotFound
from engine.models import AuditEvent, ProcessInstance, Subject, Team, UserAccount, WorkItem
from engine.runtime import Runtime

from .. import policy, profiles
from ..documents import context as filling
from ..documents.html_view import Block, blocks
from ..documents.tables import GeneratedDocument
from ..policy import Actor
from ..process_models import document_templates
from ..process_models.document_templates import TemplateRefused, render
from .actors import account

log = logging.getLogger(__name__)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class DocumentView:
    id: int
    subject_id: int
    title: str
    file_name: str
    size: int
    sha256: str
    template_name: str
    template_sha256: str
    process_version: int
    made_by: str
    made_at: datetime
    reason: str
    work_item_id: int


@dataclass(frozen=True)
class Makeable:
    """A completed task whose version names a template: its document can be made (again)."""
    work_item_id: int
    task_title: str
    template_name: str
    completed_at: datetime | None


@dataclass(frozen=True)
class Template:
    name: str
    data: bytes
    version: int


def template_of(instance: ProcessInstance, task_name: str) -> Template | None:
    """The Word template the task names in the instance's version, or None."""
    model = instance.model
    spec = registry.load(model).spec.task_specs.get(task_name)
    name = spec.extensions.get("properties", {}).get("document") if spec is not None else None
    if not name or name not in (model.documents or {}):
        return None
    found = registry.ModelBundle.decode_documents({name: model.documents[name]})
    return Template(name, found[name], model.version) if name in found else None


def _file_name(title: str, child: Subject, day) -> str:
    stem = f"{title} {child.reference} {day.day} {day:%b %Y}"  # dates in words, as shown
    # Characters a file system or mail client may refuse (':' in "Review: Record") dropped,
    # not replaced, so the name still reads as the title; a long title never loses ".docx".
    return " ".join(re.sub(r"[^A-Za-z0-9 ._-]", " ", stem).split())[:195] + ".docx"


def _answers(session: Session, item: WorkItem) -> dict:
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.subject_id == item.subject_id, AuditEvent.event_type == "task_completed",
        AuditEvent.task_id == item.task_id).order_by(AuditEvent.chain_seq.desc())
        .limit(1)).first()
    data = (event.data or {}) if event is not None else {}
    return dict(data.get("answers") or {})


def _child_facts(session: Session, child: Subject) -> filling.ChildFacts:
    team = session.get(Team, child.team)
    worker = session.get(UserAccount, child.allocated_worker_id) \
        if child.allocated_worker_id else None
    return filling.ChildFacts(child.display_name, child.reference, child.date_of_birth,
                              team.name if team else child.team,
                              worker.display_name if worker else "")


def _fill(session: Session, runtime: Runtime, child: Subject, item: WorkItem,
          instance: ProcessInstance, template: Template) -> bytes:
    schema, ui = runtime.form_for(instance, item.task_name)
    holder = session.get(UserAccount, item.completed_by) if item.completed_by else None
    done = (item.completed_at or clock.now())
    task = filling.TaskFacts(item.title, holder.display_name if holder else "PACE Flow",
                             done.date(), profiles.process_name(instance.process_id,
                                                                instance.model.name or "Process"),
                             template.version)
    values = filling.fill(_child_facts(session, child), task, schema, ui,
                          _answers(session, item), clock.today())
    return render(template.name, template.data, values)


def _store(session: Session, child: Subject, item: WorkItem, instance: ProcessInstance,
           template: Template, content: bytes, user: UserAccount,
           reason: str) -> GeneratedDocument:
    title = document_templates.title(template.name, template.data)
    now = clock.now()
    stored = GeneratedDocument(
        subject_id=child.id, instance_id=instance.id, work_item_id=item.id, title=title,
        file_name=_file_name(title, child, now), template_name=template.name,
        template_sha256=hashlib.sha256(template.data).hexdigest(),
        process_id=instance.process_id, process_version=template.version, size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), made_by=user.id, made_at=now,
        reason=reason, content=content)
    session.add(stored)
    session.flush()
    audit.record(session, "document_generated", user.username, subject_id=child.id,
                 instance_id=instance.id, task_id=item.task_id,
                 data={"document": stored.id, "title": title, "name": stored.file_name,
                       "work_item": item.id, "task_title": item.title,
                       "template": template.name, "template_sha256": stored.template_sha256,
                       "process_id": instance.process_id, "version": template.version,
                       "sha256": stored.sha256, "size": stored.size, "reason": reason})
    return stored


def made_on_completion(session: Session, runtime: Runtime, user: UserAccount,
                       item: WorkItem, instance: ProcessInstance) -> GeneratedDocument | None:
    """The task's document, when its version names a template (part of completing it)."""
    template = template_of(instance, item.task_name)
    if template is None:
        return None
    child = session.get(Subject, item.subject_id)
    try:
        content = _fill(session, runtime, child, item, instance, template)
    except TemplateRefused as exc:
        audit.record(session, "document_not_made", user.username, subject_id=child.id,
                     instance_id=instance.id, task_id=item.task_id,
                     data={"work_item": item.id, "template": template.name, "why": str(exc)})
        return None
    return _store(session, child, item, instance, template, content, user, "completed")


def _child(session: Session, actor: Actor, subject_id: int) -> Subject:
    child = session.get(Subject, subject_id)
    if child is None or not policy.can_read_documents(actor, child.team):
        raise NotFound(f"There is no child with id {subject_id} in your teams.")
    return child


def make(session: Session, runtime: Runtime, actor: Actor, item_id: int) -> GeneratedDocument:
    """Make a completed task's document again, from its answers and its version's template."""
    item = session.get(WorkItem, item_id)
    if item is None:
        raise NotFound(f"There is no task {item_id} in your teams.")
    try:
        child = _child(session, actor, item.subject_id)
    except NotFound:
        raise NotFound(f"There is no task {item_id} in your teams.") from None
    if not policy.can_make_document(actor, child.team):
        raise Forbidden("Your role reads a child's documents but does not make them.")
    if item.status != "completed":
        raise Conflict("This task is not completed yet: its document is made when it is.")
    instance = session.get(ProcessInstance, item.instance_id)
    template = template_of(instance, item.task_name)
    if template is None:
        raise Conflict("This task's diagram version has no document to make.")
    user = account(session, actor)
    audit.lock_chain(session, child.id)
    try:
        content = _fill(session, runtime, child, item, instance, template)
    except TemplateRefused as exc:
        raise Conflict(f"The document could not be made: {exc}") from None
    return _store(session, child, item, instance, template, content, user, "on_demand")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def of_child(session: Session, actor: Actor, subject_id: int) -> list[DocumentView]:
    """The child's documents, newest first."""
    child = _child(session, actor, subject_id)
    rows = list(session.scalars(select(GeneratedDocument).where(
        GeneratedDocument.subject_id == child.id)
        .order_by(GeneratedDocument.made_at.desc(), GeneratedDocument.id.desc())))
    names = dict(session.execute(select(UserAccount.id, UserAccount.display_name).where(
        UserAccount.id.in_({r.made_by for r in rows}))).all()) if rows else {}
    return [DocumentView(r.id, r.subject_id, r.title, r.file_name, r.size, r.sha256,
                         r.template_name, r.template_sha256, r.process_version,
                         names.get(r.made_by, "Unknown"), _aware(r.made_at), r.reason,
                         r.work_item_id) for r in rows]


def makeable(session: Session, actor: Actor, subject_id: int) -> list[Makeable]:
    """The child's completed tasks whose document the actor may make (again); none for
    someone who only reads."""
    child = _child(session, actor, subject_id)
    if not policy.can_make_document(actor, child.team):
        return []
    items = session.scalars(select(WorkItem).where(
        WorkItem.subject_id == child.id, WorkItem.status == "completed")
        .order_by(WorkItem.completed_at.desc(), WorkItem.id.desc())).unique().all()
    instances = {i.id: i for i in session.scalars(select(ProcessInstance).where(
        ProcessInstance.id.in_({i.instance_id for i in items})))} if items else {}
    found = []
    for item in items:
        template = template_of(instances[item.instance_id], item.task_name)
        if template is not None:
            found.append(Makeable(item.id, item.title, template.name,
                                  _aware(item.completed_at) if item.completed_at else None))
    return found


def _document(session: Session, actor: Actor, document_id: int) -> GeneratedDocument:
    stored = session.scalars(select(GeneratedDocument).where(
        GeneratedDocument.id == document_id).options(undefer(GeneratedDocument.content))).first()
    missing = NotFound(f"There is no document with id {document_id} in your teams.")
    if stored is None:
        raise missing
    try:
        _child(session, actor, stored.subject_id)
    except NotFound:
        raise missing from None
    return stored


def _read(session: Session, actor: Actor, stored: GeneratedDocument, event: str) -> None:
    audit.lock_chain(session, stored.subject_id)
    audit.record(session, event, actor.username, subject_id=stored.subject_id,
                 instance_id=stored.instance_id,
                 data={"document": stored.id, "title": stored.title, "name": stored.file_name,
                       "sha256": stored.sha256})


def download(session: Session, actor: Actor, document_id: int) -> GeneratedDocument:
    """The .docx with its content, for someone who may see the child; audited."""
    stored = _document(session, actor, document_id)
    _read(session, actor, stored, "document_downloaded")
    return stored


def view(session: Session, actor: Actor, document_id: int) -> tuple[GeneratedDocument,
                                                                     list[Block]]:
    """The same document as headings, paragraphs and tables for the print-friendly page;
    audited as a download is."""
    stored = _document(session, actor, document_id)
    _read(session, actor, stored, "document_viewed")
    return stored, blocks(stored.content)


def subject_of_task(session: Session, actor: Actor, item_id: int) -> int:
    """The child of a task the actor may see (the page goes back to the child's page)."""
    item = session.get(WorkItem, item_id)
    if item is None:
        raise NotFound(f"There is no task {item_id} in your teams.")
    try:
        return _child(session, actor, item.subject_id).id
    except NotFound:
        raise NotFound(f"There is no task {item_id} in your teams.") from None
