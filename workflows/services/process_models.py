"""Process models: a process owner's actions, for the pages (web/models_*.py) and
``pace models`` (web/cli/process_models.py) alike.

Reading versions is open to ``policy.MODEL_READ_ROLES``; everything that changes a process
(drafts, deploying, moving children) and the migration dry run (it lists children by
reference) to ``policy.OWNER_ROLES``. Uploads are checked by ``workflows.process_models.drafts``
(``UploadRefused``: an ``InvalidData`` answered 400, or 413 when too large) and diagrams by
``workflows.process_models.model_validation`` (a ``Report`` of every problem with element id, line and fix);
the same functions serve the browser and the command line, so both list the same problems.
Deploying and moving children to a version are in ``model_deployment``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import migration, registry
from engine.errors import FieldError, Forbidden, InvalidData, NotFound
from engine.migration import ModelDiff
from engine.models import ProcessModel
from engine.runtime import Runtime

from workflows.process_models import (changes as model_changes, diagram_elements,
                                       document_templates, drafts as model_drafts,
                                       model_validation, process_ids)
from workflows import policy, profiles
from workflows.process_models.model_validation import Report
from workflows.process_models.drafts import ModelDraft, Upload, UploadRefused
from workflows.policy import Actor
from workflows.measures.tables import PdsaCycle
from workflows.services.actors import account

MAX_REASON = 500
Files = Sequence[tuple[str, bytes]]  # (file name, content) as uploaded or read from disk


class ModelHasProblems(InvalidData):
    """The diagram has problems (``report.findings``), so it was not deployed."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__([FieldError("draft", "Correct the problems listed before deploying.")])


def _may_read(actor: Actor) -> None:
    if not policy.can_read_models(actor):
        raise Forbidden("Your roles do not include reading process models.")


def check_may_change(actor: Actor, session: Session | None = None) -> None:
    if not policy.can_change_models(actor):
        raise Forbidden("Only process owners can change a process.")
    if session is not None:
        account(session, actor)  # still active


# -- reading ----------------------------------------------------------------------------
@dataclass
class ProcessSummary:
    process_id: str
    name: str
    latest: ProcessModel
    running: int
    on_latest: int
    drafts: int


@dataclass
class ProcessHistory:
    process_id: str
    name: str
    versions: list[ProcessModel]          # newest first
    running: dict[int, int]               # children running, per version
    cycles: dict[int, list[PdsaCycle]]    # PDSA cycles, per version
    drafts: list[ModelDraft]              # open drafts (process owners only)


@dataclass
class VersionDetail:
    model: ProcessModel
    latest: ProcessModel
    cycles: list[PdsaCycle]
    running: dict[int, int]


def list_processes(session: Session, actor: Actor) -> list[ProcessSummary]:
    """Every process with its latest version and how many children run on it."""
    _may_read(actor)
    latest = session.execute(select(ProcessModel.process_id, func.max(ProcessModel.version))
                             .group_by(ProcessModel.process_id)).all()
    found = []
    for process_id, number in sorted(latest):
        model = version_or_404(session, process_id, number)
        counts = model_changes.running_counts(session, process_id)
        found.append(ProcessSummary(process_id, model_validation.process_name(process_id, model.name),
                                    model, sum(counts.values()), counts.get(number, 0),
                                    len(model_drafts.open_drafts(session, process_id))))
    return found


def process_history(session: Session, actor: Actor, process_id: str) -> ProcessHistory:
    _may_read(actor)
    versions = list(session.scalars(select(ProcessModel).where(
        ProcessModel.process_id == process_id).order_by(ProcessModel.version.desc())))
    if not versions:
        raise NotFound(f"There is no process {process_id!r}.")
    drafts = model_drafts.open_drafts(session, process_id) \
        if policy.can_change_models(actor) else []
    return ProcessHistory(process_id, model_validation.process_name(process_id, versions[0].name),
                          versions, model_changes.running_counts(session, process_id),
                          model_changes.cycles_by_version(session, process_id, versions), drafts)


def latest_version(session: Session, actor: Actor, process_id: str) -> ProcessModel:
    _may_read(actor)
    found = registry.latest(session, process_id)
    if found is None:
        raise NotFound(f"There is no process {process_id!r}.")
    return found


def get_version(session: Session, actor: Actor, process_id: str, version: int) -> VersionDetail:
    _may_read(actor)
    model = version_or_404(session, process_id, version)
    cycles = model_changes.cycles_by_version(session, process_id, [model]).get(version, [])
    return VersionDetail(model, registry.latest(session, process_id), cycles,
                         model_changes.running_counts(session, process_id))


def version_or_404(session: Session, process_id: str, version: int) -> ProcessModel:
    model = session.scalars(select(ProcessModel).where(ProcessModel.process_id == process_id,
                                                       ProcessModel.version == version)).first()
    if model is None:
        raise NotFound(f"Process {process_id!r} has no version {version}.")
    return model


# -- drafts -----------------------------------------------------------------------------
def get_draft(session: Session, actor: Actor, draft_id: int, *,
              open_only: bool = True) -> ModelDraft:
    """The draft (404 if none); with ``open_only``, 409 once deployed or discarded."""
    check_may_change(actor)
    return model_drafts.get(session, draft_id, open_only=open_only)


def open_draft_to_change(session: Session, actor: Actor, draft_id: int) -> ModelDraft:
    """The open draft an active process owner is about to change."""
    check_may_change(actor, session)
    return model_drafts.get(session, draft_id, open_only=True)


def start_draft(session: Session, actor: Actor, process_id: str,
                version: int | None = None) -> ModelDraft:
    """A draft copied from ``version`` (the latest when None or not found)."""
    check_may_change(actor, session)
    latest = latest_version(session, actor, process_id)
    check_target(session, process_id)
    model = version_or_404(session, process_id, version) \
        if version is not None and 0 < version <= latest.version else latest
    return model_drafts.copy_version(session, model, actor.username)


def upload_target(upload: Upload, process_id: str | None) -> str:
    """The process an upload is for: ``process_id`` (which must exist), or the one
    executable process the diagram declares (a new process, or the next version of one)."""
    if upload.bpmn_xml is None:
        raise UploadRefused("The upload has no diagram: include the .bpmn file.")
    if process_id is not None:
        return process_id
    problem = process_ids.executable_problem(upload.process_ids)
    if problem:
        raise UploadRefused(problem)
    return upload.process_ids[0]


def check_target(session: Session, process_id: str) -> None:
    """Refuse a process no child could follow (its profile is switched off) or one that
    differs from an existing process only in capitals (it would become a second process)."""
    problem = process_ids.switched_off(process_id, profiles.names())
    if problem is None and registry.latest(session, process_id) is None:
        existing = session.scalars(select(ProcessModel.process_id).distinct().where(
            func.lower(ProcessModel.process_id) == process_id.lower()))
        problem = process_ids.case_clash(process_id, existing)
    if problem:
        raise UploadRefused(problem)


def templates_with(session: Session, process_id: str, upload: Upload) -> dict[str, bytes]:
    """The Word templates of the latest version, replaced or added to by those uploaded: a
    diagram exported from a modeler comes without them, and its tasks still name them."""
    latest = registry.latest(session, process_id)
    kept = registry.ModelBundle.decode_documents(latest.documents) if latest else {}
    return {**kept, **(upload.documents or {})}


def check_process_exists(session: Session, process_id: str | None) -> None:
    if process_id is not None and registry.latest(session, process_id) is None:
        raise NotFound(f"There is no process {process_id!r}.")


def upload_draft(session: Session, actor: Actor, files: Files, *, process_id: str | None = None,
                 note: str = "") -> ModelDraft:
    """Uploaded files (a .bpmn and its forms, or a .zip) as a draft of ``process_id`` or of
    the process the diagram declares. Nothing is stored if any file is refused."""
    check_may_change(actor, session)
    check_process_exists(session, process_id)
    upload = document_templates.read_upload(list(files))
    target = upload_target(upload, process_id)
    check_target(session, target)
    latest = registry.latest(session, target)
    return model_drafts.create(session, target, upload.bpmn_xml, upload.forms or {},
                               actor.username, source="upload",
                               base_version=latest.version if latest else None,
                               note=(note or "Uploaded diagram").strip(),
                               documents=templates_with(session, target, upload))


def save_diagram(session: Session, actor: Actor, draft_id: int, files: Files,
                 revision: int | None = None) -> ModelDraft:
    """The editor's diagram (one .bpmn file) replaces the draft's; 409 when someone saved
    the draft after ``revision``."""
    draft = open_draft_to_change(session, actor, draft_id)
    upload = model_drafts.read_upload(list(files))
    if upload.bpmn_xml is None or upload.forms:
        raise UploadRefused("The editor sends one diagram; nothing else can be saved here.")
    return model_drafts.save_diagram(session, draft, upload.bpmn_xml, actor.username, revision)


def set_properties(session: Session, actor: Actor, draft_id: int,
                   values: Mapping[str, Mapping[str, str]], revision: int | None = None) -> int:
    """Write PACE properties ({element id: {property: value}}; an empty value removes one)
    into the draft's diagram; returns how many changed."""
    draft = open_draft_to_change(session, actor, draft_id)
    rows = {r.element_id: r for r in diagram_elements.element_rows(draft.bpmn_xml)}
    unknown = [FieldError(f"p.{element_id}.{name}", "There is no such element or property.")
               for element_id, given in values.items() for name in given
               if element_id not in rows or name not in diagram_elements.PACE_PROPERTIES]
    if unknown:
        raise InvalidData(unknown)
    changes: dict[str, dict[str, str]] = {}
    for element_id, given in values.items():
        for name, value in given.items():
            value = (value or "").strip()[:500]
            if rows[element_id].properties.get(name, "") != value:
                changes.setdefault(element_id, {})[name] = value
    if changes:
        model_drafts.save_diagram(session, draft, diagram_elements.set_properties(
            draft.bpmn_xml, changes), actor.username, revision)
    return sum(len(v) for v in changes.values())


def add_files(session: Session, actor: Actor, draft_id: int, files: Files) -> list[str]:
    """Forms and Word templates (added or replaced) and/or a diagram (replaced); returns
    what changed."""
    draft = open_draft_to_change(session, actor, draft_id)
    upload = document_templates.read_upload(list(files))
    return model_drafts.add_files(session, draft, upload, actor.username)


def remove_form(session: Session, actor: Actor, draft_id: int, name: str) -> None:
    draft = open_draft_to_change(session, actor, draft_id)
    model_drafts.remove_form(session, draft, name, actor.username)


def discard_draft(session: Session, actor: Actor, draft_id: int) -> ModelDraft:
    draft = open_draft_to_change(session, actor, draft_id)
    model_drafts.discard(session, draft, actor.username)
    return draft


# -- check, compare ---------------------------------------------------------------------
def validate_bundle(runtime: Runtime, bundle: registry.ModelBundle,
                    session: Session | None = None) -> Report:
    """The check; with ``session``, also what only the deployed processes show (an end
    event whose startsProcess leads back to this process through them)."""
    report = model_validation.validate(bundle, model_validation.validation_context(
        runtime, bundle.process_id))
    if session is not None and report.ok:
        report.findings.extend(model_validation.Finding(
            p.element_id, "", p.line, p.message, model_validation.fix_for(p.message))
            for p in registry.start_cycles(session, bundle))
    return report


@dataclass
class DraftCheck:
    draft: ModelDraft
    latest: ProcessModel | None   # the latest deployed version of its process
    report: Report | None         # None once the draft is deployed or discarded


def check_draft(session: Session, runtime: Runtime, actor: Actor, draft_id: int) -> DraftCheck:
    """Every problem with the draft, as deploying would find them."""
    draft = get_draft(session, actor, draft_id, open_only=False)
    report = validate_bundle(runtime, draft.bundle(), session) if draft.status == "open" \
        else None
    return DraftCheck(draft, registry.latest(session, draft.process_id), report)


@dataclass
class FilesCheck:
    process_id: str
    report: Report


def check_files(session: Session, runtime: Runtime, actor: Actor, files: Files, *,
                process_id: str | None = None) -> FilesCheck:
    """Check files as uploading them would, and then the draft's check: nothing is stored."""
    _may_read(actor)
    check_process_exists(session, process_id)
    upload = document_templates.read_upload(list(files))
    target = upload_target(upload, process_id)
    check_target(session, target)
    return FilesCheck(target, validate_bundle(runtime, registry.ModelBundle(
        target, upload.bpmn_xml, upload.forms or {}, templates_with(session, target, upload)),
        session))


@dataclass
class DraftChanges:
    draft: ModelDraft
    latest: ProcessModel | None
    report: Report
    diff: ModelDiff | None      # None while the draft has problems, or for a new process


def draft_changes(session: Session, runtime: Runtime, actor: Actor,
                  draft_id: int) -> DraftChanges:
    draft = get_draft(session, actor, draft_id)
    latest = registry.latest(session, draft.process_id)
    report = validate_bundle(runtime, draft.bundle())
    diff = diagram_elements.compare(latest, report) if report.ok and latest else None
    return DraftChanges(draft, latest, report, diff)


@dataclass(frozen=True)
class VersionRef:
    """A deployed version, one side of a comparison."""
    process_id: str
    version: int


@dataclass
class Comparison:
    process_id: str
    before: str                 # what the left side is: "version 1", or the files' names
    after: str
    diff: ModelDiff
    versions: tuple[ProcessModel | None, ProcessModel | None]  # the deployed sides, if any


def _side(session: Session, runtime: Runtime, side: VersionRef | Files):
    """(spec, label, process id, deployed model or None) of one side of a comparison."""
    if isinstance(side, VersionRef):
        model = version_or_404(session, side.process_id, side.version)
        return registry.load(model).spec, f"version {model.version}", model.process_id, model
    upload = document_templates.read_upload(list(side))
    target = upload_target(upload, None)
    report = validate_bundle(runtime, registry.ModelBundle(target, upload.bpmn_xml,
                                                           upload.forms or {},
                                                           templates_with(session, target,
                                                                          upload)))
    if not report.ok:
        raise ModelHasProblems(report)
    label = next((name for name, _ in side if name.lower().endswith(
        (*model_drafts.DIAGRAM_SUFFIXES, ".zip"))), side[0][0] if side else "the files")
    return report.spec, label, target, None


def compare(session: Session, runtime: Runtime, actor: Actor, before: VersionRef | Files,
            after: VersionRef | Files) -> Comparison:
    """What changes from ``before`` to ``after``: any two deployed versions of a process
    (the compare page), or files against a version or each other (``pace models diff``),
    listed as the draft's changes page lists them. Files are checked first: a diagram with
    problems cannot be compared (``ModelHasProblems``)."""
    _may_read(actor)
    old_spec, old_label, old_process, old_model = _side(session, runtime, before)
    new_spec, new_label, new_process, new_model = _side(session, runtime, after)
    if old_process != new_process:
        raise InvalidData([FieldError("after", f"{old_label} is of the process {old_process!r} "
                                               f"and {new_label} of {new_process!r}: compare two "
                                               "versions of one process.")])
    return Comparison(new_process, old_label, new_label,
                      migration.diff_specs(old_spec, new_spec), (old_model, new_model))
