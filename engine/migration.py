"""Diff two versions of a process and move running instances from one to the other.

Built on SpiffWorkflow's SpecDiff / diff_workflow / migrate_workflow. What the library does
not handle is handled here: an instance standing on a task the new version removes is
refused (it would lose its place); a READY task's form data is restored after migration;
work items (with their drafts and assignees) and due dates are recomputed from the new
version's rules in the same transaction.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.util.task import TaskState

from . import audit, registry, serialization, work_items
from .errors import Conflict
from .milestones import properties
from .models import ProcessInstance, ProcessModel, WorkItem

_PROPERTY_LABELS = {"due": "due rule", "remind": "reminder", "escalate": "escalation",
                    "milestone": "milestone", "formJsonSchemaFilename": "form"}


def _label(spec) -> str:
    return spec.bpmn_name or spec.bpmn_id or spec.name


def _visible(spec) -> bool:
    return bool(getattr(spec, "bpmn_id", None))


@dataclass
class Change:
    element_id: str
    kind: str  # added | removed | renamed | rule | flow | other
    text: str
    detail: str = ""  # where an added or removed element sits: "after X; before Y"


@dataclass
class ModelDiff:
    changes: list[Change] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [c.text for c in self.changes]


def diff_models(old: ProcessModel, new: ProcessModel) -> ModelDiff:
    return diff_specs(registry.load(old).spec, registry.load(new).spec)


_FLOW_ATTRIBUTES = {"outputs", "inputs", "cond_task_specs", "default_task_spec"}


def _neighbours(spec, skip: set[str], attribute: str) -> set[str]:
    """Names of the specs next to ``spec`` (``outputs`` or ``inputs``), looking through the
    specs named in ``skip`` (elements added or removed) to the ones beyond them."""
    found, seen, stack = set(), set(), list(getattr(spec, attribute))
    while stack:
        other = stack.pop()
        if other.name in seen:
            continue
        seen.add(other.name)
        if other.name in skip:
            stack.extend(getattr(other, attribute))
        else:
            found.add(other.name)
    return found


def _position(spec, skip: set[str], specs) -> str:
    def names(attribute):
        return ", ".join(sorted(_label(specs[n]) for n in _neighbours(spec, skip, attribute)
                                if _visible(specs[n])))
    before, after = names("inputs"), names("outputs")
    return "; ".join(part for part in (f"after {before}" if before else "",
                                       f"before {after}" if after else "") if part)


def diff_specs(original, revised) -> ModelDiff:
    """What changed between two parsed process specs: a deployed version's, or a draft's
    that is parsed but not deployed. A flow change that only reflects an element added or
    removed between the same neighbours is not listed again: the Added/Removed line says
    where it sits."""
    spec_diff = SpecDiff(serialization.registry(), original, revised)
    added = {spec.name for spec in spec_diff.added}
    removed = {spec.name for spec in spec_diff.removed}
    renamed_to = {old.name: new.name for old, new in spec_diff.alignment.items() if new is not None}

    def only_insertions(spec, new) -> bool:
        for attribute in ("outputs", "inputs"):
            before = {renamed_to.get(n, n) for n in _neighbours(spec, removed, attribute)}
            if before != _neighbours(new, added, attribute):
                return False
        return True

    result = ModelDiff()
    for spec in spec_diff.added:
        if _visible(spec):
            result.changes.append(Change(spec.bpmn_id, "added", f"Added: {_label(spec)}",
                                         _position(spec, added, revised.task_specs)))
    for spec in spec_diff.removed:
        if _visible(spec):
            result.changes.append(Change(spec.bpmn_id, "removed", f"Removed: {_label(spec)}",
                                         _position(spec, removed, original.task_specs)))
    for spec, new_spec in spec_diff.alignment.items():
        if new_spec is None or not _visible(spec):
            continue
        if spec.bpmn_name != new_spec.bpmn_name:
            result.changes.append(Change(spec.bpmn_id, "renamed",
                                         f"Renamed: {_label(spec)} → {_label(new_spec)}"))
        before, after = properties(spec), properties(new_spec)
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                label = _PROPERTY_LABELS.get(key, key)
                result.changes.append(Change(spec.bpmn_id, "rule",
                                             f"{_label(new_spec)}: {label} {before.get(key) or '(none)'} "
                                             f"→ {after.get(key) or '(none)'}"))
        changed = set(spec_diff.changed.get(spec, [])) - {"extensions", "bpmn_name", "description"}
        if _FLOW_ATTRIBUTES & changed:
            if changed & _FLOW_ATTRIBUTES - {"outputs", "inputs"} or not only_insertions(spec, new_spec):
                result.changes.append(Change(spec.bpmn_id, "flow",
                                             f"Flows changed around {_label(new_spec)}"))
            changed -= _FLOW_ATTRIBUTES
        if changed:
            result.changes.append(Change(spec.bpmn_id, "other",
                                         f"{_label(new_spec)}: {', '.join(sorted(changed))} changed"))
    return result


@dataclass
class MigrationCheck:
    instance_id: int
    can_move: bool
    reason: str
    moves: list[str] = field(default_factory=list)


def check(runtime, instance: ProcessInstance, target: ProcessModel) -> MigrationCheck:
    """Dry run: can this instance move to ``target``, and where do its open tasks land?"""
    return aligned(runtime, instance, target)[0]


def aligned(runtime, instance: ProcessInstance, target: ProcessModel):
    """(the dry run's ``MigrationCheck``, the loaded workflow, the target's ``LoadedModel``,
    SpiffWorkflow's diff of the workflow against it); the last three are None when the
    instance cannot move. The workflow is a fresh copy: the caller may move it in memory."""
    if instance.status != "running":
        return MigrationCheck(instance.id, False, "the process has already ended"), None, None, None
    if instance.model_id == target.id:
        return MigrationCheck(instance.id, False, "already on this version"), None, None, None
    if instance.process_id != target.process_id:
        return (MigrationCheck(instance.id, False, "that version belongs to another process"),
                None, None, None)
    wf = runtime.load_workflow(instance)
    loaded = registry.load(target)
    top, _ = diff_workflow(serialization.registry(), wf, loaded.spec, loaded.subprocess_specs)
    current = [t for t in wf.get_tasks(state=TaskState.READY | TaskState.WAITING)
               if _visible(t.task_spec)]
    stranded = [t for t in current if t in top.removed]
    if stranded:
        names = ", ".join(_label(t.task_spec) for t in stranded)
        return (MigrationCheck(instance.id, False,
                               f"it is at {names}, which the new version removes"),
                None, None, None)
    moves = [f"{_label(t.task_spec)} → {_label(top.alignment[t])}" for t in current]
    moves += [f"also starts: {_first_visible(spec)}"
              for _, spec in missing_branches(wf, loaded.spec)]
    return MigrationCheck(instance.id, True, "can move", moves), wf, loaded, top


def _reaches_tree(spec, wf) -> bool:
    """Whether ``spec`` or any step after it already has a task in the workflow's tree."""
    seen, stack = set(), [spec]
    while stack:
        other = stack.pop()
        if other.name in seen:
            continue
        seen.add(other.name)
        if wf.get_tasks(spec_name=other.name, skip_subprocesses=True):
            return True
        stack.extend(other.outputs)
    return False


def missing_branches(wf, new_spec) -> list[tuple[object, object]]:
    """(completed task, branch's first spec) for each branch that a parallel gateway of the
    new version starts where the child has already passed: version 2 of the permanence
    journey splits after the legal advice into the route and the six-monthly reviews, and a
    child past the advice on version 1 would otherwise never get those reviews. A branch
    counts as missing when neither its first step nor any step after it is in the child's
    tree (the other branch leads back to where the child is)."""
    found = []
    for gateway in new_spec.task_specs.values():
        if not isinstance(gateway, ParallelGateway) or gateway.name in wf.spec.task_specs \
                or wf.get_tasks(spec_name=gateway.name, skip_subprocesses=True):
            continue
        passed = [t for spec in gateway.inputs for t in wf.get_tasks(
            spec_name=spec.name, state=TaskState.COMPLETED, skip_subprocesses=True)]
        if passed:
            found += [(passed[-1], out) for out in gateway.outputs if not _reaches_tree(out, wf)]
    return found


def _first_visible(spec) -> str:
    """The first named step of a branch (its gateways and joins have no name)."""
    seen, queue = set(), [spec]
    while queue:
        other = queue.pop(0)
        if other.name in seen:
            continue
        seen.add(other.name)
        if other.bpmn_name:
            return other.bpmn_name
        queue.extend(other.outputs)
    return _label(spec)


def _start(wf, branches) -> None:
    """Start each of ``missing_branches`` from the completed task before its gateway, with
    the data the child has now (its open task's, else that task's)."""
    now = next(iter(wf.get_tasks(state=TaskState.READY | TaskState.WAITING,
                                 skip_subprocesses=True)), None)
    for passed, spec in branches:
        task = passed._add_child(spec, TaskState.FUTURE)
        task.data = copy.deepcopy((now or passed).data)
        task._ready()


def move_in_memory(runtime, wf, loaded, top) -> None:
    """Put the workflow on the target version and run it to its next wait, as a migration
    does before it is saved: timers' dates are worked out again from the new rules, and a
    branch the new version starts behind the child is started (``missing_branches``)."""
    branches = missing_branches(wf, loaded.spec)  # read against the version the child is on
    migrate_workflow(top, wf, loaded.spec)
    wf.subprocess_specs = loaded.subprocess_specs
    _start(wf, branches)
    for task in wf.get_tasks(state=TaskState.WAITING):
        task.internal_data.pop("event_value", None)  # recomputed from the new version's rule
    runtime.step(wf)


def migrate(session: Session, runtime, instance: ProcessInstance, target: ProcessModel,
            actor: str) -> MigrationCheck:
    """Move one instance, atomically within the caller's transaction."""
    result, wf, loaded, top = aligned(runtime, instance, target)
    if not result.can_move:
        raise Conflict(f"{instance.subject.reference} cannot move to version {target.version}: "
                       f"{result.reason}.")
    saved = {t.task_spec.name: dict(t.data) for t in wf.get_tasks(state=TaskState.READY, manual=True)}
    open_items = {w.task_name: w for w in session.scalars(select(WorkItem).where(
        WorkItem.instance_id == instance.id, WorkItem.status.in_(("ready", "claimed"))))}
    move_in_memory(runtime, wf, loaded, top)
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        if task.task_spec.name in saved:
            task.data.update(saved[task.task_spec.name])
    from_version = instance.model.version
    instance.model, instance.model_id = target, target.id
    runtime.save(session, instance, wf, actor)
    work_items.refresh(session, instance, wf, runtime.config.rules)
    for item in session.scalars(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                       WorkItem.status == "ready")):
        before = open_items.get(item.task_name)
        if before is not None:
            item.draft, item.assignee_id = before.draft, before.assignee_id
            item.status = "claimed" if before.assignee_id else "ready"
    audit.record(session, "instance_migrated", actor, subject_id=instance.subject_id,
                 instance_id=instance.id, data={"from_version": from_version,
                                                "to_version": target.version, "moves": result.moves})
    session.flush()
    return result
