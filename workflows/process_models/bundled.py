"""Deploy the diagrams shipped in ``bpmn/`` (on ``pace init-db``): those of every enabled
profile (PACE_PROFILES), each validated against its own profile's lanes."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from engine import registry
from engine.models import ProcessModel

from workflows import profiles
from workflows.process_models import document_templates
from workflows.engine_config import BPMN_DIR, pace_config


def deploy_bundled(session: Session, actor: str = "system", folder: Path = BPMN_DIR,
                   reason: str = "Diagrams shipped with PACE Flow") -> list[tuple[ProcessModel, bool]]:
    config = pace_config()
    deployed = []
    for profile in profiles.enabled():
        ctx = registry.ValidationContext(frozenset(profile.roles), config.rules,
                                         frozenset(config.script_functions),
                                         document_check=document_templates.check)
        for pid in profile.processes:
            bundle = registry.ModelBundle.from_directory(profile.process_folder(pid, folder))
            deployed.append(registry.deploy(session, bundle, ctx, actor, reason=reason))
    return deployed
