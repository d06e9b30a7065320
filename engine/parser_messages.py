"""What SpiffWorkflow's parser objects to, said in words a process owner can act on.

The parser's own messages are written for programmers: an XML Schema error quoting
namespaces and ``xs:ID``, "No DMN Diagram available with id …", "The process 'x' was not
found. Did you mean …". A process owner needs the element (id, line) and what to draw
instead. ``problems`` turns a ``ValidationException`` into such problems, finding
the element in the diagram when the library names none; a message not recognised here is
never passed on raw (it is logged), the element is named with a general fix.
``duplicate_ids`` is checked before the parser runs, because the schema's error names only
one of the elements that share an id and none of their lines.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict

from lxml import etree

log = logging.getLogger(__name__)
Found = tuple[str, "int | None", str]  # element id, line, message: a registry Problem's fields

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_XSD_ID = re.compile(r"'([^']*)' is not a valid value of the atomic type 'xs:ID'")
_XSD_ELEMENT = re.compile(r"^Element '(?:\{[^}]*\})?([A-Za-z]+)'(?:, attribute '([^']+)')?")
_MISSING_PROCESS = re.compile(r"The process '([^']*)' was not found")
_MISSING_DMN = re.compile(r'No DMN Diagram available with id "([^"]*)"')


def duplicate_ids(root) -> list[Found]:
    """One problem per id that two or more elements share, naming every line."""
    lines: dict[str, list[int]] = defaultdict(list)
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id"):
            lines[node.get("id")].append(node.sourceline)
    return [(element_id, found[0],
                    f"the id {element_id!r} is used by {len(found)} elements (lines "
                    f"{', '.join(str(n) for n in found)}): every element needs its own id")
            for element_id, found in lines.items() if len(found) > 1]


def _kind(node) -> str:
    local = etree.QName(node).localname
    return re.sub(r"(?<!^)([A-Z])", r" \1", local).lower()


def _at_line(root, line) -> object | None:
    if not line:
        return None
    return next((n for n in root.iter() if isinstance(n.tag, str) and n.sourceline == line
                 and n.get("id")), None)


def _by_attribute(root, tag: str, attribute: str, value: str):
    return next((n for n in root.iter(f"{{{_BPMN}}}{tag}") if n.get(attribute) == value), None)


def problems(exc, root) -> list[Found]:
    """``exc`` (a SpiffWorkflow ``ValidationException``) as plain problems."""
    text = str(exc).split("\n")[0].strip()
    line = getattr(exc, "line_number", None) or None
    element_id = getattr(exc, "id", "") or ""
    node = _at_line(root, line) if not element_id else next(
        (n for n in root.iter() if isinstance(n.tag, str) and n.get("id") == element_id), None)

    def problem(message, where=None):
        where = where if where is not None else node
        if where is not None:
            return [(where.get("id") or "", where.sourceline, message)]
        return [(element_id, line, message)]

    if match := _XSD_ID.search(text):
        value = match.group(1)
        return problem(f"the id {value!r} is not a valid element id: an id must start with a "
                       "letter or '_' and hold only letters, digits, '_', '-' and '.' (no spaces)")
    if match := _MISSING_PROCESS.search(text):
        called = _by_attribute(root, "callActivity", "calledElement", match.group(1))
        return problem(f"calls the process {match.group(1)!r}, which is not in this diagram: "
                       "PACE Flow runs the one process of each diagram, so draw those steps in "
                       "this process (as tasks, or a subprocess) instead", called)
    if match := _MISSING_DMN.search(text):
        return problem("is a business rule task (a DMN decision table), which PACE Flow cannot "
                       "run: decide with an exclusive gateway whose conditions read form fields")
    if "no support implemented for this task type" in text:
        kind = _kind(node) if node is not None else "element"
        return problem(f"is a {kind}, which PACE Flow cannot run: use user tasks, gateways, "
                       "timer events, subprocesses and start and end events")
    if text.startswith("No start event found"):
        return problem("the process has no start event: draw one where a child's journey begins")
    if "Time Specification" in text:
        return problem("the timer's date cannot be read: write it as a due rule such as "
                       "LA_START+6m, or a quoted ISO date")
    if text.startswith("Duplicate process ID"):
        return problem("two processes in the file have the same id: give each its own id")
    if match := _XSD_ELEMENT.match(text):
        kind, attribute = match.group(1), match.group(2)
        what = f"the {attribute!r} attribute of this {kind}" if attribute else f"this {kind}"
        log.info("diagram schema error at line %s: %s", line, text)
        return problem(f"{what} does not follow the BPMN 2.0 standard, so the diagram cannot be "
                       "read: open the diagram in a BPMN modeler, correct or redraw the element, "
                       "and save it again")
    log.warning("unrecognised diagram parser message at line %s (%s): %s", line, element_id, text)
    kind = f"this {_kind(node)}" if node is not None else "the diagram"
    return problem(f"the workflow engine cannot read {kind} as drawn: redraw it with standard "
                   "BPMN elements (user tasks, gateways, timer events, start and end events)")
