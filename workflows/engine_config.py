"""The PACE configuration of the generic engine."""
from __future__ import annotations

from pathlib import Path

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


def pace_runtime() -> Runtime:
    """The runtime binds the council settings diagrams name to each command's session."""
    return profiles.make_runtime(pace_config(), rule_settings.SOURCE)
