"""Process-model versions: read a bundle, validate it, deploy it, parse it once.

A deployed version is immutable; instances record the version they run. Parsed specs are
cached per version id because a version never changes once written.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from . import (audit, choice_rules, clock, date_rules, form_schemas, loop_markers, parser_messages,
               routing, rule_anchors, runnable_checks)
from .expressions import UnsafeExpression, allowed_script_function, check_expression
from .models import ProcessModel
from .rules import RulePolicy
from .xml_safety import UnsafeXml, parse_untrusted

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,59}$")
_FORM_FILE = re.compile(r"^[A-Za-z0-9_.-]{1,100}\.json$")
_MAX_FORM_BYTES = 256 * 1024


@dataclass
class ModelBundle:
    """A diagram, its forms and the document templates its tasks name (``document``), as
    uploaded or read from ``bpmn/<process_id>/`` (``forms/``, ``documents/``). The engine
    keeps templates as bytes and never opens them: the domain checks and renders them
    (``ValidationContext.document_check``)."""
    process_id: str
    bpmn_xml: str
    forms: dict[str, str] = field(default_factory=dict)
    documents: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def from_directory(cls, folder: Path) -> "ModelBundle":
        folder = Path(folder)
        forms_dir, documents_dir = folder / "forms", folder / "documents"
        forms = {p.name: p.read_text(encoding="utf-8") for p in sorted(forms_dir.glob("*.json"))} \
            if forms_dir.is_dir() else {}
        documents = {p.name: p.read_bytes() for p in sorted(documents_dir.glob("*.docx"))} \
            if documents_dir.is_dir() else {}
        return cls(folder.name, (folder / f"{folder.name}.bpmn").read_text(encoding="utf-8"), forms,
                   documents)

    def content_hash(self) -> str:
        digest = hashlib.sha256(self.bpmn_xml.encode("utf-8"))
        for name in sorted(self.forms):
            digest.update(b"\0" + name.encode() + b"\0" + self.forms[name].encode("utf-8"))
        for name in sorted(self.documents):  # none: the hash of a version without templates
            digest.update(b"\0documents/" + name.encode() + b"\0" + self.documents[name])
        return digest.hexdigest()

    @staticmethod
    def encode_documents(documents: dict[str, bytes] | None) -> dict[str, str]:
        """As stored in a JSON column (``process_model.documents``, ``model_draft.documents``)."""
        return {k: base64.b64encode(v).decode("ascii") for k, v in (documents or {}).items()}

    @staticmethod
    def decode_documents(stored: dict | None) -> dict[str, bytes]:
        found = {}
        for name, text in (stored or {}).items():
            try:
                found[name] = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError, TypeError):
                continue  # never written by PACE Flow: left out, so the check names it missing
        return found


@dataclass(frozen=True)
class Problem:
    element_id: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.element_id or 'diagram'}" + (f" (line {self.line})" if self.line else "")
        return f"{where}: {self.message}"


class InvalidModel(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class ValidationContext:
    """What the domain allows: lane names, script functions, date-rule grammar, and the
    milestones a form's date rules may name (None: date rules are not checked)."""
    roles: frozenset[str]
    rules: RulePolicy
    script_functions: frozenset[str] = frozenset()
    milestones: frozenset[str] | None = None
    # The domain's check of a task's document template: (name, template bytes, form schema,
    # form file name) -> problems in words. None: templates are not checked.
    document_check: object | None = None


def _properties(node) -> dict[str, str]:
    return {p.get("name"): p.get("value") or "" for p in
            node.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                       namespaces=NS)}


def _check_xml_rules(root, bundle: ModelBundle, ctx: ValidationContext) -> list[Problem]:
    problems: list[Problem] = []

    def add(node, message):
        problems.append(Problem(node.get("id") or "", node.sourceline, message))

    for node in root.xpath("//bpmn:conditionExpression", namespaces=NS):
        flow = node.getparent()
        try:
            check_expression(node.text or "")
        except UnsafeExpression as exc:
            add(flow, f"condition {(node.text or '').strip()!r} {exc}")
    for node in root.xpath("//bpmn:timerEventDefinition/*", namespaces=NS):
        event = node.getparent().getparent()
        if message := rule_anchors.timer_problem((node.text or "").strip(), ctx.rules):
            add(event, message)
    for node in root.xpath("//bpmn:eventBasedGateway", namespaces=NS):
        # SpiffWorkflow waits at the gateway as one event made of its targets' events, which
        # the timer index (engine/timers.py) does not see and the due-rule hook does not
        # resolve: the child would stop there with an error, or wait for ever.
        add(node, "is an event-based gateway, which cannot be run here (its timers are "
                  "not swept, and nothing sends the messages or signals it waits for): put a "
                  "timer on the waiting task as a boundary timer event, or use an intermediate "
                  "timer event and an exclusive gateway on a form field")
    for node in root.xpath("//bpmn:scriptTask", namespaces=NS):
        script = node.findtext("bpmn:script", namespaces=NS) or ""
        try:
            allowed_script_function(script, dict.fromkeys(ctx.script_functions))
        except UnsafeExpression as exc:
            add(node, f"script task {str(exc).removeprefix('a script task ')}")
    for tag in ("preScript", "postScript"):
        for node in root.xpath(f"//spiffworkflow:{tag}", namespaces=NS):
            if (node.text or "").strip():
                owner = node.getparent().getparent()
                add(owner, f"has a {tag}; scripts are not allowed in diagrams, use form fields "
                           "and gateway conditions instead")
    # User tasks without any extension elements too (a Camunda Modeler file): no form, no due rule.
    nodes = root.xpath("//bpmn:*[bpmn:extensionElements] | //bpmn:userTask", namespaces=NS)
    known = None if ctx.milestones is None else ctx.milestones | _recorded_milestones(nodes)
    for node in nodes:
        problems.extend(_check_properties(node, _properties(node), bundle, ctx, known))
    problems.extend(_check_reachability(root))
    problems.extend(Problem(*found) for found in rule_anchors.problems(root, bundle.forms, ctx.rules))
    problems.extend(Problem(*found) for found in runnable_checks.problems(root, bundle.process_id))
    return problems


def _recorded_milestones(nodes) -> frozenset[str]:
    """Codes the diagram itself records or plans: a form's date rule may name them too."""
    codes = set()
    for node in nodes:
        props = _properties(node)
        codes.add(props.get("milestone", "").strip())
        codes.add(props.get("plans", "").partition("=")[0].strip())
    return frozenset(c for c in codes if _CODE.match(c))


def _check_properties(node, props, bundle, ctx, milestones=None) -> list[Problem]:
    problems = []

    def add(message):
        problems.append(Problem(node.get("id") or "", node.sourceline, message))

    is_user_task = etree.QName(node).localname == "userTask"
    for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
        name = props.get(key)
        if not name:
            if is_user_task and key == "formJsonSchemaFilename":
                add("has no form: set the property formJsonSchemaFilename")
            continue
        if not _FORM_FILE.match(name):
            add(f"{key} {name!r} must be a plain file name ending .json, with no folders")
        elif name not in bundle.forms:
            add(f"{key} names {name!r}, which is not among the uploaded forms")
        elif key == "formJsonSchemaFilename":
            add_msg = _form_problem(bundle.forms[name])
            if add_msg:
                add(f"form {name}: {add_msg}")
            elif milestones is not None:
                for problem in date_rules.declaration_problems(json.loads(bundle.forms[name]),
                                                               milestones):
                    add(f"form {name}, {problem}")
            if not add_msg:
                for problem in choice_rules.declaration_problems(json.loads(bundle.forms[name]),
                                                                 ctx.rules.check_rule):
                    add(f"form {name}, {problem}")
    if is_user_task and not props.get("due"):
        add("has no due rule: set the property due, e.g. LA_START+3w")
    for key in ("due",):
        if props.get(key):
            try:
                ctx.rules.check_rule(props[key])
            except ValueError as exc:
                add(f"due rule {exc}")
    for key in ("remind", "escalate"):
        if props.get(key):
            try:
                ctx.rules.check_offsets(props[key])
            except ValueError as exc:
                add(f"{key} {exc}")
    if "assign" in props and (problem := routing.assign_problem(props["assign"])):
        add(problem)
    if "laneFromSetting" in props and (
            problem := routing.lane_setting_problem(props["laneFromSetting"], ctx.rules)):
        add(problem)
    if props.get("milestone") and not _CODE.match(props["milestone"]):
        add(f"milestone {props['milestone']!r} must be an upper-case code like PLANNING_MTG")
    if props.get("milestoneWhen"):
        try:
            check_expression(props["milestoneWhen"])
        except UnsafeExpression as exc:
            add(f"milestoneWhen {exc}")
    if "document" in props:
        problems.extend(Problem(node.get("id") or "", node.sourceline, message)
                        for message in _document_problems(props, bundle, ctx, is_user_task))
    if props.get("plans"):
        code, _, fieldname = props["plans"].partition("=")
        if not _CODE.match(code.strip()) or not fieldname.strip().isidentifier():
            add("plans must read CODE=field, e.g. PERM_RECOMMENDATION=substantive_lar_date")
    for pair in props.get("startData", "").split():
        target, _, source = pair.partition("=")
        if not (target.isidentifier() and source.isidentifier()):
            add(f"startData {pair!r} must read target=source")
    return problems


def _document_problems(props, bundle, ctx, is_user_task) -> list[str]:
    name = props["document"].strip()
    if not is_user_task:
        return ["has a document, but only a user task makes one: move it to the task"]
    if not re.match(r"^[A-Za-z0-9_.-]{1,100}\.docx$", name):
        return [f"document {name!r} must be a plain file name ending .docx, with no folders"]
    if name not in bundle.documents:
        return [f"document names {name!r}, which is not among the uploaded Word templates"]
    if ctx.document_check is None:
        return []
    form_name = props.get("formJsonSchemaFilename", "")
    try:
        schema = json.loads(bundle.forms.get(form_name) or "{}")
    except json.JSONDecodeError:
        schema = {}
    return [f"document {message}" for message in
            ctx.document_check(name, bundle.documents[name], schema, form_name)]


@functools.lru_cache(maxsize=256)  # many tasks share one form: checked once
def _form_problem(text: str) -> str | None:
    if len(text.encode("utf-8")) > _MAX_FORM_BYTES:
        return "is larger than 256 KB"
    try:
        schema = json.loads(text)
        Draft202012Validator.check_schema(schema)
    except json.JSONDecodeError as exc:
        return f"is not valid JSON (line {exc.lineno}: {exc.msg})"
    except SchemaError as exc:
        return f"is not a valid JSON Schema ({exc.message})"
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return 'must be a JSON Schema with "type": "object"'
    if outside := form_schemas.outside_references(schema):
        return (f"refers to {', '.join(map(repr, outside))}, outside the form: a form must be "
                "self-contained (put shared parts under \"$defs\" and refer to them as "
                "\"#/$defs/name\")")
    return None


def _check_reachability(root) -> list[Problem]:
    problems = []
    for process in root.xpath("//bpmn:process", namespaces=NS):
        targets = {f.get("targetRef") for f in process.xpath(".//bpmn:sequenceFlow", namespaces=NS)}
        for node in process.xpath("./bpmn:*[bpmn:outgoing or bpmn:incoming]", namespaces=NS):
            kind = etree.QName(node).localname
            if kind in ("startEvent", "boundaryEvent") or node.get("id") in targets:
                continue
            problems.append(Problem(node.get("id"), node.sourceline,
                                    "cannot be reached: no sequence flow leads to it"))
    return problems


# Bundles that passed the check recently, by content and context: the draft page checks a
# draft and deploying it checks it again in the same request, which for the largest allowed
# diagram doubled the time of a deploy (bench/model_checks.py).
_passed: dict[tuple, tuple] = {}
_PASSED_KEPT = 8
_passed_lock = threading.Lock()  # a threaded server checks two drafts at once


def parse_bundle(bundle: ModelBundle, ctx: ValidationContext | None = None):
    """Validate and parse; return (spec, subprocess_specs, name) or raise InvalidModel."""
    key = (bundle.process_id, bundle.content_hash(), ctx) if ctx is not None else None
    with _passed_lock:
        found = _passed.get(key)
    if found is not None:
        return found
    result = _parse_bundle(bundle, ctx)
    if key is not None:
        with _passed_lock:
            while len(_passed) >= _PASSED_KEPT:
                _passed.pop(next(iter(_passed)))
            _passed[key] = result
    return result


def _parse_bundle(bundle: ModelBundle, ctx: ValidationContext | None):
    try:
        root = parse_untrusted(bundle.bpmn_xml)
    except UnsafeXml as exc:
        raise InvalidModel([Problem("", None, str(exc))]) from None
    if ctx and (too_large := runnable_checks.size_problems(root)):
        raise InvalidModel([Problem(*found) for found in too_large])  # before slower checks
    problems = _check_xml_rules(root, bundle, ctx) if ctx else []
    problems += [Problem(*found) for found in parser_messages.duplicate_ids(root)]
    problems += [Problem(*found) for found in loop_markers.problems(root)] if ctx else []
    processes = root.xpath("//bpmn:process[@isExecutable='true']", namespaces=NS)
    if [p.get("id") for p in processes] != [bundle.process_id]:
        problems.append(Problem("", None, f"the file must hold exactly one executable process "
                                          f"with id {bundle.process_id!r}"))
    if problems:
        raise InvalidModel(problems)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, f"{bundle.process_id}.bpmn")
        spec = parser.get_spec(bundle.process_id)
        subprocesses = parser.get_subprocess_specs(bundle.process_id)
    except ValidationException as exc:
        raise InvalidModel([Problem(*found) for found in parser_messages.problems(exc, root)]) \
            from None
    if ctx:
        for task_spec in spec.task_specs.values():
            if type(task_spec).__name__ == "UserTask" and task_spec.lane not in ctx.roles:
                problems.append(Problem(task_spec.bpmn_id, None,
                                        f"lies in lane {task_spec.lane!r}, which is not a role "
                                        f"(known roles: {', '.join(sorted(ctx.roles))})"))
    if problems:
        raise InvalidModel(problems)
    name = processes[0].get("name") or bundle.process_id
    return spec, subprocesses, name


# Keyed by content hash, not row id: ids repeat across databases (tests, benchmarks, a
# second council) while the same content always parses to the same spec.
_cache: dict[tuple[str, str], "LoadedModel"] = {}


@dataclass
class LoadedModel:
    model: ProcessModel
    spec: object
    subprocess_specs: dict
    forms: dict[str, dict]

    def form_schema(self, task_spec) -> dict:
        name = task_spec.extensions.get("properties", {}).get("formJsonSchemaFilename")
        return self.forms.get(name, {"type": "object", "properties": {}})

    def ui_schema(self, task_spec) -> dict:
        name = task_spec.extensions.get("properties", {}).get("formUiSchemaFilename")
        return self.forms.get(name, {})


def load(model: ProcessModel) -> LoadedModel:
    key = (model.process_id, model.content_hash)
    cached = _cache.get(key)
    if cached is None:
        spec, subprocesses, _ = parse_bundle(ModelBundle(model.process_id, model.bpmn_xml,
                                                         {}))
        forms = {k: json.loads(v) for k, v in model.forms.items()}
        cached = LoadedModel(model, spec, subprocesses, forms)
        _cache[key] = cached
    elif cached.model is not model:
        cached = LoadedModel(model, cached.spec, cached.subprocess_specs, cached.forms)
    return cached


def latest(session: Session, process_id: str) -> ProcessModel | None:
    return session.scalars(select(ProcessModel).where(ProcessModel.process_id == process_id)
                           .order_by(ProcessModel.version.desc()).limit(1)).first()


def started_by(session: Session, process_id: str) -> list[str]:
    """The processes the latest version of ``process_id`` starts from its end events."""
    model = latest(session, process_id)
    if model is None:
        return []
    return [target for _end, target in runnable_checks.starts_process(
        parse_untrusted(model.bpmn_xml))]


def start_cycles(session: Session, bundle: ModelBundle) -> list[Problem]:
    """End events whose startsProcess leads back to the bundle's process through the
    deployed processes (the diagram alone shows only a process starting itself)."""
    return [Problem(*found) for found in runnable_checks.start_cycle_problems(
        parse_untrusted(bundle.bpmn_xml), bundle.process_id,
        lambda process_id: started_by(session, process_id))]


def deploy(session: Session, bundle: ModelBundle, ctx: ValidationContext, actor: str,
           reason: str = "", pdsa_cycle_id: int | None = None) -> tuple[ProcessModel, bool]:
    """Deploy as version N+1; returns (model, created). Unchanged content is not redeployed."""
    _, _, name = parse_bundle(bundle, ctx)
    if ctx and (cycles := start_cycles(session, bundle)):
        raise InvalidModel(cycles)
    current = latest(session, bundle.process_id)
    digest = bundle.content_hash()
    if current is not None and current.content_hash == digest:
        return current, False
    version = (session.scalar(select(func.max(ProcessModel.version))
                              .where(ProcessModel.process_id == bundle.process_id)) or 0) + 1
    model = ProcessModel(process_id=bundle.process_id, version=version, name=name,
                         bpmn_xml=bundle.bpmn_xml, forms=dict(bundle.forms), content_hash=digest,
                         documents=ModelBundle.encode_documents(bundle.documents),
                         deployed_by=actor, deployed_at=clock.now(), reason=reason,
                         pdsa_cycle_id=pdsa_cycle_id)
    session.add(model)
    session.flush()
    audit.record(session, "model_deployed", actor, data={
        "process_id": model.process_id, "version": version, "content_hash": digest,
        "reason": reason})
    return model, True
