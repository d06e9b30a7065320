"""Workflow state without its spec.

SpiffWorkflow's default serialization embeds the whole parsed diagram in every instance
(about half of the bytes) and rebuilds it on every load. The diagram already lives in the
immutable ``process_model`` row and is parsed once per version, so this converter stores
only the instance's own state and, on load, attaches the cached spec objects instead.
"""
from __future__ import annotations

import contextvars
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

_specs: contextvars.ContextVar[tuple] = contextvars.ContextVar("pace_workflow_specs")


class ModelReferenceConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = _specs.get()
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_CONFIG = dict(SPIFF_CONFIG)
_CONFIG[BpmnWorkflow] = ModelReferenceConverter
_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))


def dumps(wf: BpmnWorkflow) -> str:
    return _SERIALIZER.serialize_json(wf)


def loads(text: str, spec, subprocess_specs) -> BpmnWorkflow:
    token = _specs.set((spec, subprocess_specs))
    try:
        return _SERIALIZER.deserialize_json(text)
    finally:
        _specs.reset(token)


def registry():
    """The serializer's converter registry (SpiffWorkflow's diff utilities need it)."""
    return _SERIALIZER.registry
