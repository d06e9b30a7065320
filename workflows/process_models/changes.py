"""A process owner's change, step by step: validate a draft, compare it with the deployed
version, deploy it (linked to a PDSA cycle), then move running children to it.

Validation is ``engine.registry.parse_bundle`` with the process's profile (its lanes, the
PACE due-rule grammar); every problem is shown with the element, its line and a fix in plain
English. Migration is ``engine.migration``: a dry run per child, then each child moved in
its own transaction, so one child that cannot move never holds back (or half-moves) another.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import migration, registry
from engine.errors import Conflict, NotFound
from engine.models import ProcessInstance, ProcessModel, Subject, Timer, WorkItem
from engine.registry import NS, InvalidModel, ModelBundle, Problem, ValidationContext
from engine.xml_safety import UnsafeXml, parse_untrusted

from workflows.measures import pdsa
from workflows import profiles
from workflows.measures.tables import PdsaCycle

log = logging.getLogger(__name__)

# The PACE properties the editor and the properties form offer, in this order.
PACE_PROPERTIES = {
    "due": "Due rule",
    "remind": "Reminder",
    "escalate": "Escalation",
    "milestone": "Milestone",
    "formJsonSchemaFilename": "Form file",
    "formUiSchemaFilename": "Form layout file",
}
FLOW_NODES = ("userTask", "task", "manualTask", "startEvent", "endEvent",
              "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
CAMUNDA = ("http://camunda.org/schema/1.0/bpmn", "http://camunda.org/schema/zeebe/1.0")


def validation_context(runtime, process_id: str) -> ValidationContext:
    """The lanes of the process's own profile, as ``pace init-db`` validates shipped ones."""
    config = runtime.config
    profile = profiles.for_process(process_id)
    if profile is None:
        return config.validation_context()
    return ValidationContext(frozenset(profile.roles), config.rules,
                             frozenset(config.script_functions))


def process_name(process_id: str, fallback: str | None = None) -> str:
    profile = profiles.for_process(process_id)
    return (profile.process_names.get(process_id) if profile else None) or fallback or \
        process_id.replace("_", " ").capitalize()


# -- validation ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    element_id: str
    element_name: str
    line: int | None
    message: str
    fix: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    spec: object | None = None
    name: str = ""

    @property
    def ok(self) -> bool:
        return not self.findings and self.spec is not None


_FIXES = [
    (r"DOCTYPE|entities", "Export the diagram again from the modeler and upload that file; "
                          "do not add a DOCTYPE or entity declarations by hand."),
    (r"not well-formed XML", "Upload the .bpmn file exactly as the modeler saved it; it looks "
                             "cut short or edited by hand."),
    (r"bytes; the limit", "Remove pasted images or documentation from the diagram."),
    (r"exactly one executable process", "In the modeler, select the pool (or the empty canvas), "
                                        "set its process ID to the one named here and tick "
                                        "'Executable'; keep one executable process per file."),
    (r"has no form", "Select the task and choose its form file in the PACE properties; upload "
                     "the form (<task>.schema.json) with the diagram if it is new."),
    (r"has no due rule", "Select the task and enter a due rule such as LA_START+3w."),
    (r"^due rule", "Write the due rule as ANCHOR+N unit, for example LA_START+3w or "
                   "PERM_RECOMMENDATION_PLANNED-2w | LA_START+30w-2w (units d, w, m, y, wd)."),
    (r"^(remind|escalate)", "Write offsets like -5d (reminder) or +2d +7d (escalation): a sign, "
                            "a number and a unit (d, w, m, y, wd)."),
    (r"not among the uploaded forms", "Upload the form file with the diagram, or correct the "
                                      "file name in the task's PACE properties."),
    (r"must be a plain file name", "Give only the file name, such as initial_lar.schema.json, "
                                   "with no folders."),
    (r"^form .*JSON", "Correct the form file (it must be a JSON Schema with \"type\": "
                      "\"object\") and upload it again."),
    (r"is not in any lane", "Draw the process in a pool with lanes named after roles, and put "
                            "the task in the lane of the role that does it."),
    (r"lies in lane", "Rename the lane to one of the roles listed, or move the task into the lane "
                      "of the role that does it."),
    (r"cannot be reached", "Connect a sequence flow into it from an earlier step, or delete it."),
    (r"^condition", "Write the condition as a comparison of form fields with values, for example "
                    "route == 'adoption' or decision in ['agrees', 'deferred']."),
    (r"^timer", "Write the timer date as a due rule, such as AIM1_REVIEW+6m, or a quoted ISO date."),
    (r"script task", "Replace the script task with a user task (a form) or a gateway "
                     "condition: diagrams cannot run code."),
    (r"preScript|postScript", "Delete the script from the element: diagrams cannot run code; use "
                              "form fields and gateway conditions instead."),
    (r"^milestone ", "Use an upper-case code such as PLANNING_MTG (letters, digits, '_')."),
    (r"^milestoneWhen", "Write the condition as a comparison of form fields with values."),
    (r"^plans", "Write it as CODE=field, for example PERM_RECOMMENDATION=substantive_lar_date."),
    (r"^startData", "Write target=source pairs separated by spaces, for example la_start=la_start."),
    (r"workflow engine could not", "Open the diagram in the PACE Flow editor, correct the element "
                                   "named (or remove it) and check again."),
]
_DEFAULT_FIX = "Correct the element in the editor and check again."


def fix_for(message: str) -> str:
    for pattern, fix in _FIXES:
        if re.search(pattern, message):
            return fix
    return _DEFAULT_FIX


def _lane_problems(root, roles: frozenset[str]) -> list[Problem]:
    """Every user task in a lane named after a role (the registry checks this only once the
    rest of the diagram parses; this lists it together with everything else)."""
    lanes = {}
    for lane in root.iter(f"{{{NS['bpmn']}}}lane"):
        for ref in lane.iterfind(f"{{{NS['bpmn']}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = (lane.get("name") or "").strip()
    problems = []
    known = ", ".join(sorted(roles))
    for task in root.iter(f"{{{NS['bpmn']}}}userTask"):
        lane = lanes.get(task.get("id"))
        if lane is None:
            problems.append(Problem(task.get("id") or "", task.sourceline,
                                    f"is not in any lane, so no role would get its work "
                                    f"(roles: {known})"))
        elif lane not in roles:
            problems.append(Problem(task.get("id") or "", task.sourceline,
                                    f"lies in lane {lane!r}, which is not a role (known roles: "
                                    f"{known})"))
    return problems


def _expected_process(root, process_id: str) -> list[Problem]:
    processes = root.findall(f"{{{NS['bpmn']}}}process")
    executable = [p for p in processes if p.get("isExecutable") == "true"]
    if [p.get("id") for p in executable] == [process_id]:
        return []
    if len(executable) == 1:
        found = executable[0]
        return [Problem(found.get("id") or "", found.sourceline,
                        f"the executable process has id {found.get('id')!r}; this draft is for "
                        f"{process_id!r}, so the file must hold exactly one executable process "
                        f"with id {process_id!r}")]
    if not executable and len(processes) == 1:
        found = processes[0]
        return [Problem(found.get("id") or "", found.sourceline,
                        "the process is not marked executable: the file must hold exactly one "
                        f"executable process with id {process_id!r}")]
    return [Problem("", None, f"the file holds {len(executable)} executable processes: it must "
                              f"hold exactly one executable process with id {process_id!r}")]


def validate(bundle: ModelBundle, ctx: ValidationContext) -> Report:
    """Every problem with the draft, each with a fix; never raises for a bad diagram."""
    report = Report()
    try:
        root = parse_untrusted(bundle.bpmn_xml)
    except UnsafeXml as exc:
        report.findings.append(Finding("", "", None, str(exc), fix_for(str(exc))))
        return report
    names = {node.get("id"): node.get("name") or "" for node in root.iter() if node.get("id")}
    if any(ns in (root.nsmap or {}).values() for ns in CAMUNDA) or \
            any(ns in bundle.bpmn_xml for ns in CAMUNDA):
        report.notes.append("This diagram was saved by Camunda Modeler. PACE Flow ignores "
                            "camunda: settings such as formKey, assignee and dueDate: give each "
                            "user task the PACE properties (form file, due rule) and put it in a "
                            "lane named after a role.")
    problems: list[Problem] = []
    try:
        report.spec, _, report.name = registry.parse_bundle(bundle, ctx)
    except InvalidModel as exc:
        problems = list(exc.problems)
    except Exception as exc:  # noqa: BLE001 - a diagram must never cause a 500
        log.warning("diagram of %s could not be parsed", bundle.process_id, exc_info=True)
        problems = [Problem("", None, "the workflow engine could not read the diagram "
                                      f"({type(exc).__name__}: {exc})")]
    if problems:
        report.spec = None
        # The registry checks lanes only once everything else parses: list them all now.
        problems = [p for p in problems if "lies in lane" not in p.message]
        problems += _lane_problems(root, ctx.roles)
        expected = _expected_process(root, bundle.process_id)
        if expected:
            problems = [p for p in problems if "exactly one executable process" not in p.message]
            problems += expected
    seen = set()
    for p in problems:
        key = (p.element_id, p.message)
        if key in seen:
            continue
        seen.add(key)
        report.findings.append(Finding(p.element_id, names.get(p.element_id, ""), p.line,
                                       p.message, fix_for(p.message)))
    report.findings.sort(key=lambda f: (f.line or 0, f.element_id))
    return report


# -- what a diagram says, as a table ------------------------------------------------------
@dataclass
class ElementRow:
    element_id: str
    name: str
    kind: str
    lane: str
    properties: dict[str, str]


def _local(node) -> str:
    return etree.QName(node).localname


def element_rows(bpmn_xml: str) -> list[ElementRow]:
    """Tasks and events in diagram order with their lane and PACE properties: the diagram's
    text alternative, and the rows of the properties form."""
    try:
        root = parse_untrusted(bpmn_xml)
    except UnsafeXml:
        return []
    lanes = {}
    for lane in root.iter(f"{{{NS['bpmn']}}}lane"):
        for ref in lane.iterfind(f"{{{NS['bpmn']}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or ""
    rows = []
    for process in root.iter(f"{{{NS['bpmn']}}}process"):
        for node in process.iter():
            if not isinstance(node.tag, str) or node.tag.rsplit("}", 1)[0][1:] != NS["bpmn"] \
                    or _local(node) not in FLOW_NODES:
                continue
            props = {p.get("name"): p.get("value") or "" for p in node.xpath(
                "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                namespaces=NS)}
            rows.append(ElementRow(node.get("id") or "", node.get("name") or "",
                                   re.sub(r"(?<!^)([A-Z])", r" \1", _local(node)).lower(),
                                   lanes.get(node.get("id"), ""), props))
    return rows


def set_properties(bpmn_xml: str, changes: dict[str, dict[str, str]]) -> str:
    """The diagram with ``changes`` ({element id: {property: value}}) written into its
    spiffworkflow:properties; an empty value removes the property. For the properties form
    (no JavaScript needed)."""
    root = parse_untrusted(bpmn_xml)
    spiff = NS["spiffworkflow"]
    for element_id, values in changes.items():
        found = root.xpath("//bpmn:*[@id=$id]", namespaces=NS, id=element_id)
        if not found:
            raise NotFound(f"The diagram has no element {element_id!r}.")
        node = found[0]
        extensions = node.find(f"{{{NS['bpmn']}}}extensionElements")
        if extensions is None:
            extensions = etree.Element(f"{{{NS['bpmn']}}}extensionElements")
            node.insert(_after_documentation(node), extensions)
        holder = extensions.find(f"{{{spiff}}}properties")
        if holder is None:
            holder = etree.SubElement(extensions, f"{{{spiff}}}properties")
        existing = {p.get("name"): p for p in holder.iterfind(f"{{{spiff}}}property")}
        for name, value in values.items():
            value = (value or "").strip()
            if name in existing and not value:
                holder.remove(existing[name])
            elif name in existing:
                existing[name].set("value", value)
            elif value:
                etree.SubElement(holder, f"{{{spiff}}}property", name=name, value=value)
        if not len(holder):
            extensions.remove(holder)
        if not len(extensions):
            node.remove(extensions)
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    return declaration + etree.tostring(root, encoding="unicode")


def _after_documentation(node) -> int:
    index = 0
    for index, child in enumerate(node):
        if not (isinstance(child.tag, str) and _local(child) == "documentation"):
            return index
    return len(node)


# -- compare ------------------------------------------------------------------------------
def compare(deployed: ProcessModel, report: Report) -> migration.ModelDiff:
    """The draft (validated) against a deployed version."""
    return migration.diff_specs(registry.load(deployed).spec, report.spec)


def markers(diff: migration.ModelDiff) -> dict[str, dict[str, str]]:
    """Colours for the two diagrams: the draft shows added and changed elements, the deployed
    version shows removed and changed ones."""
    new, old = {}, {}
    for change in diff.changes:
        if change.kind == "added":
            new[change.element_id] = "added"
        elif change.kind == "removed":
            old[change.element_id] = "removed"
        else:
            new.setdefault(change.element_id, "changed")
            old.setdefault(change.element_id, "changed")
    return {"draft": new, "deployed": old}


# -- deploy -------------------------------------------------------------------------------
def pdsa_choices(session: Session, council: str) -> list[tuple[int, str]]:
    return [(c.id, f"Aim {c.aim}: {c.change_idea} (cycle {c.cycle_number}, from "
                   f"{c.start_date.day} {c.start_date:%b %Y})")
            for c in pdsa.cycles(session, None, council)]


def deploy(session: Session, bundle: ModelBundle, ctx: ValidationContext, actor: str, reason: str,
           pdsa_cycle_id: int | None, council: str) -> tuple[ProcessModel, bool]:
    """Deploy as version N+1 (``created`` False when it equals the latest version). A linked
    PDSA cycle that names no diagram version yet is updated to name this one (audited)."""
    cycle = None
    if pdsa_cycle_id is not None:
        cycle = session.get(PdsaCycle, pdsa_cycle_id)
        if cycle is None or cycle.council != council:
            raise NotFound(f"There is no PDSA cycle {pdsa_cycle_id}.")
    model, created = registry.deploy(session, bundle, ctx, actor, reason=reason,
                                     pdsa_cycle_id=pdsa_cycle_id)
    if created and cycle is not None and cycle.model_version is None:
        values = {name: getattr(cycle, name) for name in pdsa.FIELDS}
        values.update(process_id=model.process_id, model_version=model.version)
        pdsa.update_cycle(session, cycle.id, pdsa.CycleInput(**values), actor, council)
    return model, created


def cycles_by_version(session: Session, process_id: str,
                      models: list[ProcessModel]) -> dict[int, list[PdsaCycle]]:
    """PDSA cycles per version: linked when deployed, or naming the version themselves."""
    ids = {m.pdsa_cycle_id for m in models if m.pdsa_cycle_id}
    found: dict[int, list[PdsaCycle]] = defaultdict(list)
    query = select(PdsaCycle).where((PdsaCycle.process_id == process_id)
                                    | PdsaCycle.id.in_(ids or {-1}))
    cycles = list(session.scalars(query.order_by(PdsaCycle.start_date)))
    for model in models:
        for cycle in cycles:
            if cycle.id == model.pdsa_cycle_id or (cycle.process_id == process_id
                                                   and cycle.model_version == model.version):
                found[model.version].append(cycle)
    return found


# -- migrate ------------------------------------------------------------------------------
@dataclass
class Candidate:
    instance_id: int
    reference: str
    team: str
    version: int
    now_at: list[str]
    can_move: bool
    reason: str
    moves: list[str] = field(default_factory=list)


def running_counts(session: Session, process_id: str) -> dict[int, int]:
    rows = session.execute(select(ProcessModel.version, func.count(ProcessInstance.id))
                           .join(ProcessInstance, ProcessInstance.model_id == ProcessModel.id)
                           .where(ProcessModel.process_id == process_id,
                                  ProcessInstance.status == "running")
                           .group_by(ProcessModel.version))
    return {version: count for version, count in rows}


def plan(session: Session, runtime, target: ProcessModel) -> list[Candidate]:
    """Dry run: every running child of the process on another version, whether it can move
    to ``target`` and, if not, why. Nothing is written."""
    instances = list(session.scalars(
        select(ProcessInstance).join(Subject, Subject.id == ProcessInstance.subject_id)
        .where(ProcessInstance.process_id == target.process_id,
               ProcessInstance.status == "running", ProcessInstance.model_id != target.id)
        .order_by(Subject.reference, ProcessInstance.id)).unique())
    ids = [i.id for i in instances]
    at: dict[int, list[str]] = defaultdict(list)
    if ids:
        for instance_id, title in session.execute(
                select(WorkItem.instance_id, WorkItem.title).where(
                    WorkItem.instance_id.in_(ids), WorkItem.status.in_(("ready", "claimed")))
                .order_by(WorkItem.id)):
            at[instance_id].append(title)
        for instance_id, name, fire_at in session.execute(
                select(Timer.instance_id, Timer.name, Timer.fire_at)
                .where(Timer.instance_id.in_(ids))):
            at[instance_id].append(f"waiting: {name} ({fire_at.day} {fire_at:%b %Y})")
    found = []
    for instance in instances:
        try:
            check = migration.check(runtime, instance, target)
            can, reason, moves = check.can_move, check.reason, check.moves
        except Exception as exc:  # noqa: BLE001 - one unreadable child must not hide the rest
            log.warning("dry run failed for instance %s", instance.id, exc_info=True)
            can, reason, moves = False, f"could not be checked ({type(exc).__name__})", []
        found.append(Candidate(instance.id, instance.subject.reference, instance.subject.team,
                               instance.model.version, at.get(instance.id, []), can, reason, moves))
    return found


@dataclass
class Outcome:
    instance_id: int
    reference: str
    moved: bool
    message: str


def migrate_each(database, target_id: int, instance_ids: list[int], actor: str) -> list[Outcome]:
    """Move each child in its own transaction (``engine.migration.migrate``: audited, work
    items and due dates recomputed). A child that cannot move, or changed meanwhile, is
    reported and left exactly as it was."""
    outcomes = []
    for instance_id in instance_ids:
        reference = f"process instance {instance_id}"
        try:
            with database.transaction() as session:
                target = session.get(ProcessModel, target_id)
                instance = session.get(ProcessInstance, instance_id)
                if target is None:
                    raise NotFound("That version no longer exists.")
                if instance is None or instance.process_id != target.process_id:
                    raise NotFound("That child is not on this process.")
                reference = instance.subject.reference
                result = migration.migrate(session, database.runtime, instance, target, actor)
            outcomes.append(Outcome(instance_id, reference, True,
                                    "; ".join(result.moves) or "moved"))
        except (Conflict, NotFound) as exc:
            outcomes.append(Outcome(instance_id, reference, False, str(exc)))
        except Exception as exc:  # noqa: BLE001 - report it, keep the others going
            log.exception("migration of instance %s failed", instance_id)
            outcomes.append(Outcome(instance_id, reference, False,
                                    f"not moved: an unexpected error ({type(exc).__name__}); "
                                    "nothing changed for this child"))
    return outcomes
