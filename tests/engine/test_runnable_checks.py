"""The check refuses what the engine cannot run safely, naming the element and what to draw
instead: elements nothing in PACE Flow completes, loops that never wait, an end event that
starts its own process, expressions of unbounded cost, and diagrams too large to check in
time; a refusal never comes from a RecursionError."""
from __future__ import annotations

import time

import pytest

from engine import runnable_checks
from engine.expressions import ExpressionTooCostly, UnsafeExpression, check_expression, \
    evaluate_safely
from engine.registry import InvalidModel, ModelBundle, parse_bundle
from workflows.engine_config import pace_config

from .diagrams import FORM, diagram, linear, props

CTX = pace_config().validation_context()
START_EVENT = ('<bpmn:startEvent id="start">' + props(milestone="START", milestoneDateField="start")
               + '<bpmn:outgoing>{out}</bpmn:outgoing></bpmn:startEvent>')


def problems(xml: str, process_id: str = "mini") -> list[str]:
    bundle = ModelBundle(process_id, xml, {"task.schema.json": FORM})
    with pytest.raises(InvalidModel) as err:
        parse_bundle(bundle, CTX)
    return [str(p) for p in err.value.problems]


def user_task(task_id: str, incoming: list[str], outgoing: list[str]) -> str:
    flows = "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f in incoming) + \
        "".join(f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing)
    return (f'<bpmn:userTask id="{task_id}" name="Step {task_id}">'
            + props(formJsonSchemaFilename="task.schema.json", due="START+3d") + flows
            + "</bpmn:userTask>")


def between(element: str, element_id: str) -> str:
    """start → element → end, with the element's flows added to it."""
    opening, _, rest = element.partition(">")
    body = (START_EVENT.format(out="f1") +
            f'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{element_id}" />'
            f'{opening}><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>{rest}'
            f'<bpmn:sequenceFlow id="f2" sourceRef="{element_id}" targetRef="end" />'
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>')
    return diagram(body, nodes=("start", element_id, "end"))


@pytest.mark.parametrize("element, element_id, says, instead", [
    ('<bpmn:serviceTask id="svc" name="Call the CMS"></bpmn:serviceTask>', "svc",
     "service task", "user task"),
    ('<bpmn:sendTask id="snd"></bpmn:sendTask>', "snd", "send task", "user task"),
    ('<bpmn:receiveTask id="rcv"></bpmn:receiveTask>', "rcv", "receive task", "user task"),
    ('<bpmn:callActivity id="again" calledElement="mini"></bpmn:callActivity>', "again",
     "call activity", "startsProcess"),
    ('<bpmn:businessRuleTask id="dmn"></bpmn:businessRuleTask>', "dmn", "business rule task",
     "exclusive gateway"),
    ('<bpmn:intermediateCatchEvent id="msg"><bpmn:messageEventDefinition id="m1" />'
     '</bpmn:intermediateCatchEvent>', "msg", "waiting for a message", "timer event"),
    ('<bpmn:intermediateCatchEvent id="sig"><bpmn:signalEventDefinition id="s1" />'
     '</bpmn:intermediateCatchEvent>', "sig", "waiting for a signal", "timer event"),
    ('<bpmn:intermediateCatchEvent id="cond"><bpmn:conditionalEventDefinition id="c1">'
     '<bpmn:condition xsi:type="bpmn:tFormalExpression">x == 1</bpmn:condition>'
     '</bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>', "cond",
     "waiting for a condition", "user task"),
])
def test_elements_nothing_completes_are_refused_with_what_to_draw(element, element_id, says,
                                                                  instead):
    found = [p for p in problems(between(element, element_id)) if p.startswith(element_id)]
    assert len(found) == 1, found
    assert says in found[0] and instead in found[0] and "(line " in found[0]


def test_boundary_events_waiting_for_messages_or_escalations_are_refused():
    boundary = ('<bpmn:boundaryEvent id="{id}" attachedToRef="task"><bpmn:outgoing>{f}'
                '</bpmn:outgoing><bpmn:{kind} id="{id}_def" /></bpmn:boundaryEvent>'
                '<bpmn:sequenceFlow id="{f}" sourceRef="{id}" targetRef="end" />')
    extra = (boundary.format(id="esc", f="fb1", kind="escalationEventDefinition")
             + boundary.format(id="msgb", f="fb2", kind="messageEventDefinition"))
    found = problems(linear(extra=extra))
    assert any(p.startswith("esc ") and "escalation" in p for p in found), found
    assert any(p.startswith("msgb ") and "message" in p for p in found), found


def loop_body(waiting: bool) -> str:
    """start → g1 → (task?) → g2 → back to g1 by default, or end when done == 'yes'."""
    middle = (user_task("task", ["f2"], ["f3"]) + '<bpmn:sequenceFlow id="f2" sourceRef="g1" '
              'targetRef="task" /><bpmn:sequenceFlow id="f3" sourceRef="task" targetRef="g2" />'
              if waiting else '<bpmn:sequenceFlow id="f2" sourceRef="g1" targetRef="g2" />')
    into_g2 = "f3" if waiting else "f2"
    return (START_EVENT.format(out="f1") +
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="g1" />'
            '<bpmn:exclusiveGateway id="g1"><bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:incoming>back</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
            '</bpmn:exclusiveGateway>' + middle +
            f'<bpmn:exclusiveGateway id="g2" default="back"><bpmn:incoming>{into_g2}'
            '</bpmn:incoming><bpmn:outgoing>back</bpmn:outgoing><bpmn:outgoing>out'
            '</bpmn:outgoing></bpmn:exclusiveGateway>'
            '<bpmn:sequenceFlow id="back" sourceRef="g2" targetRef="g1" />'
            '<bpmn:sequenceFlow id="out" sourceRef="g2" targetRef="end"><bpmn:conditionExpression '
            'xsi:type="bpmn:tFormalExpression">done == \'yes\'</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow><bpmn:endEvent id="end"><bpmn:incoming>out</bpmn:incoming>'
            '</bpmn:endEvent>')


def test_a_loop_with_no_waiting_task_is_refused():
    found = problems(diagram(loop_body(waiting=False), nodes=("start", "g1", "g2", "end")))
    assert len(found) == 1, found
    assert found[0].startswith("g1 (line ") and "loop (g1, g2)" in found[0]
    assert "no user task or timer" in found[0]


def test_a_loop_through_a_user_task_is_accepted():
    spec, _, _ = parse_bundle(ModelBundle("mini", diagram(loop_body(waiting=True),
                                          nodes=("start", "g1", "task", "g2", "end")),
                                          {"task.schema.json": FORM}), CTX)
    assert "task" in spec.task_specs


def test_an_end_event_starting_its_own_process_is_refused():
    end = ('<bpmn:endEvent id="end">' + props(startsProcess="mini") + '</bpmn:endEvent>')
    xml = linear().replace('<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming>'
                           '</bpmn:endEvent>', end.replace("</bpmn:endEvent>",
                                                           "<bpmn:incoming>f2</bpmn:incoming>"
                                                           "</bpmn:endEvent>"))
    found = problems(xml)
    assert len(found) == 1, found
    assert found[0].startswith("end (line ") and "starts this process again (mini → mini)" \
        in found[0]


def test_start_cycles_through_other_processes_are_found():
    """a ends by starting b, b by starting c, c by starting a again."""
    root = runnable_checks.etree.fromstring(
        linear(extra="").replace('<bpmn:endEvent id="end">', '<bpmn:endEvent id="end">'
                                 + props(startsProcess="b")).encode())
    starts = {"b": ["c"], "c": ["a"]}
    found = runnable_checks.start_cycle_problems(root, "a", lambda p: starts.get(p, []))
    assert len(found) == 1 and "a → b → c → a" in found[0][2]
    assert runnable_checks.start_cycle_problems(root, "a", lambda p: {"b": ["c"]}.get(p, [])) \
        == []


def chain(length: int) -> str:
    body = START_EVENT.format(out="f0")
    for i in range(length):
        source = "start" if i == 0 else f"t{i - 1}"
        body += (f'<bpmn:sequenceFlow id="f{i}" sourceRef="{source}" targetRef="t{i}" />'
                 + user_task(f"t{i}", [f"f{i}"], [f"f{i + 1}"]))
    body += (f'<bpmn:sequenceFlow id="f{length}" sourceRef="t{length - 1}" targetRef="end" />'
             f'<bpmn:endEvent id="end"><bpmn:incoming>f{length}</bpmn:incoming></bpmn:endEvent>')
    return diagram(body, nodes=["start", "end"] + [f"t{i}" for i in range(length)])


def test_a_490_step_chain_is_refused_with_the_limit_not_a_recursion_error():
    found = problems(chain(490))
    assert len(found) == 1, found
    assert f"the limit is {runnable_checks.MAX_CHAIN}" in found[0]
    assert "RecursionError" not in found[0] and found[0].startswith("t")


def test_the_longest_allowed_chain_parses():
    spec, _, _ = parse_bundle(ModelBundle("mini", chain(runnable_checks.MAX_CHAIN - 2),
                                          {"task.schema.json": FORM}), CTX)
    assert f"t{runnable_checks.MAX_CHAIN - 3}" in spec.task_specs


def parallel(width: int, *, bare: bool = False) -> str:
    """start → split → ``width`` user tasks side by side → join → end; ``bare``: tasks
    without their properties (a file under the 2 MB limit however wide)."""
    body = (START_EVENT.format(out="fs") +
            '<bpmn:sequenceFlow id="fs" sourceRef="start" targetRef="split" />'
            '<bpmn:parallelGateway id="split"><bpmn:incoming>fs</bpmn:incoming>'
            + "".join(f"<bpmn:outgoing>a{i}</bpmn:outgoing>" for i in range(width))
            + '</bpmn:parallelGateway><bpmn:parallelGateway id="join">'
            + "".join(f"<bpmn:incoming>b{i}</bpmn:incoming>" for i in range(width))
            + '<bpmn:outgoing>fe</bpmn:outgoing></bpmn:parallelGateway>'
            '<bpmn:sequenceFlow id="fe" sourceRef="join" targetRef="end" />'
            '<bpmn:endEvent id="end"><bpmn:incoming>fe</bpmn:incoming></bpmn:endEvent>')
    for i in range(width):
        body += (f'<bpmn:sequenceFlow id="a{i}" sourceRef="split" targetRef="t{i}" />'
                 f'<bpmn:sequenceFlow id="b{i}" sourceRef="t{i}" targetRef="join" />'
                 + (f'<bpmn:userTask id="t{i}" />' if bare
                    else user_task(f"t{i}", [f"a{i}"], [f"b{i}"])))
    return diagram(body, nodes=["start", "split", "join", "end"] + [f"t{i}" for i in range(width)])


def test_a_5000_task_diagram_is_refused_for_its_size_within_two_seconds():
    xml = parallel(5000, bare=True)
    assert len(xml.encode()) < 2 * 1024 * 1024
    started = time.process_time()
    found = problems(xml)
    seconds = time.process_time() - started
    assert found == [f"diagram: the diagram has 5,004 tasks, events and gateways; the limit is "
                     f"{runnable_checks.MAX_FLOW_ELEMENTS:,}: split the process into several "
                     "processes, each ending with an end event whose startsProcess property "
                     "starts the next"]
    assert seconds < 2, seconds


def test_the_largest_allowed_diagram_is_checked_within_two_seconds():
    xml = parallel(runnable_checks.MAX_FLOW_ELEMENTS - 4)
    started = time.process_time()
    spec, _, _ = parse_bundle(ModelBundle("mini", xml, {"task.schema.json": FORM}), CTX)
    assert time.process_time() - started < 2
    assert len([s for s in spec.task_specs if s.startswith("t")]) == \
        runnable_checks.MAX_FLOW_ELEMENTS - 4


# -- expressions of bounded cost ---------------------------------------------------------
@pytest.mark.parametrize("condition, says", [
    ("chair == 'x' * 1000000000", "repeats a string or list"),
    ("route in [1] * 1000000000", "repeats a string or list"),
    ("1000000000 * (1, 2) == route", "repeats a string or list"),
    ("route == 10 ** 100000", "the power operator"),
    ("route == " + repr("x" * 600), "the limit is 500"),
    ("route == 12345678901234567890", "larger than the limit"),
    ("route in [" + ",".join(map(str, range(101))) + "]", "lists 101 values"),
    (" or ".join(["a == 1"] * 120), "parts; the limit is 400"),
])
def test_conditions_of_unbounded_cost_are_refused_at_check(condition, says):
    found = problems(linear(gateway_condition=condition.replace("'", "&apos;")))
    assert any(p.startswith("f3") and says in p for p in found), found


def test_a_condition_repeating_a_form_answer_stops_at_run_time():
    """The check cannot know a field holds text; evaluating it refuses to build the gigabyte."""
    check_expression("chair * 1000000000 == 'x'")  # a number times a number would be fine
    started = time.process_time()
    with pytest.raises(ExpressionTooCostly):
        evaluate_safely("chair * 1000000000 == 'x'", {"chair": "x"})
    with pytest.raises(ExpressionTooCostly):
        evaluate_safely("chair + chair == 'x'", {"chair": "x" * 60_000})
    assert time.process_time() - started < 0.5
    assert evaluate_safely("chair * 3 == 6", {"chair": 2}) is True


def test_conditions_evaluate_as_before():
    names = {"route": "adoption", "count": 3, "decision": "agrees"}
    assert evaluate_safely("route == 'adoption' and count > 2", names) is True
    assert evaluate_safely("decision in ['agrees', 'deferred']", names) is True
    assert evaluate_safely("not (count - 1) * 2 == 4", names) is False
    assert evaluate_safely("'a' if count else 'b'", names) == "a"
    with pytest.raises(NameError):
        evaluate_safely("missing == 1", names)
    with pytest.raises(UnsafeExpression):
        check_expression("route.upper()")


def test_the_longest_allowed_chain_runs_to_its_end_event():
    """No recursion limit at run time either: every task of the longest allowed chain is
    completed in turn, the state stored and read back every 100 tasks, and the end reached."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from engine import serialization
    from engine.runtime import Runtime

    spec, subprocesses, _ = parse_bundle(ModelBundle("mini", chain(runnable_checks.MAX_CHAIN - 2),
                                                     {"task.schema.json": FORM}), CTX)
    runtime = Runtime(pace_config())
    wf = BpmnWorkflow(spec, subprocesses, script_engine=runtime.script_engine)
    wf.get_tasks(state=TaskState.READY)[0].data["start"] = "2026-01-05"
    runtime.step(wf)
    done = 0
    while not wf.is_completed():
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data["date_held"] = "2026-01-05"
        task.run()
        runtime.step(wf)
        done += 1
        if done % 100 == 0:
            wf = serialization.loads(serialization.dumps(wf), spec, subprocesses)
            wf.script_engine = runtime.script_engine
    assert done == runnable_checks.MAX_CHAIN - 2
    assert any(type(t.task_spec).__name__ == "EndEvent"
               for t in wf.get_tasks(state=TaskState.COMPLETED))
