"""Deploy-time validation: every problem named with its element id, nothing unsafe deployed."""
import pytest

from engine.registry import InvalidModel, ModelBundle, parse_bundle
from workflows.engine_config import pace_config

from .diagrams import FORM, HEAD, linear, props

CTX = pace_config().validation_context()


def problems(xml: str, forms=None) -> list[str]:
    bundle = ModelBundle("mini", xml, forms if forms is not None else {"task.schema.json": FORM})
    with pytest.raises(InvalidModel) as err:
        parse_bundle(bundle, CTX)
    return [str(p) for p in err.value.problems]


def test_a_clean_diagram_parses():
    spec, _, _ = parse_bundle(ModelBundle("mini", linear(), {"task.schema.json": FORM}), CTX)
    assert "task" in spec.task_specs


@pytest.mark.parametrize("condition, what", [
    ("route.__class__ == 'str'", "attribute access"),
    ("__import__('os').system('id')", "function call"),
    ("open('/etc/passwd').read()", "function call"),
])
def test_unsafe_gateway_conditions_are_rejected_with_element_id(condition, what):
    found = problems(linear(gateway_condition=condition))
    assert any(p.startswith("f3") and what in p for p in found), found


@pytest.mark.parametrize("rule", ["START.year", "__import__('os')", "START+os.system(1)d", "len(START)"])
def test_unsafe_due_rules_are_rejected_with_element_id(rule):
    xml = linear(props(formJsonSchemaFilename="task.schema.json", due=rule.replace("'", "&apos;")))
    found = problems(xml)
    assert any(p.startswith("task") and "due rule" in p for p in found), found


def test_script_task_not_on_allow_list_is_rejected():
    extra = ('<bpmn:scriptTask id="sneaky"><bpmn:incoming>fx</bpmn:incoming>'
             '<bpmn:script>import os; os.system("id")</bpmn:script></bpmn:scriptTask>'
             '<bpmn:sequenceFlow id="fx" sourceRef="start" targetRef="sneaky" />')
    found = problems(linear(extra=extra))
    assert any(p.startswith("sneaky") and "script task" in p for p in found), found


def test_pre_and_post_scripts_are_rejected():
    task_props = ("<bpmn:extensionElements><spiffworkflow:preScript>import os</spiffworkflow:preScript>"
                  "<spiffworkflow:properties><spiffworkflow:property name='due' value='START+1d'/>"
                  "<spiffworkflow:property name='formJsonSchemaFilename' value='task.schema.json'/>"
                  "</spiffworkflow:properties></bpmn:extensionElements>")
    found = problems(linear(task_props))
    assert any("preScript" in p for p in found), found


def test_xxe_payload_is_rejected_before_parsing():
    xml = linear().replace(HEAD, HEAD.replace('<?xml version="1.0" encoding="UTF-8"?>',
                           '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'))
    assert any("DOCTYPE" in p for p in problems(xml))


def test_unknown_lane_missing_form_and_traversal_are_each_reported():
    assert any("lane 'wizard'" in p for p in problems(linear(lane="wizard")))
    assert any("not among the uploaded forms" in p for p in problems(linear(), forms={}))
    xml = linear(props(formJsonSchemaFilename="../../etc/passwd.json", due="START+1d"))
    assert any("plain file name" in p for p in problems(xml))


def test_broken_form_schema_is_reported():
    assert any("not a valid JSON Schema" in p or "not valid JSON" in p
               for p in problems(linear(), forms={"task.schema.json": '{"type": 5}'}))


def test_unreachable_element_is_reported():
    extra = ('<bpmn:userTask id="orphan"><bpmn:outgoing>fo</bpmn:outgoing></bpmn:userTask>'
             '<bpmn:sequenceFlow id="fo" sourceRef="orphan" targetRef="end" />')
    assert any(p.startswith("orphan") and "cannot be reached" in p for p in problems(linear(extra=extra)))


def test_event_based_gateway_is_rejected_with_what_to_use_instead():
    """Deployed, the child would reach the gateway and stop: its timers are not swept."""
    from .diagrams import diagram
    body = ('<bpmn:startEvent id="start">' + props(milestone="START", milestoneDateField="start")
            + '<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="race" />'
            '<bpmn:eventBasedGateway id="race"><bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:outgoing>f2</bpmn:outgoing></bpmn:eventBasedGateway>'
            '<bpmn:sequenceFlow id="f2" sourceRef="race" targetRef="wait" />'
            '<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f2</bpmn:incoming>'
            '<bpmn:outgoing>f3</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDate '
            'xsi:type="bpmn:tFormalExpression">START+1w</bpmn:timeDate></bpmn:timerEventDefinition>'
            '</bpmn:intermediateCatchEvent>'
            '<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />'
            '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>')
    found = problems(diagram(body, nodes=("start", "race", "wait", "end")))
    assert len(found) == 1, found
    assert found[0].startswith("race (line ") and "event-based gateway" in found[0]
    assert "boundary timer event" in found[0]
