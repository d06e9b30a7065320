"""SpiffWorkflow's parser refusals in a process owner's words (engine/parser_messages.py).

The diagrams go through the real parser (``parse_bundle`` without the domain's checks, so
the library itself meets each construct); every problem must name the element and its line
and hold none of the library's own wording.
"""
import pytest

from engine.registry import InvalidModel, ModelBundle, parse_bundle

from .diagrams import FORM, diagram, linear

LIBRARY_WORDS = ("xs:ID", "{http://", "No DMN Diagram", "Did you mean", "atomic type",
                 "was not found", "Traceback")


def parser_problems(xml: str):
    with pytest.raises(InvalidModel) as err:
        parse_bundle(ModelBundle("mini", xml, {"task.schema.json": FORM}))
    for problem in err.value.problems:
        for words in LIBRARY_WORDS:
            assert words not in problem.message, problem
    return err.value.problems


def line_of(xml: str, needle: str) -> int:
    return xml[:xml.index(needle)].count("\n") + 1


def _multiline(xml: str) -> str:
    return xml.replace("><", ">\n<")


def test_duplicate_ids_name_the_id_and_every_line():
    xml = _multiline(linear(extra='<bpmn:sequenceFlow id="task" sourceRef="start" targetRef="end" />'))
    [found] = parser_problems(xml)
    lines = (line_of(xml, '<bpmn:userTask id="task"'), line_of(xml, '<bpmn:sequenceFlow id="task"'))
    assert found.element_id == "task" and found.line == lines[0]
    assert found.message == (f"the id 'task' is used by 2 elements (lines {lines[0]}, {lines[1]}): "
                             "every element needs its own id")


def test_an_id_that_is_not_an_xml_id_is_named_with_its_element_and_line():
    xml = _multiline(linear().replace('id="task"', 'id="1 task"').replace(
        'targetRef="task"', 'targetRef="1 task"').replace('sourceRef="task"', 'sourceRef="1 task"'))
    [found] = parser_problems(xml)
    assert (found.element_id, found.line) == ("f2", line_of(xml, '<bpmn:sequenceFlow id="f2"'))
    assert found.message.startswith("the 'sourceRef' attribute of this sequenceFlow does not "
                                    "follow the BPMN 2.0 standard")


def test_a_business_rule_task_is_named_with_what_to_draw_instead():
    xml = _multiline(linear(extra='<bpmn:businessRuleTask id="decide"><bpmn:extensionElements>'
                                  '<spiffworkflow:calledDecisionId>table</spiffworkflow:calledDecisionId>'
                                  '</bpmn:extensionElements><bpmn:incoming>f9</bpmn:incoming>'
                                  '</bpmn:businessRuleTask>'
                                  '<bpmn:sequenceFlow id="f9" sourceRef="start" targetRef="decide" />'))
    [found] = parser_problems(xml)
    assert (found.element_id, found.line) == ("decide", line_of(xml, '<bpmn:businessRuleTask'))
    assert "is a business rule task (a DMN decision table), which PACE Flow cannot run" in found.message


def test_a_call_activity_to_a_process_not_in_the_file_is_named():
    xml = _multiline(linear(extra='<bpmn:callActivity id="call_panel" calledElement="panel">'
                                  '<bpmn:incoming>f9</bpmn:incoming></bpmn:callActivity>'
                                  '<bpmn:sequenceFlow id="f9" sourceRef="start" targetRef="call_panel" />'))
    [found] = parser_problems(xml)
    assert (found.element_id, found.line) == ("call_panel", line_of(xml, "<bpmn:callActivity"))
    assert found.message.startswith("calls the process 'panel', which is not in this diagram")


def test_a_process_without_a_start_event_is_told_to_draw_one():
    xml = diagram('<bpmn:endEvent id="end" />', nodes=("end",))
    found = parser_problems(xml)
    assert any("has no start event" in p.message for p in found), found
