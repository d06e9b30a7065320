"""Tasks marked to repeat themselves (multi-instance or standard loop), refused before deploy.

BPMN lets a modeler mark a task to run once per item of a list ("multi-instance", the three
bars) or again while a condition holds ("loop", the circular arrow). The collection, the
cardinality and the loop condition are expressions over process data that no PACE form
fills, and the repeated task has no single work item or due date: a child reaching one stops
with an error (the regression corpus's SpiffWorkflow diagrams found it). What to draw
instead is a flow back to the task through a gateway on a form field.
"""
from __future__ import annotations

from lxml import etree

Found = tuple[str, "int | None", str]  # element id, line, message: a registry Problem's fields

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_MARKERS = {"multiInstanceLoopCharacteristics": "marked multi-instance (to run once per item "
                                                "of a list)",
            "standardLoopCharacteristics": "marked as a loop (to run again while a "
                                           "condition holds)"}


def problems(root) -> list[Found]:
    found = []
    for marker, what in _MARKERS.items():
        for node in root.iter(f"{{{_BPMN}}}{marker}"):
            owner = node.getparent()
            kind = etree.QName(owner).localname
            found.append((owner.get("id") or "", owner.sourceline,
                          f"is a {kind} {what}, which PACE Flow cannot run: it has no single "
                          "task for a worker and no due date; remove the marker and, to repeat "
                          "the step, draw a sequence flow back to it through an exclusive "
                          "gateway whose condition reads a form field"))
    return found
