"""The path of one process instance through its diagram, replayed from the audit trail.

``Diagram`` reads a process-model version's BPMN (with the hardened parser,
engine/xml_safety.py) into a graph: element names and kinds, sequence flows, start events.
``replay`` walks one instance's audit events (chain order) through that graph and says which
elements were done (and how often), which were passed through on the way (gateways, script
tasks, throw events: the trail does not name them, so they are inferred as the shortest way
between two recorded elements), which flows were taken, which tasks are open and which
timers are waiting; plus one ``Step`` per task occurrence with its times.

Everything comes from the append-only audit events and the open work items and timers,
never from the mutable workflow state. The result names states, not styles: the caller
decides how "done", "passed", "taken", "current" and "waiting" look.
"""
from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lxml import etree

from .. import clock
from ..models import AuditEvent, Timer, WorkItem
from ..xml_safety import UnsafeXml, parse_untrusted

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# Elements the audit trail names when they are reached or done; the rest (gateways, script
# tasks, throw events) are passed through and inferred.
RECORDED_KINDS = frozenset({"userTask", "startEvent", "endEvent", "intermediateCatchEvent",
                            "boundaryEvent", "manualTask"})


class Diagram:
    """One diagram version as a graph: element names and kinds, flows, start events.

    A diagram that does not parse safely is an empty graph (nothing is highlighted)."""

    def __init__(self, bpmn_xml: str):
        self.names: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self.out: dict[str, list[tuple[str, str]]] = defaultdict(list)  # (flow id, target)
        self.by_name: dict[str, str] = {}
        self.starts: list[str] = []
        self._paths: dict[tuple[str, str], tuple[list[str], list[str]] | None] = {}
        try:
            root = parse_untrusted(bpmn_xml)
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

    def element_for_timer(self, name: str | None) -> str | None:
        """The element a timer belongs to (timers are named by element id or element name)."""
        if not name:
            return None
        return name if name in self.kinds else self.by_name.get(name)

    def recorded(self, element: str) -> bool:
        return self.kinds.get(element, "") in RECORDED_KINDS

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


def element_of(event: AuditEvent, diagram: Diagram | None) -> str | None:
    """The diagram element an audit event is about, if any."""
    data = event.data or {}
    if diagram is None:
        return None
    if event.event_type == "instance_started":
        return diagram.starts[0] if diagram.starts else None
    if event.event_type == "instance_completed":
        return data.get("end") if data.get("end") in diagram.kinds else None
    if event.event_type == "timer_fired":
        return diagram.element_for_timer(data.get("timer"))
    task = data.get("task")
    return task if isinstance(task, str) and task in diagram.kinds else None


@dataclass
class Step:
    """One occurrence of a task: when it became ready, was claimed and ended, and by whom."""
    element: str
    name: str
    ready: datetime | None = None
    claimed: datetime | None = None
    completed: datetime | None = None
    completed_by: str | None = None
    due: str | None = None
    status: str = "open"  # open|completed|withdrawn

    @property
    def elapsed(self) -> timedelta | None:
        """Ready to ended (or to now while open); None when never ready or ended unrecorded."""
        if self.ready is None:
            return None
        end = self.completed or (None if self.status != "open" else clock.now())
        return clock.aware(end) - clock.aware(self.ready) if end else None


@dataclass
class Overlay:
    """A badge on one element: ``done`` (``count`` times), ``current`` (``claimed`` or not)
    or ``waiting`` (``until`` a timer fires)."""
    element: str
    kind: str
    count: int = 0
    claimed: bool = False
    until: datetime | None = None


@dataclass
class Replay:
    """Element or flow id -> its states (sorted: "current", "done", "passed", "taken",
    "waiting"), the badges, and the task occurrences in the order they became ready."""
    states: dict[str, list[str]]
    overlays: list[Overlay] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def replay(diagram: Diagram, events: Iterable[AuditEvent], open_items: Sequence[WorkItem] = (),
           timers: Sequence[Timer] = ()) -> Replay:
    """Replay one instance's audit events (chain order) through its diagram."""
    completed: dict[str, int] = defaultdict(int)
    flows: set[str] = set()
    passed: set[str] = set()
    done: list[str] = []  # completion order
    burst: list[str] = []  # started/fired elements whose successors follow directly
    pending: list[str] = []  # reached elements waiting for the completion that follows them
    steps: dict[str, Step] = {}  # per work item occurrence (task id)

    def link(target: str, sources) -> bool:
        for source in sources:
            found = diagram.path(source, target)
            if found is not None:
                flows.update(found[0])
                passed.update(found[1])
                return True
        return False

    def fallback(target: str) -> None:
        link(target, reversed(done))

    for event in events:
        kind, data = event.event_type, event.data or {}
        element = element_of(event, diagram)
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
            steps[event.task_id] = Step(element, diagram.names.get(element, element),
                                        ready=event.at, due=data.get("due"))
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

    states: dict[str, set[str]] = defaultdict(set)
    overlays = []
    for element, count in completed.items():
        states[element].add("done")
        if diagram.kinds.get(element) == "userTask":
            overlays.append(Overlay(element, "done", count=count))
    for element in passed:
        states[element].add("passed")
    for item in open_items:
        if item.task_name in diagram.kinds:
            states[item.task_name].add("current")
            overlays.append(Overlay(item.task_name, "current", claimed=item.status == "claimed"))
    for timer in timers:
        element = diagram.element_for_timer(timer.name)
        if element:
            states[element].add("waiting")
            fallback(element)  # the way to a waiting timer was taken too
            overlays.append(Overlay(element, "waiting", until=timer.fire_at))
    for flow in flows:  # with those linked by the timers above
        states[flow].add("taken")
    for element in passed:  # passed on the way to a timer, unless done
        if "done" not in states[element]:
            states[element].add("passed")
    return Replay({k: sorted(v) for k, v in states.items()}, overlays, list(steps.values()))
