"""Validating a draft process model: ``engine.registry.parse_bundle`` with the process's
profile (its lanes, the PACE due-rule grammar); every problem is a ``Finding`` with the
element, its line and a fix in plain English, gathered in a ``Report``.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass, field

from engine import registry, runnable_checks
from engine.registry import NS, InvalidModel, ModelBundle, Problem, ValidationContext
from engine.xml_safety import UnsafeXml, parse_untrusted

from workflows import profiles
from workflows.process_models import start_data
from workflows.process_models import document_templates

log = logging.getLogger(__name__)

CAMUNDA = ("http://camunda.org/schema/1.0/bpmn", "http://camunda.org/schema/zeebe/1.0")


def validation_context(runtime, process_id: str) -> ValidationContext:
    """The lanes and milestones of the process's own profile, as ``pace init-db`` validates
    shipped ones."""
    config = runtime.config
    profile = profiles.for_process(process_id)
    if profile is None:
        return dataclasses.replace(config.validation_context(),
                                   document_check=document_templates.check)
    return ValidationContext(frozenset(profile.roles), config.rules,
                             frozenset(config.script_functions), frozenset(profile.milestones),
                             document_check=document_templates.check)


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
    # What the engine cannot run (engine/runnable_checks.py, engine/rule_anchors.py): the
    # message names what to draw instead; the fix says where to start.
    (r"counts from \S+, which this process does not record", "Correct the anchor to a milestone "
     "code or date field this process records (the nearest are named), or add the milestone "
     "property to the task that records it."),
    (r"reads \S+, which (only the form|no form)", "Correct the name to a form field recorded "
     "before this point (the nearest are named), or add the field to the form of a task the "
     "child does before it."),
    (r"ISO 8601", "Write the date as a PACE Flow rule: a milestone or date field and an offset, "
                  "such as LA_START+7d."),
    (r"is a (service|send|receive|business rule) task|is a call activity|waiting for (a "
     r"message|a signal|a condition|an escalation)", "Replace the element as the message says: "
     "PACE Flow runs user tasks, gateways, embedded subprocesses, timers and plain events."),
    (r"is on a loop", "Put a user task or a timer event on the loop, or remove the flow that "
                      "goes back."),
    (r"starts this process again", "Remove the startsProcess property from this end event, or "
                                   "name a different process."),
    (r"tasks, events and gateways; the limit|steps one after another; the limit",
     "Split the process into smaller processes, each ending with an end event whose "
     "startsProcess property starts the next."),
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
    (r"^assign ", "Write assign = allocated_worker to give the task straight to the child's "
                  "allocated worker, or remove the property to leave it in its lane's queue."),
    (r"^due rule", "Write the due rule as ANCHOR+N unit, for example LA_START+3w or "
                   "PERM_RECOMMENDATION_PLANNED-2w | LA_START+30w-2w (units d, w, m, y, wd)."),
    (r"^(remind|escalate)", "Write offsets like -5d (reminder) or +2d +7d (escalation): a sign, "
                            "a number and a unit (d, w, m, y, wd)."),
    (r"^document .*placeholder", "Open the Word template, correct the placeholder to the "
                                 "field named (or add the field to the form) and upload the "
                                 "template again."),
    (r"^document ", "Upload the Word template (.docx) named by the task's document property, "
                    "saved from Word, or correct the property."),
    (r"not among the uploaded forms", "Upload the form file with the diagram, or correct the "
                                      "file name in the task's PACE properties."),
    (r"must be a plain file name", "Give only the file name, such as initial_lar.schema.json, "
                                   "with no folders."),
    (r"x-not-before|x-planned", "Name in x-not-before a milestone the diagrams record (such as "
                                "PERM_RECOMMENDATION) or another date field of the same form, "
                                "and put date rules only on date fields (\"format\": \"date\")."),
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
    (r"is used by \d+ elements", "Select each element named on those lines in the modeler and "
                                 "give all but one a new id (ids are case-sensitive)."),
    (r"is not a valid element id", "Change the id in the modeler's properties panel, for "
                                   "example to Activity_review."),
    (r"^calls the process", "Replace the call activity with the tasks it stands for, or with "
                            "a subprocess drawn in this diagram."),
    (r"marked (multi-instance|as a loop)", "Select the task, remove the multi-instance or "
                                           "loop marker (the wrench menu in the modeler) and "
                                           "draw the repeat as a flow back through a gateway."),
    (r"business rule task", "Replace it with an exclusive gateway, one outgoing flow per "
                            "outcome, each with a condition on a form field."),
    (r"does not follow the BPMN 2.0 standard|cannot read (this|the diagram)",
     "Open the diagram in a BPMN modeler (Camunda Modeler or the PACE Flow editor), redraw or "
     "correct the element on that line, save it and upload it again."),
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
    except Exception:  # noqa: BLE001 - a diagram must never cause a 500
        log.warning("diagram of %s could not be parsed", bundle.process_id, exc_info=True)
        problems = [Problem("", None, "the workflow engine could not read the diagram as drawn "
                                      "(a part of it is not standard BPMN PACE Flow can run)")]
    problems += [Problem(*found) for found in runnable_checks.condition_name_problems(
        root, bundle.forms, start_data.names(bundle.process_id))]
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
