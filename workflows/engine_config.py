"""The PACE configuration of the generic engine."""
from __future__ import annotations

from pathlib import Path

from engine.runtime import EngineConfig, Runtime

from .due_rules import DueRules
from .vocabulary import ESCALATION_ROLES, QUEUE_ROLES

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"

# Script tasks may call only these (none are needed by the PACE diagrams today).
SCRIPT_FUNCTIONS: dict = {}


def pace_config() -> EngineConfig:
    return EngineConfig(rules=DueRules(), roles=QUEUE_ROLES, escalation_roles=ESCALATION_ROLES,
                        script_functions=SCRIPT_FUNCTIONS)


def pace_runtime() -> Runtime:
    return Runtime(pace_config())
