"""What a diagram says, as a table (its flow elements, their lanes and PACE properties), the
properties form's edits written back into the XML, and a draft compared with a deployed
version (``engine.migration.diff_specs``) with the colours the two diagrams show.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from engine import migration, registry
from engine.errors import NotFound
from engine.models import ProcessModel
from engine.registry import NS
from engine.xml_safety import UnsafeXml, parse_untrusted

from workflows.process_models.model_validation import Report


# The PACE properties the editor and the properties form offer, in this order.
PACE_PROPERTIES = {
    "due": "Due rule",
    "remind": "Reminder",
    "escalate": "Escalation",
    "milestone": "Milestone",
    "formJsonSchemaFilename": "Form file",
    "formUiSchemaFilename": "Form layout file",
}
FLOW_NODES = ("userTask", "task", "manualTask", "startEvent", "endEvent",
              "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")


# -- what a diagram says, as a table ------------------------------------------------------
@dataclass
class ElementRow:
    element_id: str
    name: str
    kind: str
    lane: str
    properties: dict[str, str]


def _local(node) -> str:
    return etree.QName(node).localname


def element_rows(bpmn_xml: str) -> list[ElementRow]:
    """Tasks and events in diagram order with their lane and PACE properties: the diagram's
    text alternative, and the rows of the properties form."""
    try:
        root = parse_untrusted(bpmn_xml)
    except UnsafeXml:
        return []
    lanes = {}
    for lane in root.iter(f"{{{NS['bpmn']}}}lane"):
        for ref in lane.iterfind(f"{{{NS['bpmn']}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or ""
    rows = []
    for process in root.iter(f"{{{NS['bpmn']}}}process"):
        for node in process.iter():
            if not isinstance(node.tag, str) or node.tag.rsplit("}", 1)[0][1:] != NS["bpmn"] \
                    or _local(node) not in FLOW_NODES:
                continue
            props = {p.get("name"): p.get("value") or "" for p in node.xpath(
                "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                namespaces=NS)}
            rows.append(ElementRow(node.get("id") or "", node.get("name") or "",
                                   re.sub(r"(?<!^)([A-Z])", r" \1", _local(node)).lower(),
                                   lanes.get(node.get("id"), ""), props))
    return rows


def set_properties(bpmn_xml: str, changes: dict[str, dict[str, str]]) -> str:
    """The diagram with ``changes`` ({element id: {property: value}}) written into its
    spiffworkflow:properties; an empty value removes the property. For the properties form
    (no JavaScript needed)."""
    root = parse_untrusted(bpmn_xml)
    spiff = NS["spiffworkflow"]
    for element_id, values in changes.items():
        found = root.xpath("//bpmn:*[@id=$id]", namespaces=NS, id=element_id)
        if not found:
            raise NotFound(f"The diagram has no element {element_id!r}.")
        node = found[0]
        extensions = node.find(f"{{{NS['bpmn']}}}extensionElements")
        if extensions is None:
            extensions = etree.Element(f"{{{NS['bpmn']}}}extensionElements")
            node.insert(_after_documentation(node), extensions)
        holder = extensions.find(f"{{{spiff}}}properties")
        if holder is None:
            holder = etree.SubElement(extensions, f"{{{spiff}}}properties")
        existing = {p.get("name"): p for p in holder.iterfind(f"{{{spiff}}}property")}
        for name, value in values.items():
            value = (value or "").strip()
            if name in existing and not value:
                holder.remove(existing[name])
            elif name in existing:
                existing[name].set("value", value)
            elif value:
                etree.SubElement(holder, f"{{{spiff}}}property", name=name, value=value)
        if not len(holder):
            extensions.remove(holder)
        if not len(extensions):
            node.remove(extensions)
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    return declaration + etree.tostring(root, encoding="unicode")


def _after_documentation(node) -> int:
    index = 0
    for index, child in enumerate(node):
        if not (isinstance(child.tag, str) and _local(child) == "documentation"):
            return index
    return len(node)


# -- compare ------------------------------------------------------------------------------
def compare(deployed: ProcessModel, report: Report) -> migration.ModelDiff:
    """The draft (validated) against a deployed version."""
    return migration.diff_specs(registry.load(deployed).spec, report.spec)


def markers(diff: migration.ModelDiff) -> dict[str, dict[str, str]]:
    """Colours for the two diagrams: the draft shows added and changed elements, the deployed
    version shows removed and changed ones."""
    new, old = {}, {}
    for change in diff.changes:
        if change.kind == "added":
            new[change.element_id] = "added"
        elif change.kind == "removed":
            old[change.element_id] = "removed"
        else:
            new.setdefault(change.element_id, "changed")
            old.setdefault(change.element_id, "changed")
    return {"draft": new, "deployed": old}
