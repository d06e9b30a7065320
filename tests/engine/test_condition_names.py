"""A condition may read only what is recorded before a child reaches it: a field of the form
of a task the child has finished, the process's start data, or a start event's
milestoneDateField. Anything else would stop the child with an error at the gateway, so the
check refuses it, naming the flow, its line, the name and the nearest recorded names."""
from __future__ import annotations

import json
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from engine.runnable_checks import condition_name_problems, construct_problems, form_fields

from .diagrams import HEAD, props

FORMS = {
    "plan.json": json.dumps({"type": "object", "properties": {
        "route": {"type": "string"}, "decision": {"type": "string"}}}),
    "review.json": json.dumps({"type": "object", "properties": {"closing_note": {"type": "string"}}}),
}


def task(task_id: str, form: str, into: str, out: str, extra: str = "") -> str:
    return (f'<bpmn:userTask id="{task_id}">{props(formJsonSchemaFilename=form, **({"milestoneWhen": extra} if extra else {}))}'
            f'<bpmn:incoming>{into}</bpmn:incoming><bpmn:outgoing>{out}</bpmn:outgoing></bpmn:userTask>')


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    inner = "" if condition is None else \
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}</bpmn:conditionExpression>'
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{inner}</bpmn:sequenceFlow>'


START = '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'


def gateway_after(condition: str, *, first: str = "plan.json", later: str = "review.json",
                  start: str = START) -> str:
    """start → task a (form ``first``) → gateway: the condition leads to task b (form
    ``later``), the default to the end."""
    return (start + flow("f1", "start", "a") + task("a", first, "f1", "f2") + flow("f2", "a", "gw")
            + '<bpmn:exclusiveGateway id="gw" default="f4"><bpmn:incoming>f2</bpmn:incoming>'
            '<bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>'
            + flow("f3", "gw", "b", condition) + flow("f4", "gw", "end")
            + task("b", later, "f3", "f5") + flow("f5", "b", "end")
            + '<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming>'
            '<bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>')


def found(body: str, start_data=(), forms=FORMS) -> list[tuple]:
    root = etree.fromstring((HEAD + '<bpmn:process id="p" isExecutable="true">' + body
                             + "</bpmn:process></bpmn:definitions>").encode())
    return condition_name_problems(root, forms, start_data)


def test_a_field_of_a_form_answered_before_the_gateway_may_be_read():
    assert found(gateway_after("route == 'home' and decision != 'no'")) == []


def test_a_name_no_form_records_is_refused_with_the_flow_line_and_nearest_names():
    [(element, line, message)] = found(gateway_after("rout == 'home'"))
    assert element == "f3" and line == 6  # the process is on line 6 of the file
    assert message == (
        "condition \"rout == 'home'\" reads rout, which no form of this process and none of "
        "its start data records, so a child reaching it would stop with an error (did you "
        "mean route?): correct the name, or add the field to the form of a task before it")


def test_a_field_recorded_only_after_the_gateway_is_refused_naming_the_task():
    [(element, _line, message)] = found(gateway_after("closing_note == 'done'"))
    assert element == "f3"
    assert "reads closing_note, which only the form of b records, after this point" in message
    assert "(recorded before it: decision, route)" in message


def test_each_name_is_named_once_and_every_condition_is_checked():
    problems = found(gateway_after("x > 1 and x < 5 or y == 2"))
    assert [message.split(", which")[0] for _e, _l, message in problems] == [
        "condition 'x > 1 and x < 5 or y == 2' reads x",
        "condition 'x > 1 and x < 5 or y == 2' reads y"]


def test_start_data_and_a_start_events_date_field_may_be_read():
    start = ('<bpmn:startEvent id="start">' + props(milestone="START", milestoneDateField="began")
             + '<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>')
    assert found(gateway_after("began and la_start", start=start), start_data={"la_start"}) == []
    assert [m.split(", which")[0] for _e, _l, m in found(gateway_after("began and la_start"),
                                                            start_data={"la_start"})] == [
        "condition 'began and la_start' reads began"]


def test_with_nothing_recorded_the_message_says_so():
    [(_e, _l, message)] = found(gateway_after("x", first="missing.json"))
    assert "stop with an error (nothing is recorded before it): correct the name" in message


def test_many_recorded_names_are_listed_twelve_at_most():
    many = {"many.json": json.dumps({"type": "object", "properties": {
        f"field_{n:02d}": {"type": "string"} for n in range(14)}})}
    [(_e, _l, message)] = found(gateway_after("zzz", first="many.json"), forms=many)
    assert "(recorded before it: field_00, " in message and "field_11 …)" in message
    assert "field_12" not in message


def test_an_expression_the_sandbox_refuses_is_left_to_the_expression_check():
    assert found(gateway_after("route.upper() == 'X'")) == []


def test_a_milestone_condition_reads_its_own_tasks_answers_and_earlier_ones():
    body = (START + flow("f1", "start", "a") + task("a", "plan.json", "f1", "f2")
            + flow("f2", "a", "b") + task("b", "review.json", "f2", "f3",
                                          extra="closing_note == 'x' and route == 'y' and rout")
            + flow("f3", "b", "end") + '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming>'
            '</bpmn:endEvent>')
    [(element, _line, message)] = found(body)
    assert element == "b"
    assert message.startswith("milestoneWhen \"closing_note == 'x' and route == 'y' and rout\" "
                              "reads rout, which no form")


def test_a_boundary_event_leaves_its_tasks_form_unanswered():
    """A timer on a task fires while the task is open: a condition after it cannot read
    the task's answers, only what was recorded before the task."""
    body = (START + flow("f1", "start", "a") + task("a", "plan.json", "f1", "f2")
            + flow("f2", "a", "b") + task("b", "review.json", "f2", "f3")
            + '<bpmn:boundaryEvent id="late" attachedToRef="b"><bpmn:outgoing>f4</bpmn:outgoing>'
            '<bpmn:timerEventDefinition /></bpmn:boundaryEvent>'
            + flow("f4", "late", "end", "closing_note == 'x' or route == 'y'") + flow("f3", "b", "end")
            + '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming>'
            '<bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>')
    [(element, _line, message)] = found(body)
    assert element == "f4" and "reads closing_note, which only the form of b records" in message


def subprocess_body(condition_inside: str, condition_after: str) -> str:
    """start → subprocess (inner start → task a → gateway → inner end) → gateway → end."""
    inner = ('<bpmn:startEvent id="s2"><bpmn:outgoing>g1</bpmn:outgoing></bpmn:startEvent>'
             + flow("g1", "s2", "a") + task("a", "plan.json", "g1", "g2") + flow("g2", "a", "gw2")
             + '<bpmn:exclusiveGateway id="gw2" default="g4"><bpmn:incoming>g2</bpmn:incoming>'
             '</bpmn:exclusiveGateway>' + flow("g3", "gw2", "e2", condition_inside)
             + flow("g4", "gw2", "e2") + '<bpmn:endEvent id="e2"><bpmn:incoming>g3</bpmn:incoming>'
             '</bpmn:endEvent>')
    return (START + flow("f1", "start", "first") + task("first", "review.json", "f1", "f0")
            + flow("f0", "first", "sub")
            + f'<bpmn:subProcess id="sub"><bpmn:incoming>f0</bpmn:incoming>{inner}</bpmn:subProcess>'
            + flow("f2", "sub", "gw") + '<bpmn:exclusiveGateway id="gw" default="f4">'
            '</bpmn:exclusiveGateway>' + flow("f3", "gw", "end", condition_after)
            + flow("f4", "gw", "end") + '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming>'
            '</bpmn:endEvent>')


def test_answers_flow_into_and_out_of_a_subprocess():
    assert found(subprocess_body("closing_note == 'x' and route == 'y'", "route == 'y'")) == []


def test_inside_a_subprocess_a_later_answer_is_still_unknown():
    problems = found(subprocess_body("route == 'y'", "nothing == 1"))
    assert [(e, m.split(", which")[0]) for e, _l, m in problems] == [
        ("f3", "condition 'nothing == 1' reads nothing")]


@pytest.mark.parametrize("schema, fields", [
    ({"properties": {"a": {}, "b": {"type": "object", "properties": {"inner": {}}}}}, {"a", "b"}),
    ({"properties": {"a": {}}, "if": {"properties": {"a": {"const": 1}}},
      "then": {"properties": {"why": {}}}, "else": {"properties": {"other": {}}}},
     {"a", "why", "other"}),
    ({"allOf": [{"properties": {"x": {}}}, {"anyOf": [{"properties": {"y": {}}}]}],
      "oneOf": [{"properties": {"z": {}}}]}, {"x", "y", "z"}),
    ({"$defs": {"hidden": {"properties": {"no": {}}}}, "properties": {"yes": {}}}, {"yes"}),
])
def test_the_fields_a_form_records_are_its_top_level_ones(schema, fields):
    assert form_fields(json.dumps(schema)) == fields


def test_a_form_that_is_not_json_records_nothing():
    assert form_fields("{not json") == set()


def test_a_name_only_later_tasks_record_names_three_of_them():
    later = "".join(task(f"t{n}", "review.json", f"g{n}", f"g{n + 1}") + flow(f"g{n + 1}", f"t{n}",
                                                                              f"t{n + 1}")
                    for n in range(4))
    body = (START + flow("f1", "start", "gw") + '<bpmn:exclusiveGateway id="gw" default="g0" />'
            + flow("f2", "gw", "end", "closing_note == 'x'") + flow("g0", "gw", "t0") + later
            + '<bpmn:endEvent id="end" /><bpmn:endEvent id="t4" />')
    [(_e, _l, message)] = found(body)
    assert "which only the form of t0, t1, t2 records, after this point" in message


def test_the_nearest_names_are_three_at_most_and_a_list_of_twelve_is_whole():
    close = {"close.json": json.dumps({"type": "object", "properties": {
        name: {} for name in ("route1", "route2", "route3", "route4")}})}
    [(_e, _l, message)] = found(gateway_after("route", first="close.json"), forms=close)
    assert "(did you mean route4 or route3 or route2?)" in message  # difflib's order
    for count, tail in ((12, "field_11):"), (13, "field_11 …):")):
        fields = {"fields.json": json.dumps({"type": "object", "properties": {
            f"field_{n:02d}": {} for n in range(count)}})}
        [(_e, _l, message)] = found(gateway_after("zzz", first="fields.json"), forms=fields)
        assert "(recorded before it: field_00, " in message and tail in message, count


def test_a_flow_from_an_element_that_is_not_there_reads_only_the_start_data():
    body = START + flow("f1", "start", "end") + flow("f9", "nowhere", "end", "route or began") \
        + '<bpmn:endEvent id="end" />'
    assert [m.split(", which")[0] for _e, _l, m in found(body, start_data={"began"})] == [
        "condition 'route or began' reads route"]


def test_a_property_without_a_value_is_no_condition_and_names_no_form():
    body = (START + flow("f1", "start", "a")
            + '<bpmn:userTask id="a"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="milestoneWhen" /><spiffworkflow:property '
            'name="formJsonSchemaFilename" /></spiffworkflow:properties></bpmn:extensionElements>'
            '</bpmn:userTask>' + flow("f2", "a", "end", "route == 1") + '<bpmn:endEvent id="end" />')
    assert [(e, m.split(", which")[0]) for e, _l, m in found(body)] == [
        ("f2", "condition 'route == 1' reads route")]


def test_a_flow_without_an_id_is_named_by_its_line_alone():
    body = (START + flow("f1", "start", "end") + '<bpmn:sequenceFlow sourceRef="start" '
            'targetRef="end"><bpmn:conditionExpression>nobody</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow><bpmn:endEvent id="end" />')
    [(element, line, _message)] = found(body)
    assert (element, line) == ("", 6)


def test_a_condition_on_the_flow_out_of_a_subprocesss_start_reads_what_came_before_it():
    body = subprocess_body("route == 'y'", "route == 'y'").replace(
        flow("g1", "s2", "a"), flow("g1", "s2", "a", "closing_note == 'x'"))
    assert found(body) == []


def test_a_subprocess_ending_in_a_task_with_no_flow_out_passes_its_answers_on():
    inner = ('<bpmn:startEvent id="s2" />' + flow("g1", "s2", "a") + task("a", "plan.json", "g1", ""))
    body = (START + flow("f1", "start", "sub") + f'<bpmn:subProcess id="sub">{inner}</bpmn:subProcess>'
            + flow("f2", "sub", "end", "route == 'y'") + '<bpmn:endEvent id="end" />')
    assert found(body) == []


def test_an_empty_condition_and_one_outside_a_flow_are_read_as_they_are():
    """An empty condition reads nothing (the expression check refuses it); one drawn outside
    a sequence flow (hand-edited XML) reads from a start with nothing recorded."""
    body = (START + flow("f1", "start", "end", "") + '<bpmn:endEvent id="end">'
            '<bpmn:conditionExpression>route</bpmn:conditionExpression></bpmn:endEvent>')
    assert [(e, m.split(", which")[0]) for e, _l, m in found(body)] == [
        ("end", "condition 'route' reads route")]


def test_only_a_start_events_date_field_is_start_data():
    start = ('<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>')
    body = gateway_after("began == 1", start=start).replace(
        '<bpmn:userTask id="b">', '<bpmn:userTask id="b">' + props(milestoneDateField="began"))
    assert [m.split(", which")[0] for _e, _l, m in found(body)] == [
        "condition 'began == 1' reads began"]


@pytest.mark.parametrize("kind, what", [
    ("startEvent", "start event"), ("intermediateCatchEvent", "intermediate catch event"),
    ("boundaryEvent", "boundary event")])
def test_a_catch_event_waiting_for_a_message_is_refused_in_full_words(kind, what):
    """(engine/runnable_checks.construct_problems, beside the names a condition reads: the
    whole message, as the process owner reads it.)"""
    root = etree.fromstring((HEAD + '<bpmn:process id="p" isExecutable="true">'
                             f'<bpmn:{kind} id="wait"><bpmn:messageEventDefinition /></bpmn:{kind}>'
                             "</bpmn:process></bpmn:definitions>").encode())
    assert construct_problems(root) == [("wait", 6, (
        f"is a {what} waiting for a message, which nothing in PACE Flow sends, so the child "
        "would wait for ever; draw a timer event (a due rule such as LA_START+6w), or a user "
        "task in which a worker records what happened"))]
