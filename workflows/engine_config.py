"""The PACE configuration of the generic engine."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import object_session

from engine.models import ProcessInstance
from engine.runtime import EngineConfig, Runtime

from . import profiles, rule_settings
from .notifications import pace_notifications

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"

# Script tasks may call only these (none are needed by the PACE diagrams today).
SCRIPT_FUNCTIONS: dict = {}


def pace_config() -> EngineConfig:
    """The enabled profiles' configuration (PACE_PROFILES; Scotland alone by default: Scottish
    bank holidays, the PACE lanes, team leader then service manager)."""
    return profiles.engine_config(script_functions=SCRIPT_FUNCTIONS,
                                  notifications=pace_notifications(),
                                  settings=rule_settings.SOURCE)


class PaceRuntime(profiles.ProfileRuntime):
    """Also tells the council settings diagrams name (workflows/rule_settings.py) which
    session to read them in: the command's, whenever it loads or starts an instance."""

    def load_workflow(self, instance: ProcessInstance):
        rule_settings.bind(object_session(instance))
        return super().load_workflow(instance)

    def start(self, session, process_id, subject, data, actor, *, parent=None):
        token = rule_settings.bind(session)
        try:
            return super().start(session, process_id, subject, data, actor, parent=parent)
        finally:
            rule_settings.unbind(token)


def pace_runtime() -> Runtime:
    return PaceRuntime(pace_config())
