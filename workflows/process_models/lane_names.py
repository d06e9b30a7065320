"""A diagram as people read it: lanes named by role ("Team leader"), not by role code.

A lane's ``name`` in the BPMN file is the role code the engine routes the lane's tasks by
(``team_leader``), so the stored diagram must keep it. The read-only viewers (a version's
page, the auditor's diagram) draw a copy whose lanes carry the role names of the process's
profile instead; the editor keeps the codes, since they are what a process owner edits.
"""
from __future__ import annotations

from lxml import etree

from engine.xml_safety import parse_untrusted
from workflows import profiles

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def with_role_names(bpmn_xml: str, process_id: str) -> str:
    """The diagram with each lane named by its role's label in the process's profile."""
    root = parse_untrusted(bpmn_xml)
    profile = profiles.for_process(process_id)
    for lane in root.iter(f"{{{BPMN}}}lane"):
        code = (lane.get("name") or "").strip()
        if code:
            lane.set("name", profiles.role_label(code, profile))
    return etree.tostring(root, encoding="unicode")
