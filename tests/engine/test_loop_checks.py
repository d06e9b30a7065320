"""A loop is refused only when nothing on it waits for a person or a date: a user or manual
task, a timer, or a subprocess (of any kind) holding one. The refusal names the loop's
elements in the order drawn, eight at most, and says what to do (mutation testing, issue
31, found these paths untested)."""
from __future__ import annotations

import pytest
from lxml import etree

from engine.runnable_checks import loop_problems

from .diagrams import HEAD

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
