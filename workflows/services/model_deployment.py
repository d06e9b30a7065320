"""Process models: deploying a draft or files as a new version, and moving running children
to a version (the dry run, the choice, the move), for the pages and ``pace models`` alike.
Both are for ``policy.OWNER_ROLES`` (the dry run lists children by reference); reading
versions and editing drafts are in ``process_models``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine import registry
from engine.errors import FieldError, InvalidData
from engine.models import ProcessModel
from engine.runtime import Runtime

from workflows.policy import Actor
from workflows.measures.tables import PdsaCycle
from workflows.process_models import (changes as model_changes, document_templates,
                                       drafts as model_drafts,
                                       model_validation)
from workflows.process_models.changes import Candidate, Outcome
from workflows.services.process_models import (MAX_REASON, Files, ModelHasProblems,
                                               check_may_change, check_process_exists, check_target,
                                               open_draft_to_change, upload_target,
                                               templates_with, validate_bundle,
                                               version_or_404)



# -- deploy -----------------------------------------------------------------------------
@dataclass
class Deployment:
    model: ProcessModel
    created: bool               # False: identical to the latest version, nothing deployed


def _deploy(session: Session, runtime: Runtime, actor: Actor, bundle: registry.ModelBundle,
            reason: str, pdsa_cycle_id: int | None, council: str) -> Deployment:
    report = validate_bundle(runtime, bundle, session)
    if not report.ok:
        raise ModelHasProblems(report)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData([FieldError("reason", "Enter why this version is being deployed")])
    if len(reason) > MAX_REASON:
        raise InvalidData([FieldError("reason", f"The reason must be {MAX_REASON} characters "
                                                "or fewer")])
    if pdsa_cycle_id is not None:
        cycle = session.get(PdsaCycle, pdsa_cycle_id)
        if cycle is None or cycle.council != council:
            raise InvalidData([FieldError("pdsa_cycle", f"There is no PDSA cycle {pdsa_cycle_id}: "
                                                        "choose another, or none.")])
    ctx = model_validation.validation_context(runtime, bundle.process_id)
    try:
        model, created = model_changes.deploy(session, bundle, ctx, actor.username, reason,
                                              pdsa_cycle_id, council)
    except registry.InvalidModel as exc:
        # What only the deployed processes show (a startsProcess cycle through them).
        report.findings.extend(model_validation.Finding(
            p.element_id, "", p.line, p.message, model_validation.fix_for(p.message))
            for p in exc.problems)
        raise ModelHasProblems(report) from None
    return Deployment(model, created)


def deploy_draft(session: Session, runtime: Runtime, actor: Actor, draft_id: int, reason: str,
                 pdsa_cycle_id: int | None, council: str) -> Deployment:
    """The draft as version N+1 with the reason and (optionally) the PDSA cycle it tests.
    400 for problems, a missing reason or an unknown cycle; an identical draft is not
    deployed (``created`` False) and stays open."""
    draft = open_draft_to_change(session, actor, draft_id)
    done = _deploy(session, runtime, actor, draft.bundle(), reason, pdsa_cycle_id, council)
    if done.created:
        model_drafts.mark_deployed(session, draft, done.model, actor.username)
    return done


def deploy_files(session: Session, runtime: Runtime, actor: Actor, files: Files, reason: str,
                 pdsa_cycle_id: int | None, council: str, *,
                 process_id: str | None = None) -> Deployment:
    """Files (a .bpmn and its forms, or a .zip) deployed as the next version, checked as an
    upload and a draft are: the command line's deploy, for diagrams kept elsewhere."""
    check_may_change(actor, session)
    check_process_exists(session, process_id)
    upload = document_templates.read_upload(list(files))
    target = upload_target(upload, process_id)
    check_target(session, target)
    return _deploy(session, runtime, actor, registry.ModelBundle(
        target, upload.bpmn_xml, upload.forms or {}, templates_with(session, target, upload)),
                   reason, pdsa_cycle_id, council)


# -- migrate ----------------------------------------------------------------------------
@dataclass
class MigrationPlan:
    target: ProcessModel
    candidates: list[Candidate]   # every running child on another version

    @property
    def movable(self) -> list[Candidate]:
        return [c for c in self.candidates if c.can_move]


def migration_plan(session: Session, runtime: Runtime, actor: Actor, process_id: str,
                   version: int) -> MigrationPlan:
    """Dry run: each running child on another version, whether it can move and where its
    open steps land. Nothing is written."""
    check_may_change(actor)
    target = version_or_404(session, process_id, version)
    return MigrationPlan(target, model_changes.plan(session, runtime, target))


def choose_children(plan: MigrationPlan, *, instance_ids: Sequence[int] | None = None,
                    references: Sequence[str] | None = None) -> list[Candidate]:
    """The children to move: those named (by process instance id, from the page; by
    reference, from the command line), or every one that can move when none are named."""
    if references:
        known = {c.reference: c for c in plan.candidates}
        unknown = [r for r in references if r not in known]
        if unknown:
            raise InvalidData([FieldError("child", f"{r} is not a running child on another "
                                                   f"version of this process") for r in unknown])
        chosen = [c for c in plan.candidates if c.reference in set(references)]
    elif instance_ids is not None:
        picked = set(instance_ids)
        chosen = [c for c in plan.candidates if c.instance_id in picked]
    else:
        chosen = plan.movable
    if not chosen:
        raise InvalidData([FieldError("instance", "Choose at least one child who can move."
                                      if plan.movable else "No child can move to this version.")])
    return chosen


def migrate_children(database, actor: Actor, process_id: str, version: int, *,
                     instance_ids: Sequence[int] | None = None,
                     references: Sequence[str] | None = None) -> list[Outcome]:
    """Move the chosen children (``choose_children``) to the version, each in its own
    transaction (so this takes the ``workflows.app.Database``, not a session): a child that
    cannot move, or changed meanwhile, is reported and left exactly as it was."""
    with database.transaction() as session:
        check_may_change(actor, session)
        plan = migration_plan(session, database.runtime, actor, process_id, version)
        chosen = choose_children(plan, instance_ids=instance_ids, references=references)
        target_id = plan.target.id
    return model_changes.migrate_each(database, target_id, [c.instance_id for c in chosen],
                                      actor.username)
