"""Deploy the diagrams shipped in ``bpmn/`` (on ``pace init-db``)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from engine import registry
from engine.models import ProcessModel

from .engine_config import BPMN_DIR, pace_config
from .vocabulary import PROCESSES


def deploy_bundled(session: Session, actor: str = "system", folder: Path = BPMN_DIR,
                   reason: str = "Diagrams shipped with PACE Flow") -> list[tuple[ProcessModel, bool]]:
    ctx = pace_config().validation_context()
    return [registry.deploy(session, registry.ModelBundle.from_directory(folder / pid), ctx, actor,
                            reason=reason) for pid in PROCESSES]
