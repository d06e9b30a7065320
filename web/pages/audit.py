"""Auditor pages: search, a child's full timeline, the diagram path, export, verification.

Read-only: every route is a GET and the blueprint holds no form that changes anything.
Scoping comes from ``web.security.access`` (an auditor with no team sees every team). Each view of
a child's record is itself an audit event (``record_viewed`` on the child's chain); the
service-wide views (search, verification, date-range export) are events on the ``system``
chain, so the record of who looked at what is as tamper-evident as the record itself.

The diagram's path is replayed by engine/audit/path.py from the instance's audit events,
open work items and timers (never from the mutable workflow state); this module turns it
into the viewer's classes and badges and hands them to ``audit-diagram.mjs`` as JSON in a
``data-`` attribute: the page runs no inline script. The exports' routes are in
web/pages/audit_exports.py, on this blueprint.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from engine import audit, clock, registry
from engine.audit import path
from engine.models import (AuditChain, AuditEvent, ProcessInstance, ProcessModel, Subject, Timer,
                           UserAccount, WorkItem)
from workflows import profiles
from workflows.children.recorded_answers import submitted
from workflows.process_models import lane_names

from web.shared import query_args
from web.security.access import child_or_404, children_clause, require_roles
from web.shared.database import db

bp = Blueprint("audit", __name__, url_prefix="/audit")
AUDIT_ROLES = frozenset({"auditor"})
PER_PAGE = 100  # timeline events per page
DIAGRAM_ROWS = 500  # a longer process lists one step's events at a time
VERIFY_BATCH = 200  # chains checked per transaction
SEARCH_LIMIT = 50

EVENT_LABELS = {
    "child_registered": "Child registered",
    "child_imported": "Child imported",
    "instance_started": "Process started",
    "instance_completed": "Process ended",
    "instance_ended_early": "Journey ended early",
    "instance_migrated": "Moved to a new diagram version",
    "task_ready": "Task ready",
    "task_claimed": "Task claimed",
    "task_released": "Task released",
    "task_reassigned": "Task reassigned",
    "allocated_worker_changed": "Allocated worker changed",
    "task_completed": "Task completed",
    "task_cancelled": "Task withdrawn",
    "draft_saved": "Draft saved",
    "case_note_added": "Case note added",
    "case_note_edited": "Case note changed",
    "attachment_uploaded": "File attached",
    "attachment_downloaded": "File downloaded",
    "document_generated": "Document made",
    "document_not_made": "Document could not be made",
    "document_downloaded": "Document downloaded",
    "document_viewed": "Document read on screen",
    "timer_fired": "Timer fired",
    "reminder_sent": "Reminder sent",
    "escalated": "Escalated",
    "model_deployed": "Diagram version deployed",
    "signed_in": "Signed in",
    "sign_in_failed": "Failed sign-in",
    "sign_in_throttled": "Sign-in refused (too many failures)",  # before issue 30
    "sign_in_blocked": "Sign-in blocked for an address (too many failures)",
    "sign_in_summary": "Failed sign-ins from one address, counted",
    "signed_out": "Signed out",
    "user_created": "User created",
    "api_token_created": "API token created",
    "api_token_revoked": "API token revoked",
    "model_draft_created": "Diagram draft created",
    "model_draft_changed": "Diagram draft changed",
    "aim_settings_changed": "Aim settings changed",
    "pdsa_cycle_recorded": "PDSA cycle recorded",
    "pdsa_cycle_updated": "PDSA cycle updated",
    "run_chart_point_flagged": "Run chart point flagged",
    "run_chart_flag_removed": "Run chart flag removed",
    "record_viewed": "Record viewed by an auditor",
    "audit_searched": "Auditor searched records",
    "audit_verified": "Auditor checked the audit chains",
    "audit_exported": "Auditor exported events",
}
# Data keys shown elsewhere in a row (the step column, the answers table).
_SHOWN_KEYS = {"task", "title", "changes", "answers"}
NO_EARLIER = "–"  # the answers table's "before" when the step had not recorded the field


def _label(event_type: str) -> str:
    return EVENT_LABELS.get(event_type, event_type.replace("_", " ").capitalize())


def _viewed(session, subject_id: int | None, page: str, **data) -> None:
    """Record that the signed-in auditor looked at this (a child's record, or the system's)."""
    if subject_id is not None:
        audit.record(session, "record_viewed", current_user.username, subject_id=subject_id,
                     instance_id=data.pop("instance", None), data={"page": page, **data})
    else:
        audit.record(session, page, current_user.username, data=data)


def _int_arg(name: str) -> int | None:
    return query_args.number(name)  # a 400 page unless a whole number from 1 to MAX_ID


def _usernames(session) -> dict[str, str]:
    return dict(session.execute(select(UserAccount.username, UserAccount.display_name)).all())


def _ids_to_usernames(session) -> dict[int, str]:
    return dict(session.execute(select(UserAccount.id, UserAccount.username)).all())


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (
            f" {hours} hour{'s' if hours != 1 else ''}" if hours and days < 7 else "")
    if hours:
        return f"{hours} hour{'s' if hours != 1 else ''}" + (
            f" {minutes} min" if minutes else "")
    return f"{minutes} min"


def _text(value) -> str:
    """A recorded value as text, exactly (the template escapes it)."""
    if value is None or value == "":
        return "Not set"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# -- events as rows ------------------------------------------------------------------------
@dataclass
class EventRow:
    event: AuditEvent
    label: str
    actor: str
    element: str | None  # the diagram element the event is about
    step: str  # that element's name (or the task's title)
    # (field, its label, before, after): what a completion recorded
    changes: list[tuple[str, str, str, str]] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)


class _Version:
    """One diagram version as the pages read it: its graph (engine/audit/path.py) and the
    labels of its forms' fields."""

    def __init__(self, model: ProcessModel):
        self.model = model
        self.diagram = path.Diagram(model.bpmn_xml)
        self._field_labels: dict[str | None, dict[str, str]] = {}

    def field_label(self, task: str | None, name: str) -> str:
        if task not in self._field_labels:
            labels = {}
            try:
                loaded = registry.load(self.model)
                spec = loaded.spec.task_specs.get(task)
                if spec is not None:
                    props = loaded.form_schema(spec).get("properties", {})
                    labels = {k: str(v.get("title") or k) for k, v in props.items()
                              if isinstance(v, dict)}
            except Exception:  # noqa: BLE001 - a label is a nicety; the field code is shown anyway
                labels = {}
            self._field_labels[task] = labels
        return self._field_labels[task].get(name, name.replace("_", " ").capitalize())


def earlier_answers(completions) -> dict[int, dict]:
    """For each completion (id, instance id, data), oldest first: what the same task of the
    same process recorded the time before, if it was completed before (a loop back, a
    review held again). Only that is a "before": another task's field of the same name is
    another answer, not an edit of this one."""
    last: dict[tuple[int | None, str], dict] = {}
    found = {}
    for event_id, instance_id, data in completions:
        key = (instance_id, str((data or {}).get("task") or ""))
        if key in last:
            found[event_id] = last[key]
        last[key] = submitted(data or {})
    return found


def _earlier(session, chain: str, events) -> dict[int, dict]:
    completions = [e.chain_seq for e in events if e.event_type == "task_completed"]
    if not completions:
        return {}
    return earlier_answers(session.execute(
        select(AuditEvent.id, AuditEvent.instance_id, AuditEvent.data).where(
            AuditEvent.chain == chain, AuditEvent.event_type == "task_completed",
            AuditEvent.chain_seq <= max(completions)).order_by(AuditEvent.chain_seq)).all())


def _rows(events, infos: dict[int, _Version], instance_model: dict[int, int],
          names: dict[str, str], user_ids: dict[int, str],
          earlier: dict[int, dict] | None = None) -> list[EventRow]:
    earlier = earlier or {}
    rows = []
    for event in events:
        info = infos.get(instance_model.get(event.instance_id))
        data = event.data or {}
        element = path.element_of(event, info.diagram if info else None)
        step = (info.diagram.names.get(element) if info and element else None) \
            or data.get("title") \
            or str(data.get("task") or "").replace("_", " ").capitalize()
        actor = names.get(event.actor)
        row = EventRow(event, _label(event.event_type),
                       f"{actor} ({event.actor})" if actor else event.actor, element, step)
        if event.event_type == "task_completed":
            previous = earlier.get(event.id)
            for name, after in submitted(data).items():
                label = info.field_label(data.get("task"), name) if info else name
                changed = previous is not None and previous.get(name) != after
                row.changes.append((name, label, _text(previous.get(name)) if changed
                                    else NO_EARLIER, _text(after)))
        for key, value in data.items():
            if key in _SHOWN_KEYS:
                continue
            if key in ("previous_assignee", "from") and isinstance(value, int):
                value = user_ids.get(value, value)
            elif key in ("role", "to_role") and value in profiles.all_roles():
                value = f"{profiles.role_label(value)} ({value})"
            row.details.append((key.replace("_", " ").capitalize(), _text(value)))
        rows.append(row)
    return rows


# -- the diagram: the replayed path as the viewer's classes and badges ------------------------
def _overlay_text(overlay: path.Overlay) -> str:
    if overlay.kind == "done":
        return f"Done ×{overlay.count}" if overlay.count > 1 else "Done"
    if overlay.kind == "current":
        return "Claimed" if overlay.claimed else "Open now"
    return f"Waiting until {overlay.until:%d %b %Y}"


def diagram_state(diagram: path.Diagram, replayed: path.Replay) -> dict:
    """The JSON for ``audit-diagram.mjs``: element -> CSS classes (``pace-done`` …, styled in
    audit.css), the badges, and the element names."""
    return {"markers": {k: [f"pace-{state}" for state in v] for k, v in replayed.states.items()},
            "overlays": [{"element": o.element, "kind": o.kind, "text": _overlay_text(o)}
                         for o in replayed.overlays],
            "names": diagram.names}


# -- pages --------------------------------------------------------------------------------
@bp.get("")
@require_roles(AUDIT_ROLES)
def index():
    search = (request.args.get("q") or "").strip()[:80]
    process = (request.args.get("process") or "").strip()[:100]
    status = (request.args.get("status") or "").strip()[:20]
    with db().transaction() as session:
        clause = children_clause(current_user)
        children_query = select(Subject).where(clause)
        instances_query = select(ProcessInstance).join(Subject).where(clause)
        if search:
            pattern = f"%{search.lower()}%"
            match = func.lower(Subject.reference).like(pattern) | \
                func.lower(Subject.display_name).like(pattern)
            children_query = children_query.where(match)
            number = search.lstrip("#")
            instances_query = instances_query.where(
                or_(match, ProcessInstance.id == int(number)) if number.isdigit()
                and len(number) < 12 else match)
        if process:
            instances_query = instances_query.where(ProcessInstance.process_id == process)
        if status:
            instances_query = instances_query.where(ProcessInstance.status == status)
        child_total = session.scalar(select(func.count()).select_from(children_query.subquery()))
        children = session.scalars(children_query.order_by(Subject.reference)
                                   .limit(SEARCH_LIMIT)).all()
        instance_total = session.scalar(select(func.count())
                                        .select_from(instances_query.subquery()))
        instances = session.scalars(instances_query.order_by(ProcessInstance.id.desc())
                                    .limit(SEARCH_LIMIT)).unique().all()
        rows = [(i, i.subject, i.model.name or i.process_id, i.model.version) for i in instances]
        processes = sorted(((pid, profiles.process_name(pid, name or "Process"))
                            for pid, name in session.execute(select(
                                ProcessModel.process_id, func.max(ProcessModel.name))
                                .group_by(ProcessModel.process_id))), key=lambda p: p[1])
        _viewed(session, None, "audit_searched", q=search, process=process, status=status)
    return render_template("audit/index.html", search=search, process=process,
                           status=status, children=children, child_total=child_total,
                           instances=rows, instance_total=instance_total,
                           processes=processes, limit=SEARCH_LIMIT)


@bp.get("/verify")
@require_roles(AUDIT_ROLES)
def verify():
    subject_id = _int_arg("child")
    with db().transaction() as session:
        child = child_or_404(session, current_user, subject_id) if subject_id else None
        if child is None and not current_user.all_teams:
            abort(403)  # the whole store spans every team
        chains = [audit.chain_for(child.id)] if child else sorted(
            set(session.scalars(select(AuditChain.chain)))
            | set(session.scalars(select(AuditEvent.chain).distinct())))
    broken, checked = None, 0
    for start in range(0, len(chains), VERIFY_BATCH):
        # A batch of chains per transaction: on SQLite every transaction holds the write
        # lock, so checking a large store in one would stall the workers for its duration.
        batch = chains[start:start + VERIFY_BATCH]
        with db().transaction() as session:
            broken = audit.verify(session, batch)
            checked += session.scalar(select(func.count()).select_from(AuditEvent)
                                      .where(AuditEvent.chain.in_(batch))) or 0
        if broken:
            break
    with db().transaction() as session:
        link = None
        if broken and broken.chain.startswith("subject:") and broken.chain[8:].isdigit():
            target = int(broken.chain[8:])
            seq = broken.chain_seq or 1
            link = url_for("audit.timeline", subject_id=target,
                           page=(max(seq, 1) - 1) // PER_PAGE + 1) + f"#event-{seq}"
        result = {"intact": broken is None, "events": checked,
                  **({"broken": str(broken)} if broken else {})}
        if child:
            _viewed(session, child.id, "verify", **result)
        else:
            _viewed(session, None, "audit_verified", **result)
    return render_template("audit/verify.html", child=child, broken=broken, checked=checked,
                           link=link, checked_at=clock.now())


@bp.get("/children/<int:subject_id>")
@require_roles(AUDIT_ROLES)
def timeline(subject_id: int):
    number = _int_arg("page") or 1
    with db().transaction() as session:
        child = child_or_404(session, current_user, subject_id)
        chain = audit.chain_for(child.id)
        total = session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.chain == chain)) or 0
        pages = max(1, -(-total // PER_PAGE))
        number = min(number, pages)
        events = session.scalars(select(AuditEvent).where(AuditEvent.chain == chain)
                                 .order_by(AuditEvent.chain_seq).limit(PER_PAGE)
                                 .offset((number - 1) * PER_PAGE)).all()
        instances = session.scalars(select(ProcessInstance).where(
            ProcessInstance.subject_id == child.id).order_by(ProcessInstance.id)).all()
        instance_model = {i.id: i.model_id for i in instances}
        infos = {i.model_id: _Version(i.model) for i in instances}
        rows = _rows(events, infos, instance_model, _usernames(session),
                     _ids_to_usernames(session), _earlier(session, chain, events))
        stages = [(i, i.model.name or i.process_id, i.model.version) for i in instances]
        _viewed(session, child.id, "timeline", page_number=number)
    return render_template(
        "audit/timeline.html", child=child, rows=rows, stages=stages, total=total,
        page={"page": number, "pages": pages},
        page_link=lambda n: url_for("audit.timeline", subject_id=child.id,
                                    **({"page": n} if n > 1 else {})))


@bp.get("/children/<int:subject_id>/diagram")
@require_roles(AUDIT_ROLES)
def diagram(subject_id: int):
    wanted = _int_arg("instance")
    element = (request.args.get("element") or "").strip()[:100] or None
    with db().transaction() as session:
        child = child_or_404(session, current_user, subject_id)
        instances = session.scalars(select(ProcessInstance).where(
            ProcessInstance.subject_id == child.id).order_by(ProcessInstance.id)).all()
        if not instances:
            abort(404)
        if wanted is None:
            instance = instances[-1]
        else:
            instance = next((i for i in instances if i.id == wanted), None)
            if instance is None:
                abort(404)
        info = _Version(instance.model)
        graph = info.diagram
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.chain == audit.chain_for(child.id),
            AuditEvent.instance_id == instance.id).order_by(AuditEvent.chain_seq)).all()
        open_items = session.scalars(select(WorkItem).where(
            WorkItem.instance_id == instance.id, WorkItem.status.in_(("ready", "claimed")))
            .order_by(WorkItem.id)).unique().all()
        timers = session.scalars(select(Timer).where(Timer.instance_id == instance.id)).all()
        replayed = path.replay(graph, events, open_items, timers)
        state, steps = diagram_state(graph, replayed), replayed.steps
        names = _usernames(session)
        if element is not None and element not in graph.kinds:
            element = None
        total = len(events)
        complete = total <= DIAGRAM_ROWS  # all rows on the page: selecting filters in place
        shown = events
        if not complete:  # one step's events at a time (the timeline pages through them all)
            shown = [e for e in events if path.element_of(e, graph) == element] if element \
                else events
            shown = shown[:DIAGRAM_ROWS]
        rows = _rows(shown, {instance.model_id: info}, {instance.id: instance.model_id}, names,
                     _ids_to_usernames(session),
                     _earlier(session, audit.chain_for(child.id), shown))
        stages = [(i, i.model.name or i.process_id, i.model.version) for i in instances]
        _viewed(session, child.id, "diagram", instance=instance.id,
                **({"element": element} if element else {}))
        elapsed = clock.aware(instance.completed_at or clock.now()) - \
            clock.aware(instance.started_at) if instance.started_at else None
    return render_template(
        "audit/diagram.html", child=child, instance=instance, model=instance.model,
        bpmn=lane_names.with_role_names(instance.model.bpmn_xml, instance.process_id),
        stages=stages, rows=rows, total=total, complete=complete, steps=steps, names=names,
        element=element,
        element_name=graph.names.get(element) if element else None,
        state=state, elapsed=_duration(elapsed),
        end_name=graph.names.get(instance.end_event or "", instance.end_event),
        duration=_duration)
