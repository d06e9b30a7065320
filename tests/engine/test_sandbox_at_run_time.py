"""The sandbox holds when a diagram runs, not only when it is uploaded.

A diagram can reach the engine without the upload check (one deployed before a check was
added, or stored straight into the database by an administrator): its conditions and
scripts must still be refused when the engine evaluates them, with nothing run.
"""
from datetime import date

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.expressions import SandboxedEnvironment, SandboxedScriptEngine, UnsafeExpression
from tests.engine.diagrams import HEAD


def unchecked_workflow(body: str, functions=None) -> BpmnWorkflow:
    """The process parsed by SpiffWorkflow directly (no upload check), run by the engine's
    script engine, as the runtime runs every stored diagram."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring((HEAD + '<bpmn:process id="p" isExecutable="true">'
                                          + body + "</bpmn:process></bpmn:definitions>").encode()))
    return BpmnWorkflow(parser.get_spec("p"), script_engine=SandboxedScriptEngine(functions=functions))


def gateway(condition: str) -> str:
    """start → gateway: the condition leads to end 'taken', the default to end 'default'."""
    return ('<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />'
            '<bpmn:exclusiveGateway id="gw" default="f3"><bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>'
            '<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="taken"><bpmn:conditionExpression '
            f'xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="default" />'
            '<bpmn:endEvent id="taken"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:endEvent id="default"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>')


def script(text: str) -> str:
    return ('<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="s" />'
            f'<bpmn:scriptTask id="s"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
            f'<bpmn:script>{text}</bpmn:script></bpmn:scriptTask>'
            '<bpmn:sequenceFlow id="f2" sourceRef="s" targetRef="end" />'
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>')


def test_an_allowed_condition_routes_at_run_time():
    wf = unchecked_workflow(gateway("route == 'adoption'"))
    wf.get_tasks()[0].data["route"] = "adoption"
    wf.do_engine_steps()
    assert wf.is_completed()
    assert [t.task_spec.bpmn_id for t in wf.get_tasks() if t.task_spec.bpmn_id in ("taken", "default")
            and t.state == TaskState.COMPLETED] == ["taken"]


@pytest.mark.parametrize("condition, why", [
    ("len('four') == 4", "a function call"),  # would be True with Python's builtins
    ("__import__('os').getpid() &gt; 0", "a function call"),
    ("route.__class__ == route", "attribute access"),
])
def test_a_condition_needing_builtins_fails_at_evaluation_and_takes_no_path(condition, why):
    wf = unchecked_workflow(gateway(condition))
    with pytest.raises(WorkflowException) as raised:
        wf.do_engine_steps()
    refusal = raised.value.__context__  # what the sandbox raised, inside SpiffWorkflow's error
    assert isinstance(refusal, UnsafeExpression)
    assert str(refusal).startswith(f"uses {why}, which diagrams may not use")
    assert not wf.is_completed()
    reached = {t.task_spec.bpmn_id for t in wf.get_tasks() if t.state == TaskState.COMPLETED}
    assert not reached & {"taken", "default"}


def test_a_script_task_with_code_is_refused_at_run_time_and_runs_nothing():
    wf = unchecked_workflow(script("leaked = 42"))
    with pytest.raises(WorkflowException) as raised:
        wf.do_engine_steps()
    assert isinstance(raised.value.__context__, UnsafeExpression)
    assert "may only call one allow-listed function" in str(raised.value.__context__)
    assert all("leaked" not in task.data for task in wf.get_tasks())
    assert not wf.is_completed()


def test_a_script_task_calls_its_allow_listed_function_with_the_task_data():
    calls = []
    wf = unchecked_workflow(script("notify()"), functions={"notify": lambda data: calls.append(dict(data))})
    wf.get_tasks()[0].data["child"] = "C-1"
    wf.do_engine_steps()
    assert wf.is_completed()
    assert calls and calls[0]["child"] == "C-1"


def test_task_data_wins_over_the_external_context():
    env = SandboxedEnvironment()
    assert env.evaluate("route", {"route": "home"}, {"route": "adoption"}) == "home"
    assert env.evaluate("extra", {}, {"extra": 3}) == 3
    assert env.evaluate("route", {"route": "home"}, None) == "home"


def test_execute_refuses_every_script_but_a_registered_call():
    seen = []
    env = SandboxedEnvironment({"notify": seen.append})
    assert env.execute("notify()", {"a": 1}) is True
    assert seen == [{"a": 1}]
    context = {}
    with pytest.raises(UnsafeExpression):
        env.execute("x = 1", context)
    assert context == {}


def test_a_condition_is_never_read_as_a_timer_rule():
    """Only a timer's expression goes to the due-rule reader; a condition naming a
    milestone-like field is evaluated as a condition."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring((HEAD + '<bpmn:process id="p" isExecutable="true">'
                                          + gateway("LA_START") + "</bpmn:process></bpmn:definitions>").encode()))
    read_as_rule = []

    def timer_rule(task, text):
        read_as_rule.append(text)
        return date(2026, 1, 5)

    wf = BpmnWorkflow(parser.get_spec("p"), script_engine=SandboxedScriptEngine(timer_rule))
    wf.get_tasks()[0].data["LA_START"] = False
    wf.do_engine_steps()
    assert read_as_rule == []
    assert [t.task_spec.bpmn_id for t in wf.get_tasks() if t.task_spec.bpmn_id in ("taken", "default")
            and t.state == TaskState.COMPLETED] == ["default"]


def timer_then_end() -> str:
    return ('<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />'
            '<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:timerEventDefinition>'
            '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">LA_START+2w</bpmn:timeDate>'
            '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
            '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />'
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>')


def test_a_timer_rule_becomes_midnight_utc_of_its_day():
    asked = []

    def timer_rule(task, text):
        asked.append((task.task_spec.bpmn_id, text))
        return date(2099, 1, 19)

    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring((HEAD + '<bpmn:process id="p" isExecutable="true">'
                                          + timer_then_end() + "</bpmn:process></bpmn:definitions>").encode()))
    wf = BpmnWorkflow(parser.get_spec("p"), script_engine=SandboxedScriptEngine(timer_rule))
    wf.do_engine_steps()
    waiting = next(t for t in wf.get_tasks() if t.task_spec.bpmn_id == "wait")
    assert asked == [("wait", "LA_START+2w")]
    assert wf.script_engine.evaluate(waiting, "LA_START+2w") == "2099-01-19T00:00:00+00:00"
    assert not wf.is_completed()


def test_the_external_context_reaches_a_condition():
    wf = unchecked_workflow(gateway("route == 'adoption'"))
    task = wf.get_tasks()[0]
    assert wf.script_engine.evaluate(task, "extra + 1", {"extra": 2}) == 3
