"""Auditor pages: search, a child's full timeline, the diagram path, export, verification.

Read-only: every route is a GET and the blueprint holds no form that changes anything.
Scoping comes from ``web.security.access`` (an auditor with no team sees every team). Each view of
a child's record is itself an audit event (``record_viewed`` on the child's chain); the
service-wide views (search, verification, date-range export) are events on the ``system``
chain, so the record of who looked at what is as tamper-evident as the record itself.

The diagram's highlights are computed here, from the instance's audit events and work
items (never from the mutable workflow state), and handed to ``audit-diagram.mjs`` as JSON
in a ``data-`` attribute: the page runs no inline script.
"""
from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user
from lxml import etree
from sqlalchemy import func, or_, select

from engine import audit, audit_export, clock, registry
from engine.models import (AuditChain, AuditEvent, ProcessInstance, ProcessModel, Subject, Timer,
                           UserAccount, WorkItem)
from engine.xml_safety import UnsafeXml, parse_untrusted
from workflows import profiles

from web.shared import query_args
from web.security.access import child_or_404, children_clause, require_roles
from web.shared.database import db

bp = Blueprint("audit", __name__, url_prefix="/audit")
AUDIT_ROLES = frozenset({"auditor"})
PER_PAGE = 100  # timeline events per page
DIAGRAM_ROWS = 500  # a longer process lists one step's events at a time
VERIFY_BATCH = 200  # chains checked per transaction
SEARCH_LIMIT = 50
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"

EVENT_LABELS = {
    "child_registered": "Child registered",
    "child_imported": "Child imported",
    "instance_started": "Process started",
    "instance_completed": "Process ended",
    "instance_migrated": "Moved to a new diagram version",
    "task_ready": "Task ready",
    "task_claimed": "Task claimed",
    "task_released": "Task released",
    "task_reassigned": "Task reassigned",
    "task_completed": "Task completed",
    "task_cancelled": "Task withdrawn",
    "draft_saved": "Draft saved",
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
# Data keys shown elsewhere in a row (the step column, the changes table).
_SHOWN_KEYS = {"task", "title", "changes"}


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
    # (field, its label, before, after)
    changes: list[tuple[str, str, str, str]] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)


class ModelInfo:
    """One diagram version: element names and kinds, flows, and form field labels."""

    def __init__(self, model: ProcessModel):
        self.model = model
        self.names: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self.out: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.by_name: dict[str, str] = {}
        self.starts: list[str] = []
        try:
            root = parse_untrusted(model.bpmn_xml)
        except UnsafeXml:
            return
        for process in root.iter(f"{{{BPMN}}}process"):
            for node in process.iter():
                if not isinstance(node.tag, str):
                    continue
                kind = etree.QName(node).localname
                ident = node.get("id")
                if not ident:
                    continue
                if kind == "sequenceFlow":
                    self.out[node.get("sourceRef")].append((ident, node.get("targetRef")))
                elif node.find(f"{{{BPMN}}}incoming") is not None or \
                        node.find(f"{{{BPMN}}}outgoing") is not None or kind.endswith("Event"):
                    self.kinds[ident] = kind
                    self.names[ident] = (node.get("name") or "").strip() or ident
                    self.by_name.setdefault(self.names[ident], ident)
                    parent = etree.QName(node.getparent()).localname
                    if kind == "startEvent" and parent == "process":
                        self.starts.append(ident)
                    if kind == "boundaryEvent" and node.get("attachedToRef"):
                        # An interrupting timer leaves its host: treat that as a flow.
                        self.out[node.get("attachedToRef")].append(("", ident))
        self._field_labels: dict[str, dict[str, str]] = {}
        self._paths: dict[tuple[str, str], tuple[list[str], list[str]] | None] = {}

    def element_for_timer(self, name: str | None) -> str | None:
        if not name:
            return None
        return name if name in self.kinds else self.by_name.get(name)

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

    # A "recorded" element is one the audit trail names when it is reached or done; the
    # rest (gateways, script tasks, throw events) are passed through and inferred.
    def recorded(self, element: str) -> bool:
        kind = self.kinds.get(element, "")
        return kind in ("userTask", "startEvent", "endEvent", "intermediateCatchEvent",
                        "boundaryEvent", "manualTask")

    def path(self, source: str, target: str) -> tuple[list[str], list[str]] | None:
        """Shortest way from ``source`` to ``target`` through pass-through elements only:
        (flow ids, elements passed), or None when ``target`` cannot follow ``source``."""
        if (source, target) not in self._paths:
            self._paths[(source, target)] = self._search(source, target)
        return self._paths[(source, target)]

    def _search(self, source: str, target: str) -> tuple[list[str], list[str]] | None:
        if source not in self.kinds or target not in self.kinds:
            return None
        queue = deque([(source, [], [])])
        seen = {source}
        while queue:
            node, flows, passed = queue.popleft()
            for flow, nxt in self.out.get(node, ()):
                step_flows = flows + ([flow] if flow else [])
                if nxt == target:
                    return step_flows, passed
                if nxt in seen or nxt not in self.kinds or self.recorded(nxt):
                    continue
                seen.add(nxt)
                queue.append((nxt, step_flows, passed + [nxt]))
        return None


def _element_of(event: AuditEvent, info: ModelInfo | None) -> str | None:
    data = event.data or {}
    if info is None:
        return None
    if event.event_type == "instance_started":
        return info.starts[0] if info.starts else None
    if event.event_type == "instance_completed":
        return data.get("end") if data.get("end") in info.kinds else None
    if event.event_type == "timer_fired":
        return info.element_for_timer(data.get("timer"))
    task = data.get("task")
    return task if isinstance(task, str) and task in info.kinds else None


def _rows(events, infos: dict[int, ModelInfo], instance_model: dict[int, int],
          names: dict[str, str], user_ids: dict[int, str]) -> list[EventRow]:
    rows = []
    for event in events:
        info = infos.get(instance_model.get(event.instance_id))
        data = event.data or {}
        element = _element_of(event, info)
        step = (info.names.get(element) if info and element else None) or data.get("title") \
            or str(data.get("task") or "").replace("_", " ").capitalize()
        actor = names.get(event.actor)
        row = EventRow(event, _label(event.event_type),
                       f"{actor} ({event.actor})" if actor else event.actor, element, step)
        changes = data.get("changes")
        if isinstance(changes, dict):
            for name, pair in changes.items():
                before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
                label = info.field_label(data.get("task"), name) if info else name
                row.changes.append((name, label, _text(before), _text(after)))
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


# -- the diagram: completed path, current tasks, time in each step --------------------------
@dataclass
class Step:
    element: str
    name: str
    ready: datetime | None = None
    claimed: datetime | None = None
    completed: datetime | None = None
    completed_by: str | None = None
    due: str | None = None
    status: str = "open"  # open|completed|withdrawn

    @property
    def taken(self) -> str:
        if self.ready is None:
            return ""
        end = self.completed or (None if self.status != "open" else clock.now())
        return _duration(clock.aware(end) - clock.aware(self.ready)) if end else ""


def diagram_state(info: ModelInfo, events: list[AuditEvent], open_items: list[WorkItem],
                  timers: list[Timer]) -> tuple[dict, list[Step]]:
    """Markers, overlays and the steps of one instance, from its audit events (chain order)."""
    completed: dict[str, int] = defaultdict(int)
    flows: set[str] = set()
    passed: set[str] = set()
    done: list[str] = []  # completion order
    burst: list[str] = []  # started/fired elements whose successors follow directly
    pending: list[str] = []  # reached elements waiting for the completion that follows them
    steps: dict[str, Step] = {}  # per work item occurrence (task id)

    def link(target: str, sources) -> bool:
        for source in sources:
            found = info.path(source, target)
            if found is not None:
                flows.update(found[0])
                passed.update(found[1])
                return True
        return False

    def fallback(target: str) -> None:
        link(target, reversed(done))

    for event in events:
        kind, data = event.event_type, event.data or {}
        element = _element_of(event, info)
        if kind == "instance_started" and element:
            completed[element] += 1
            done.append(element)
            burst = [element]
        elif kind == "timer_fired" and element:
            fallback(element)
            completed[element] += 1
            done.append(element)
            burst = burst + [element] if burst else [element]
        elif kind in ("task_ready", "instance_completed") and element:
            if kind == "instance_completed":
                completed[element] += 1
            if not link(element, reversed(burst)):
                pending.append(element)
        elif kind == "task_completed" and element:
            for target in pending:
                if not link(target, [element]):
                    fallback(target)
            pending = []
            completed[element] += 1
            done.append(element)
            burst = []
        elif kind != "task_cancelled":
            burst = []
        if kind == "task_ready" and element and event.task_id:
            steps[event.task_id] = Step(element, info.names.get(element, element), ready=event.at,
                                        due=data.get("due"))
        step = steps.get(event.task_id) if event.task_id else None
        if step is not None:
            if kind == "task_claimed" and step.claimed is None:
                step.claimed = event.at
            elif kind == "task_completed":
                step.completed, step.completed_by, step.status = event.at, event.actor, "completed"
            elif kind == "task_cancelled":
                step.completed, step.status = event.at, "withdrawn"
    for target in pending:
        fallback(target)

    markers: dict[str, list[str]] = defaultdict(list)
    overlays = []
    for element, count in completed.items():
        markers[element].append("pace-done")
        if info.kinds.get(element) == "userTask":
            overlays.append({"element": element, "kind": "done",
                             "text": f"Done ×{count}" if count > 1 else "Done"})
    for element in passed:
        markers[element].append("pace-passed")
    for flow in flows:
        markers[flow].append("pace-taken")
    for item in open_items:
        if item.task_name in info.kinds:
            markers[item.task_name].append("pace-current")
            overlays.append({"element": item.task_name, "kind": "current",
                             "text": "Claimed" if item.status == "claimed" else "Open now"})
    for timer in timers:
        element = info.element_for_timer(timer.name)
        if element:
            markers[element].append("pace-waiting")
            fallback(element)
            overlays.append({"element": element, "kind": "waiting",
                             "text": f"Waiting until {timer.fire_at:%d %b %Y}"})
    for flow in flows:  # flows linked by the timers above
        if "pace-taken" not in markers[flow]:
            markers[flow].append("pace-taken")
    for element in passed:
        if "pace-passed" not in markers[element] and "pace-done" not in markers[element]:
            markers[element].append("pace-passed")
    state = {"markers": {k: sorted(set(v)) for k, v in markers.items()}, "overlays": overlays,
             "names": info.names}
    return state, list(steps.values())  # in the order the tasks became ready


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
        processes = sorted(session.scalars(select(ProcessModel.process_id).distinct()))
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
        infos = {i.model_id: ModelInfo(i.model) for i in instances}
        rows = _rows(events, infos, instance_model, _usernames(session),
                     _ids_to_usernames(session))
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
        info = ModelInfo(instance.model)
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.chain == audit.chain_for(child.id),
            AuditEvent.instance_id == instance.id).order_by(AuditEvent.chain_seq)).all()
        open_items = session.scalars(select(WorkItem).where(
            WorkItem.instance_id == instance.id, WorkItem.status.in_(("ready", "claimed")))
            .order_by(WorkItem.id)).unique().all()
        timers = session.scalars(select(Timer).where(Timer.instance_id == instance.id)).all()
        state, steps = diagram_state(info, list(events), list(open_items), list(timers))
        names = _usernames(session)
        if element is not None and element not in info.kinds:
            element = None
        total = len(events)
        complete = total <= DIAGRAM_ROWS  # all rows on the page: selecting filters in place
        shown = events
        if not complete:  # one step's events at a time (the timeline pages through them all)
            shown = [e for e in events if _element_of(e, info) == element] if element \
                else events
            shown = shown[:DIAGRAM_ROWS]
        rows = _rows(shown, {instance.model_id: info}, {instance.id: instance.model_id}, names,
                     _ids_to_usernames(session))
        stages = [(i, i.model.name or i.process_id, i.model.version) for i in instances]
        _viewed(session, child.id, "diagram", instance=instance.id,
                **({"element": element} if element else {}))
        elapsed = clock.aware(instance.completed_at or clock.now()) - \
            clock.aware(instance.started_at) if instance.started_at else None
    return render_template(
        "audit/diagram.html", child=child, instance=instance, model=instance.model,
        stages=stages, rows=rows, total=total, complete=complete, steps=steps, names=names,
        element=element,
        element_name=info.names.get(element) if element else None,
        state=state, elapsed=_duration(elapsed),
        end_name=info.names.get(instance.end_event or "", instance.end_event))


def _download(text: str, name: str, fmt: str) -> Response:
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    return Response(text, mimetype=f"{mimetype}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _format() -> str:
    fmt = (request.args.get("format") or "json").lower()
    if fmt not in ("json", "csv"):
        abort(400)
    return fmt


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:60] or "child"


@bp.get("/children/<int:subject_id>/export")
@require_roles(AUDIT_ROLES)
def export_child(subject_id: int):
    fmt = _format()
    with db().transaction() as session:
        child = child_or_404(session, current_user, subject_id)
        rows = audit_export.rows(session, subject_id=child.id)
        _viewed(session, child.id, "export", format=fmt, events=len(rows))
        reference = child.reference
    text = audit_export.to_csv(rows) if fmt == "csv" else audit_export.to_json(rows)
    return _download(text, f"audit-{_safe_name(reference)}-{clock.today():%Y%m%d}", fmt)


def _date_arg(name: str, errors: list[tuple[str, str]], label: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return query_args.parse_day(raw)
    except ValueError:
        errors.append((name, f"{label} must be a real date from 1900 to 2999, like 2026-03-31"))
        return None


@bp.get("/export")
@require_roles(AUDIT_ROLES)
def export_range():
    if not current_user.all_teams:
        abort(403)  # events of every team and the system chain
    errors: list[tuple[str, str]] = []
    since = _date_arg("since", errors, "From date")
    until = _date_arg("until", errors, "To date")
    if since and until and until < since:
        errors.append(("until", "To date must be the same as or after the from date"))
    fmt = request.args.get("format")
    if fmt is None or errors:
        return render_template("audit/export.html", errors=errors,
                               since=request.args.get("since", ""),
                               until=request.args.get("until", ""),
                               page_has_errors=bool(errors)), 400 if errors else 200
    fmt = _format()
    start = clock.aware(datetime(since.year, since.month, since.day)) if since else None
    end = clock.aware(datetime(until.year, until.month, until.day)) + timedelta(days=1) \
        if until else None
    with db().transaction() as session:
        rows = audit_export.rows(session, start=start, end=end)
        _viewed(session, None, "audit_exported", since=since, until=until, format=fmt,
                events=len(rows))
    name = f"audit-{since:%Y%m%d}" if since else "audit-start"
    name += f"-to-{until or clock.today():%Y%m%d}"
    text = audit_export.to_csv(rows) if fmt == "csv" else audit_export.to_json(rows)
    return _download(text, name, fmt)
