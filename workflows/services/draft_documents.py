"""A draft's Word templates, for the process owner: which tasks name each, the placeholders
it uses checked against those tasks' forms, removing one, and a preview filled in for a demo
child. Templates are added or replaced with the draft's other files
(``process_models.add_files``: a .docx is read safely before it is stored) and deployed with
the version (``model_deployment.deploy_draft``), whose check refuses any problem listed here.
"""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Forbidden, NotFound
from engine.registry import NS
from engine.xml_safety import UnsafeXml, parse_untrusted

from .. import policy
from ..sample_answers import fill as demo_answers
from ..documents import context as filling
from ..documents.html_view import Block, blocks
from ..policy import Actor
from ..process_models import document_templates, drafts as model_drafts
from ..process_models.model_validation import process_name
from . import process_models

DEMO_CHILD = filling.ChildFacts("Demo Child", "DEMO-0001", date(2016, 5, 14), "Demo team",
                                "Demo Worker")


@dataclass(frozen=True)
class TemplateCheck:
    name: str
    size: int
    sha256: str
    tasks: tuple[str, ...]          # the user tasks naming it (their names)
    placeholders: tuple[str, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    name: str
    content: bytes | None           # the filled .docx, None when the template has problems
    blocks: list[Block] = field(default_factory=list)
    problems: tuple[str, ...] = ()


def _users(bpmn_xml: str, name: str) -> list[tuple[str, str]]:
    """(task name, form file) of each user task whose document property names ``name``."""
    try:
        root = parse_untrusted(bpmn_xml)
    except UnsafeXml:
        return []
    found = []
    for task in root.iter(f"{{{NS['bpmn']}}}userTask"):
        props = {p.get("name"): p.get("value") or "" for p in task.iterfind(
            "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}
        if props.get("document", "").strip() == name:
            found.append((task.get("name") or task.get("id") or "",
                          props.get("formJsonSchemaFilename", "")))
    return found


def _schema(draft, form: str) -> dict:
    try:
        schema = json.loads((draft.forms or {}).get(form) or "{}")
    except json.JSONDecodeError:
        return {}
    return schema if isinstance(schema, dict) else {}


def _check(draft, name: str, data: bytes) -> TemplateCheck:
    users = _users(draft.bpmn_xml, name)
    problems = []
    for _task, form in users:
        problems += [p for p in document_templates.check(name, data, _schema(draft, form), form)
                     if p not in problems]
    if not users:
        problems += [p for p in document_templates.check(name, data, {}, "")
                     if "not a field" not in p]
    return TemplateCheck(name, len(data), hashlib.sha256(data).hexdigest(),
                         tuple(task for task, _ in users),
                         tuple(document_templates.placeholders(data)), tuple(problems))


def templates(session: Session, actor: Actor, draft_id: int) -> list[TemplateCheck]:
    """Each of the draft's templates with its tasks, placeholders and problems."""
    draft = process_models.get_draft(session, actor, draft_id, open_only=False)
    return [_check(draft, name, data) for name, data in sorted(draft.bundle().documents.items())]


def remove_template(session: Session, actor: Actor, draft_id: int, name: str) -> None:
    draft = process_models.open_draft_to_change(session, actor, draft_id)
    model_drafts.remove_document(session, draft, name, actor.username)


def preview(session: Session, actor: Actor, draft_id: int, name: str) -> Preview:
    """The template filled in for a demo child with made-up answers to its task's form;
    nothing is stored and no child's record is touched."""
    if not policy.can_preview_templates(actor):
        raise Forbidden("Only process owners preview Word templates.")
    draft = process_models.get_draft(session, actor, draft_id, open_only=False)
    data = draft.bundle().documents.get(name)
    if data is None:
        raise NotFound(f"This draft has no Word template {name!r}.")
    check = _check(draft, name, data)
    if check.problems:
        return Preview(name, None, [], check.problems)
    users = _users(draft.bpmn_xml, name)
    form = users[0][1] if users else ""
    schema = _schema(draft, form)
    today = clock.today()
    task = filling.TaskFacts(users[0][0] if users else name, "Demo Worker", today,
                             process_name(draft.process_id), draft.base_version or 0)
    answers = demo_answers(schema, today, random.Random(28)) if schema else {}
    values = filling.fill(DEMO_CHILD, task, schema, {}, answers, today)
    try:
        content = document_templates.render(name, data, values)
    except document_templates.TemplateRefused as exc:
        return Preview(name, None, [], (str(exc),))
    return Preview(name, content, blocks(content))
