"""Benchmark 5: stored bytes per instance and per audit event at the end of a full journey.

Children whose journey ended (order granted, return home confirmed, kinship order) are
taken from the generator's templates, which the runtime wrote. Figures are the bytes of
what is stored: the instance's serialized state (the engine's spec-less format) and each
audit event (its columns as text: canonical JSON plus the two hashes). Baseline: the same
workflow serialized by SpiffWorkflow's default serializer, which embeds the whole spec.
On-disk sizes (PostgreSQL TOAST compression, indexes) come from the scale benchmark.
"""
from __future__ import annotations

import json
import statistics

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine import audit, serialization
from workflows.engine_config import BPMN_DIR

from .common import Context, Figure

TARGET_KB = 30.0


def _specs(process_id: str):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_DIR / process_id / f"{process_id}.bpmn"))
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def _row_bytes(row: dict) -> int:
    return sum(len(json.dumps(v, default=str).encode()) if isinstance(v, (dict, list))
               else len(str(v).encode()) for v in row.values() if v is not None)


def run(ctx: Context) -> None:
    templates = [t for t in ctx.cache["templates"] if t.stage.startswith("ended:")
                 and t.journey.process_id == "permanence_journey"]
    if not templates:
        ctx.add(Figure("5 bytes", "finished journeys", None, "KB", note="skipped: no finished journey"))
        return
    default = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    specs = _specs("permanence_journey")
    ours, spiff, children, events = [], [], [], []
    for template in templates:
        row = template.rows["process_instance"][-1]
        ours.append(len(row["state"].encode()))
        wf = serialization.loads(row["state"], *specs)
        spiff.append(len(default.serialize_json(wf).encode()))
        children.append(sum(_row_bytes(r) for name, rows in template.rows.items() for r in rows))
        for event in template.rows["audit_event"]:
            events.append(len(audit.canonical(_Event(event)).encode()) + 2 * 64)
    mean = statistics.fmean(ours) / 1024
    ctx.add(Figure("5 bytes", f"finished journey: instance state ({len(ours)} children)", mean, "KB",
                   baseline=statistics.fmean(spiff) / 1024,
                   baseline_name="SpiffWorkflow default serializer (spec embedded)",
                   target=f"≤ {TARGET_KB:.0f} KB", met=max(ours) / 1024 <= TARGET_KB,
                   note=f"max {max(ours) / 1024:.1f} KB"))
    ctx.add(Figure("5 bytes", "finished journey: every row about the child", statistics.fmean(children) / 1024,
                   "KB", note="state + work items + milestones + timers + audit + notifications, as text"))
    ctx.add(Figure("5 bytes", "audit event (canonical JSON + hashes)", statistics.fmean(events), "B",
                   note=f"{len(events) / len(templates):.1f} events per finished child"))


class _Event:
    def __init__(self, row: dict):
        for key in ("chain", "chain_seq", "at", "event_type", "actor", "subject_id", "instance_id",
                    "task_id", "data"):
            setattr(self, key, row[key])
