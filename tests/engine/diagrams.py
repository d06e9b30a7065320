"""Small diagrams for engine tests, built as text so each test shows what it feeds in."""
from __future__ import annotations

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
"""
FORM = '{"type": "object", "properties": {"date_held": {"type": "string", "format": "date"}}}'


def props(**values: str) -> str:
    inner = "".join(f'<spiffworkflow:property name="{k}" value="{v}" />' for k, v in values.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{inner}</spiffworkflow:properties></bpmn:extensionElements>"


def diagram(body: str, *, lane: str = "social_worker", process_id: str = "mini", nodes=()) -> str:
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    return (HEAD + f'<bpmn:process id="{process_id}" isExecutable="true">'
            f'<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="{lane}">{refs}</bpmn:lane></bpmn:laneSet>'
            + body + "</bpmn:process></bpmn:definitions>")


def linear(task_props: str | None = None, *, lane: str = "social_worker",
           gateway_condition: str | None = None, extra: str = "") -> str:
    """start (recording START) → task → (gateway with a condition) → end."""
    task_props = task_props if task_props is not None else props(
        formJsonSchemaFilename="task.schema.json", due="START+3d")
    if gateway_condition is None:
        tail = ('<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />'
                '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>')
        nodes = ("start", "task", "end")
    else:
        tail = ('<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="gw" />'
                '<bpmn:exclusiveGateway id="gw" default="f4"><bpmn:incoming>f2</bpmn:incoming>'
                '<bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>'
                f'<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end"><bpmn:conditionExpression '
                f'xsi:type="bpmn:tFormalExpression">{gateway_condition}</bpmn:conditionExpression></bpmn:sequenceFlow>'
                '<bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end" />'
                '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>')
        nodes = ("start", "task", "gw", "end")
    body = ('<bpmn:startEvent id="start">' + props(milestone="START", milestoneDateField="start")
            + '<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />'
            f'<bpmn:userTask id="task" name="Do it">{task_props}<bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>' + tail + extra)
    return diagram(body, lane=lane, nodes=nodes)


# The runtime tests' small process: start, a two-week timer, one task with due rules.
TIMER_FORM = ('{"type": "object", "required": ["date_held"], "properties": {'
              '"date_held": {"type": "string", "format": "date"}, "note": {"type": "string", "maxLength": 20}}}')


def timer_diagram() -> str:
    """start → timer (START+2w) → task (due START+3w, remind -5d, escalate +2d +7d) → end."""
    body = ('<bpmn:startEvent id="start">' + props(milestone="START", milestoneDateField="start") +
            '<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />'
            '<bpmn:intermediateCatchEvent id="wait" name="Alert"><bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDate '
            'xsi:type="bpmn:tFormalExpression">START+2w</bpmn:timeDate></bpmn:timerEventDefinition>'
            '</bpmn:intermediateCatchEvent>'
            '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="task" />'
            '<bpmn:userTask id="task" name="Hold meeting">' +
            props(formJsonSchemaFilename="task.schema.json", due="START+3w", remind="-5d",
                  escalate="+2d +7d", milestone="MEETING") +
            '<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>'
            '<bpmn:sequenceFlow id="f3" sourceRef="task" targetRef="end" />'
            '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>')
    return diagram(body, process_id="mini", nodes=("start", "wait", "task", "end"))
