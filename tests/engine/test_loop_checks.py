"""A loop is refused only when nothing on it waits for a person or a date: a user or manual
task, a timer, or a subprocess (of any kind) holding one. The refusal names the loop's
elements in the order drawn, eight at most, and says what to do (mutation testing, issue
31, found these paths untested)."""
from __future__ import annotations

import pytest
from lxml import etree

from engine.runnable_checks import (loop_problems, size_problems, start_cycle_problems,
                                    starts_process)

from .diagrams import HEAD, props

TIMER = '<bpmn:timerEventDefinition><bpmn:timeDate>START+1d</bpmn:timeDate></bpmn:timerEventDefinition>'


def loop(ids: list[str], middle: str = "") -> list:
    """start → ids[0] → … → ids[-1] → back to ids[0], each a gateway; ``middle`` (an element
    with id "mid") sits between the last and the first when given."""
    elements = [f'<bpmn:exclusiveGateway id="{i}" />' for i in ids]
    path = ids + (["mid"] if middle else [])
    flows = [f'<bpmn:sequenceFlow id="s{n}" sourceRef="{a}" targetRef="{b}" />'
             for n, (a, b) in enumerate(zip(path, path[1:] + path[:1]))]
    body = ('<bpmn:startEvent id="start" /><bpmn:sequenceFlow id="in" sourceRef="start" '
            f'targetRef="{ids[0]}" />' + "".join(elements) + middle + "".join(flows))
    root = etree.fromstring((HEAD + '<bpmn:process id="p" isExecutable="true">' + body
                             + "</bpmn:process></bpmn:definitions>").encode())
    return loop_problems(root)


@pytest.mark.parametrize("kind", ["subProcess", "transaction", "adHocSubProcess"])
@pytest.mark.parametrize("inner", ['<bpmn:userTask id="t" />', '<bpmn:manualTask id="t" />',
                                   f'<bpmn:intermediateCatchEvent id="t">{TIMER}</bpmn:intermediateCatchEvent>'])
def test_a_subprocess_holding_a_waiting_step_lets_the_loop_wait(kind, inner):
    assert loop(["g1", "g2"], f'<bpmn:{kind} id="mid">{inner}</bpmn:{kind}>') == []


@pytest.mark.parametrize("inner", ['<bpmn:scriptTask id="t" />',
                                   '<bpmn:intermediateCatchEvent id="t"><bpmn:signalEventDefinition />'
                                   '</bpmn:intermediateCatchEvent>'])
def test_a_subprocess_with_nothing_that_waits_does_not(inner):
    [(element, _line, message)] = loop(["g1", "g2"], f'<bpmn:subProcess id="mid">{inner}</bpmn:subProcess>')
    assert element == "g1" and message.startswith("is on a loop (g1, g2, mid) with no user task")


def test_a_flow_from_an_element_back_to_itself_is_a_loop():
    [(element, _line, message)] = loop(["g1"])
    assert element == "g1" and message.startswith("is on a loop (g1) ")


def test_the_loop_is_named_in_the_order_drawn_in_full_words():
    assert loop(["g_b", "g_a"]) == [("g_b", 6, (
        "is on a loop (g_b, g_a) with no user task or timer on it: a child reaching it would go "
        "round it without stopping until the engine gives up; put a user task or a timer event "
        "on the loop, or take the loop out"))]


@pytest.mark.parametrize("count, names", [
    (8, "g1, g2, g3, g4, g5, g6, g7, g8)"),
    (9, "g1, g2, g3, g4, g5, g6, g7, g8 …)"),
])
def test_a_long_loop_is_named_by_its_first_eight_elements(count, names):
    [(_element, _line, message)] = loop([f"g{n}" for n in range(1, count + 1)])
    assert f"is on a loop ({names} with no user task" in message


def root_of(body: str):
    return etree.fromstring((HEAD + '<bpmn:process id="p" isExecutable="true">' + body
                             + "</bpmn:process></bpmn:definitions>").encode())


def test_a_loop_back_through_a_boundary_timer_waits_and_one_on_a_task_that_leads_nowhere_is_read():
    body = ('<bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="g1" />'
            '<bpmn:exclusiveGateway id="g1" /><bpmn:sequenceFlow id="f1" sourceRef="g1" targetRef="s" />'
            '<bpmn:scriptTask id="s" /><bpmn:boundaryEvent id="b" attachedToRef="s">' + TIMER
            + '</bpmn:boundaryEvent><bpmn:sequenceFlow id="f2" sourceRef="b" targetRef="g1" />')
    assert loop_problems(root_of(body)) == []
    assert size_problems(root_of(body)) == []


def test_only_an_end_events_startsprocess_with_a_value_starts_a_process():
    ends = ('<bpmn:userTask id="t">' + props(startsProcess="p") + '</bpmn:userTask>'
            '<bpmn:endEvent id="e1">' + props(note="p") + '</bpmn:endEvent>'
            '<bpmn:endEvent id="e2"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="startsProcess" /></spiffworkflow:properties>'
            '</bpmn:extensionElements></bpmn:endEvent>')
    assert starts_process(root_of(ends)) == []
    assert start_cycle_problems(root_of(ends), "p") == []


def test_an_end_event_starting_its_own_process_is_refused_in_full_words():
    [(element, _line, message)] = start_cycle_problems(
        root_of('<bpmn:endEvent id="again">' + props(startsProcess="p") + '</bpmn:endEvent>'), "p")
    assert element == "again" and message == (
        "startsProcess 'p' starts this process again (p → p), so every child reaching this end "
        "would start it anew without end; to repeat steps, draw a sequence flow back to them "
        "(through a user task or timer), or start a different process")
