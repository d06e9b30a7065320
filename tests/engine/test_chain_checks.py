"""The chain limit counts steps from the start event wherever it is written in the file and
whatever else the flow meets on the way (a flow to an element that is not there), at the
limit exactly; XML comments inside elements are no elements (mutation testing, issue 31,
found these paths untested)."""
from __future__ import annotations

from lxml import etree

from engine.runnable_checks import (MAX_CHAIN, condition_name_problems, construct_problems,
                                    loop_problems, size_problems)

from .diagrams import HEAD


def root_of(body: str):
    return etree.fromstring((HEAD + '<bpmn:process id="p" isExecutable="true">' + body
                             + "</bpmn:process></bpmn:definitions>").encode())


def chain(steps: int, *, start_last: bool = False, ghost: bool = False) -> str:
    """start → n1 → … → n(steps-1): ``steps`` elements one after another; ``start_last``
    writes the start event after the others; ``ghost`` puts a flow from the start to an
    element that is not there before the one into the chain."""
    nodes = "".join(f'<bpmn:exclusiveGateway id="n{i}" />' for i in range(1, steps))
    flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="n{i - 1}" targetRef="n{i}" />'
                    for i in range(2, steps))
    into = ('<bpmn:sequenceFlow id="g" sourceRef="start" targetRef="nothing" />' if ghost else "") \
        + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="n1" />'
    start = '<bpmn:startEvent id="start" />'
    return (nodes + start if start_last else start + nodes) + into + flows


def test_a_chain_at_the_limit_passes_and_one_step_more_is_refused_naming_that_step():
    assert size_problems(root_of(chain(MAX_CHAIN))) == []
    [(element, _line, message)] = size_problems(root_of(chain(MAX_CHAIN + 1)))
    assert element == f"n{MAX_CHAIN}"
    assert message == (f"is step {MAX_CHAIN + 1} of a chain of {MAX_CHAIN + 1} steps one after "
                       f"another; the limit is {MAX_CHAIN}: split the process at this step into "
                       "several processes, each ending with an end event whose startsProcess "
                       "property starts the next")


def test_the_chain_is_counted_from_the_start_event_written_after_the_steps():
    [(element, _line, _message)] = size_problems(root_of(chain(MAX_CHAIN + 1, start_last=True)))
    assert element == f"n{MAX_CHAIN}"


def test_a_flow_to_an_element_not_there_does_not_end_the_count():
    [(element, _line, _message)] = size_problems(root_of(chain(MAX_CHAIN + 1, ghost=True)))
    assert element == f"n{MAX_CHAIN}"


def test_comments_inside_elements_are_no_elements():
    body = ('<bpmn:startEvent id="start"><!-- a note --><bpmn:messageEventDefinition />'
            '</bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub" />'
            '<bpmn:subProcess id="sub"><!-- inside --><bpmn:startEvent id="s2" /></bpmn:subProcess>'
            '<bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="start">'
            '<bpmn:conditionExpression>x</bpmn:conditionExpression></bpmn:sequenceFlow>')
    root = root_of(body)
    assert [e for e, _l, _m in construct_problems(root)] == ["start"]
    assert [e for e, _l, _m in condition_name_problems(root, {}, ())] == ["f2"]
    assert [e for e, _l, _m in loop_problems(root)] == ["start"]
