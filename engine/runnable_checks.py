"""What a diagram may hold for the engine to run it safely, checked before it is deployed.

A diagram can be valid BPMN and still hurt the children on it or the server: a task that
waits for a message nothing sends leaves the child stuck for ever; a loop with nothing on
it that waits for a person or a date runs until SpiffWorkflow loses track of the child; an
end event that starts its own process again starts children without end; a very large
diagram takes long enough to check that the web server gives up on the request, and a long
chain of steps exhausts Python's recursion limit in SpiffWorkflow's parser (which follows
the flow from the start event recursively). Each check returns ``Found`` tuples (element
id, line, message), the fields of a registry ``Problem``; each message says why and what to
draw instead.
"""
from __future__ import annotations

import ast
import difflib
import json
from collections.abc import Callable, Iterable, Mapping

import networkx
from lxml import etree

from .expressions import UnsafeExpression, check_expression

Found = tuple[str, "int | None", str]  # element id, line, message: a registry Problem's fields

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"

# Limits. The largest allowed diagram is checked and deployed well within 2 s (bench/
# model_checks.py); the chain limit keeps SpiffWorkflow's recursive parser (two frames per
# step) and the engine's task tree (which SpiffWorkflow walks only 1,000 deep) far from
# their limits, whatever stack the caller already uses.
MAX_FLOW_ELEMENTS = 1000  # tasks, events, gateways and subprocesses in one file
MAX_CHAIN = 300  # steps one after another, as the parser follows them from a start event

_FLOW_NODES = frozenset({
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "inclusiveGateway", "parallelGateway",
    "eventBasedGateway", "complexGateway"})

# Elements the engine cannot run: why, and what to draw instead.
_UNSUPPORTED_TASKS = {
    "serviceTask": ("is a service task: PACE Flow calls no services, so a child reaching it "
                    "would stop with an error", "draw a user task in which a worker does it "
                    "and records the result"),
    "sendTask": ("is a send task: PACE Flow sends no messages between processes",
                 "draw a user task in which a worker sends it, or delete the task"),
    "receiveTask": ("is a receive task: it waits for a message that nothing in PACE Flow "
                    "sends, so the child would wait for ever", "draw a user task in which a "
                    "worker records what arrived, or a timer"),
    "businessRuleTask": ("is a business rule task: PACE Flow runs no DMN decision tables",
                         "draw an exclusive gateway with conditions on form fields"),
    "callActivity": ("is a call activity: PACE Flow does not run one process inside another "
                     "(none of its shipped diagrams does)", "draw the steps in this process "
                     "(group them in an embedded subprocess if you like), or end this process "
                     "with an end event whose startsProcess property starts the other one"),
}
_UNSUPPORTED_EVENTS = {
    "messageEventDefinition": "a message",
    "signalEventDefinition": "a signal",
    "conditionalEventDefinition": "a condition to become true",
    "escalationEventDefinition": "an escalation",
}
_CATCHING = ("startEvent", "intermediateCatchEvent", "boundaryEvent")


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _found(node, message: str) -> Found:
    return node.get("id") or "", node.sourceline, message


_FLOW_NODE_TAGS = tuple(f"{{{_BPMN}}}{name}" for name in sorted(_FLOW_NODES))


def _flow_nodes(root) -> list:
    """Every flow node in document order (lxml filters the tags itself: this runs on
    diagrams of up to MAX_FLOW_ELEMENTS several times per check)."""
    return list(root.iter(*_FLOW_NODE_TAGS))


def size_problems(root) -> list[Found]:
    """Too many elements, or too long a chain: checked first, so that a huge diagram is
    refused at once instead of after the slower checks."""
    nodes = _flow_nodes(root)
    if len(nodes) > MAX_FLOW_ELEMENTS:
        return [("", None, f"the diagram has {len(nodes):,} tasks, events and gateways; the "
                           f"limit is {MAX_FLOW_ELEMENTS:,}: split the process into several "
                           "processes, each ending with an end event whose startsProcess "
                           "property starts the next")]
    depth, past_limit = _longest_chain(root)
    if past_limit is not None:
        return [_found(past_limit, f"is step {MAX_CHAIN + 1} of a chain of {depth} steps one "
                                   f"after another; the limit is {MAX_CHAIN}: split the "
                                   "process at this step into several "
                                "processes, each ending with an end event whose "
                                "startsProcess property starts the next")]
    return []


def _successors(root) -> dict[str, list[str]]:
    """Each flow node's successors in document order, as SpiffWorkflow's parser follows
    them: its outgoing sequence flows and its boundary events."""
    following: dict[str, list[str]] = {}
    for flow in root.iter(f"{{{_BPMN}}}sequenceFlow"):
        following.setdefault(flow.get("sourceRef") or "", []).append(flow.get("targetRef") or "")
    for event in root.iter(f"{{{_BPMN}}}boundaryEvent"):
        following.setdefault(event.get("attachedToRef") or "", []).append(event.get("id") or "")
    return following


def _longest_chain(root) -> tuple[int, object]:
    """The depth of a depth-first walk from every start event (the parser's recursion),
    found without recursion; (depth, the first element past MAX_CHAIN or None)."""
    by_id = {n.get("id"): n for n in _flow_nodes(root)}
    following = _successors(root)
    best, where, seen = 0, None, set()
    for start in root.iter(f"{{{_BPMN}}}startEvent"):
        stack = [(start.get("id"), 1)]
        while stack:
            node_id, depth = stack.pop()
            if node_id in seen or node_id not in by_id:
                continue
            seen.add(node_id)
            best = max(best, depth)
            if depth == MAX_CHAIN + 1 and where is None:
                where = by_id[node_id]
            stack.extend((target, depth + 1) for target in reversed(following.get(node_id, [])))
    return best, where


def construct_problems(root) -> list[Found]:
    """Tasks and catch events nothing in PACE Flow can complete or trigger."""
    found = []
    for name, (why, instead) in _UNSUPPORTED_TASKS.items():
        for node in root.iter(f"{{{_BPMN}}}{name}"):
            found.append(_found(node, f"{why}; {instead}"))
    for kind in _CATCHING:
        for node in root.iter(f"{{{_BPMN}}}{kind}"):
            for definition in node:
                waits_for = _UNSUPPORTED_EVENTS.get(_local(definition))
                if waits_for:
                    what = kind.replace("Event", " event").replace("intermediateCatch",
                                                                   "intermediate catch")
                    found.append(_found(node, f"is a {what} waiting for {waits_for}, which "
                                              "nothing in PACE Flow sends, so the child would "
                                              "wait for ever; draw a timer event (a due rule "
                                              "such as LA_START+6w), or a user task in which a "
                                              "worker records what happened"))
    return found


def _waits(node) -> bool:
    """Whether a child stops at this element until a person or a date moves it on."""
    kind = _local(node)
    if kind in ("userTask", "manualTask"):
        return True
    if kind in ("intermediateCatchEvent", "boundaryEvent"):
        return node.find(f"{{{_BPMN}}}timerEventDefinition") is not None
    if kind in ("subProcess", "transaction", "adHocSubProcess"):
        return any(_waits(inner) for inner in node.iterdescendants(f"{{{_BPMN}}}*")
                   if _local(inner) in ("userTask", "manualTask", "intermediateCatchEvent"))
    return False


def loop_problems(root) -> list[Found]:
    """Loops in the flow with no element on them that waits for a person or a date."""
    nodes = {n.get("id"): n for n in _flow_nodes(root) if n.get("id")}
    graph = networkx.DiGraph()
    for source, targets in _successors(root).items():
        for target in targets:
            if source in nodes and target in nodes \
                    and not _waits(nodes[source]) and not _waits(nodes[target]):
                graph.add_edge(source, target)
    order = {node_id: index for index, node_id in enumerate(nodes)}
    found = []
    for component in networkx.strongly_connected_components(graph):
        if len(component) == 1 and not any(graph.has_edge(n, n) for n in component):
            continue
        members = sorted(component, key=order.__getitem__)
        first = nodes[members[0]]
        names = ", ".join(members[:8]) + (" …" if len(members) > 8 else "")
        found.append(_found(first, f"is on a loop ({names}) with no user task or timer on it: a "
                                   "child reaching it would go round it without stopping until "
                                   "the engine gives up; put a user task or a timer event on "
                                   "the loop, or take the loop out"))
    return found


def starts_process(root) -> list[tuple[object, str]]:
    """(end event, process id) for each end event whose startsProcess property starts a
    process for the same child."""
    found = []
    for end in root.iter(f"{{{_BPMN}}}endEvent"):
        for prop in end.iterfind(f"{{{_BPMN}}}extensionElements/{{{_SPIFF}}}properties/"
                                 f"{{{_SPIFF}}}property"):
            if prop.get("name") == "startsProcess" and (prop.get("value") or "").strip():
                found.append((end, prop.get("value").strip()))
    return found


def start_cycle_problems(root, process_id: str,
                         started_by: Callable[[str], Iterable[str]] = lambda _p: ()) -> list[Found]:
    """End events whose ``startsProcess`` leads back to this process: directly, or through
    the deployed processes it starts (``started_by(p)``: the processes p's latest version
    starts). Each would start a new instance of this process for the child as the last one
    ended, for ever, since there is no end event that stops it."""
    found = []
    for end, target in starts_process(root):
        path = _path_back(target, process_id, started_by)
        if path is not None:
            chain = " → ".join([process_id, *path])
            found.append(_found(end, f"startsProcess {target!r} starts this process again "
                                     f"({chain}), so every child reaching this end would start "
                                     "it anew without end; to repeat steps, draw a sequence "
                                     "flow back to them (through a user task or timer), or "
                                     "start a different process"))
    return found


def _path_back(first: str, home: str, started_by) -> list[str] | None:
    """The processes from ``first`` back to ``home`` along startsProcess, or None."""
    came_from: dict[str, str | None] = {first: None}
    queue = [first]
    while queue:
        current = queue.pop(0)
        if current == home:
            path = []
            while current is not None:
                path.append(current)
                current = came_from[current]
            return path[::-1]
        for following in started_by(current):
            if following not in came_from:
                came_from[following] = current
                queue.append(following)
    return None


# -- names a condition reads -------------------------------------------------------------
# The sandbox evaluates a condition over the child's data alone (engine/expressions.py: no
# builtins, no names of its own), so every name it reads must have been put there before the
# child reaches it: by the form of a task the child has done, or by the start data. Nothing
# is built in: True, False and None are constants, not names.
BUILT_IN_NAMES: frozenset[str] = frozenset()
_SUBPROCESSES = ("subProcess", "transaction", "adHocSubProcess")
_FORM_COMBINATORS = ("allOf", "anyOf", "oneOf", "if", "then", "else")


def form_fields(text: str) -> set[str]:
    """The names a form puts in the child's data: its top-level properties, with those its
    conditional parts (``if``/``then``, ``allOf`` …) add; not the fields inside an object
    field, which the data holds under that field's name."""
    try:
        schema = json.loads(text)
    except ValueError:
        return set()  # reported by the form check
    found: set[str] = set()
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if isinstance(item.get("properties"), dict):
                found.update(k for k in item["properties"] if isinstance(k, str))
            stack.extend(item[key] for key in _FORM_COMBINATORS if key in item)
    return found


def _property(node, name: str) -> str:
    for prop in node.iterfind(f"{{{_BPMN}}}extensionElements/{{{_SPIFF}}}properties/"
                              f"{{{_SPIFF}}}property"):
        if prop.get("name") == name:
            return (prop.get("value") or "").strip()
    return ""


def _flow_graph(root) -> networkx.DiGraph:
    """Which element a child can have finished before it reaches which: each element as
    (id, "in") when the child reaches it and (id, "out") when it has finished it (its form
    answered); the sequence flows from "out" to "in", a boundary event from its task's "in"
    (it fires while the task is open, unanswered), and into and out of each subprocess (to
    the steps inside it that nothing leads to, from those that lead nowhere)."""
    graph = networkx.DiGraph()
    following = _successors(root)
    boundaries = {event.get("id") for event in root.iter(f"{{{_BPMN}}}boundaryEvent")}
    led_to = {target for targets in following.values() for target in targets}
    for node in _flow_nodes(root):
        graph.add_edge((node.get("id"), "in"), (node.get("id"), "out"))
    for source, targets in following.items():
        graph.add_edges_from(((source, "in") if target in boundaries else (source, "out"),
                              (target, "in")) for target in targets)
    for sub in root.iter(*(f"{{{_BPMN}}}{kind}" for kind in _SUBPROCESSES)):
        for inner in sub:
            inner_id = inner.get("id")
            if _local(inner) not in _FLOW_NODES:
                continue
            if inner_id not in led_to:
                graph.add_edge((sub.get("id"), "in"), (inner_id, "in"))
            if inner_id not in following:
                graph.add_edge((inner_id, "out"), (sub.get("id"), "out"))
    return graph


def _reads(text: str) -> list[str]:
    """The names an expression reads, in the order written; none for one the sandbox refuses (the
    expression check reports it)."""
    try:
        tree = check_expression(text)
    except UnsafeExpression:
        return []
    names = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Name)),
                   key=lambda node: (node.lineno, node.col_offset))  # as written
    return list(dict.fromkeys(node.id for node in names))


def _expressions(root) -> Iterable[tuple[object, str, str, str]]:
    """(element named, the element the child is at when it is read, what, text) for each
    gateway condition and milestoneWhen."""
    for node in root.iter(f"{{{_BPMN}}}conditionExpression"):
        flow = node.getparent()
        yield flow, flow.get("sourceRef"), "condition", (node.text or "").strip()
    for node in _flow_nodes(root):
        if when := _property(node, "milestoneWhen"):
            yield node, node.get("id"), "milestoneWhen", when


def condition_name_problems(root, forms: Mapping[str, str],
                            start_data: Iterable[str]) -> list[Found]:
    """Each name a condition or milestoneWhen reads that neither the start data (the
    process's own, and each start event's milestoneDateField) nor the form of a task the
    child passes before it records: a child reaching it would stop with an error."""
    started = set(start_data) | BUILT_IN_NAMES | {
        field for event in root.iter(f"{{{_BPMN}}}startEvent")
        if (field := _property(event, "milestoneDateField"))}
    recorders: dict[str, set[str]] = {}  # element id -> names its form records
    for node in _flow_nodes(root):
        form = _property(node, "formJsonSchemaFilename")
        if form in forms:
            recorders[node.get("id")] = form_fields(forms[form])
    graph = _flow_graph(root)
    found = []
    for element, at, what, text in _expressions(root):
        done = (at, "out")
        before = {e for e, stage in networkx.ancestors(graph, done) | {done} if stage == "out"} \
            if done in graph else set()  # a condition outside a sequence flow: from nothing
        known = started.union(*(recorders[e] for e in before if e in recorders))
        for name in _reads(text):
            if name in known:
                continue
            later = sorted(e for e, names in recorders.items() if name in names)
            why = (f"only the form of {', '.join(later[:3])} records, after this point" if later
                   else "no form of this process and none of its start data records")
            found.append(_found(element, f"{what} {text!r} reads {name}, which {why}, so a "
                                         f"child reaching it would stop with an error"
                                         f"{_nearest(name, known)}: correct the name, or add "
                                         "the field to the form of a task before it"))
    return found


def _nearest(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    if close:
        return f" (did you mean {' or '.join(close)}?)"
    listed = ", ".join(sorted(known)[:12]) + (" …" if len(known) > 12 else "")
    return f" (recorded before it: {listed})" if known else " (nothing is recorded before it)"


def problems(root, process_id: str) -> list[Found]:
    """Everything in the diagram alone that the engine cannot run safely."""
    return construct_problems(root) + loop_problems(root) + start_cycle_problems(root, process_id)
