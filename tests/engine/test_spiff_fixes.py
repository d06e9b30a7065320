"""Each fix in engine/spiff_fixes.py against SpiffWorkflow itself: first the upstream
behaviour the fix assumes (so an upgrade that changes it fails here, and the fix can be
dropped or redone), then the fix correcting it. Pure SpiffWorkflow, no database."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine import clock, spiff_fixes
from engine.runtime import Runtime
from workflows.engine_config import pace_config

from .diagrams import diagram

START, EARLY, LATE, DOWNTIME_OVER = (datetime(2026, 1, d, tzinfo=timezone.utc) for d in (5, 12, 19, 30))
FAR = datetime(2100, 1, 1, tzinfo=timezone.utc)  # after any wall clock this suite meets


def two_timers(early: datetime = EARLY, late: datetime = LATE):
    """A task with two interrupting boundary timers at fixed dates, each opening a task of
    its own; ISO literals, so SpiffWorkflow's own script engine evaluates them."""
    def boundary(event_id: str, when: datetime, flow: str) -> str:
        return (f'<bpmn:boundaryEvent id="{event_id}" name="{event_id}" attachedToRef="task">'
                f'<bpmn:outgoing>{flow}</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDate '
                f'xsi:type="bpmn:tFormalExpression">"{when.isoformat()}"</bpmn:timeDate>'
                '</bpmn:timerEventDefinition></bpmn:boundaryEvent>')

    def follow_up(task_id: str, source: str, flow_in: str, flow_out: str) -> str:
        return (f'<bpmn:sequenceFlow id="{flow_in}" sourceRef="{source}" targetRef="{task_id}" />'
                f'<bpmn:userTask id="{task_id}"><bpmn:incoming>{flow_in}</bpmn:incoming>'
                f'<bpmn:outgoing>{flow_out}</bpmn:outgoing></bpmn:userTask>'
                f'<bpmn:sequenceFlow id="{flow_out}" sourceRef="{task_id}" targetRef="end" />')

    body = ('<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />'
            '<bpmn:userTask id="task"><bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>'
            '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />'
            + boundary("chase_timer", early, "f3") + boundary("escalate_timer", late, "f5")
            + follow_up("chase", "chase_timer", "f3", "f4")
            + follow_up("escalate", "escalate_timer", "f5", "f6") +
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>'
            '<bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>')
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring(diagram(body, process_id="two_timers").encode()),
                        filename="two_timers.bpmn")
    return BpmnWorkflow(parser.get_spec("two_timers"))


def ready_tasks(wf) -> list[str]:
    return sorted(t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY, manual=True))


def timers_fired(wf) -> set[str]:
    return {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)
            if (t.task_spec.bpmn_id or "").endswith("_timer")}


# -- 1. the timer module's clock ---------------------------------------------------------
@pytest.fixture
def upstream_clock(monkeypatch):
    """SpiffWorkflow's timer module as shipped (put back as it was after the test)."""
    monkeypatch.setattr(spiff_timer, "datetime", spiff_fixes.UPSTREAM_DATETIME)


def test_upstream_timers_read_the_wall_clock_through_the_modules_datetime(upstream_clock):
    """The name the fix replaces is the stdlib class, and the timers read ``now`` from it:
    a clock frozen after both dates changes nothing upstream."""
    assert spiff_fixes.UPSTREAM_DATETIME is datetime
    wf = two_timers(FAR, FAR.replace(year=2101))
    wf.do_engine_steps()
    with clock.frozen_at(FAR.replace(year=2102)):
        wf.refresh_timers()
        wf.do_engine_steps()
    assert ready_tasks(wf) == ["task"] and timers_fired(wf) == set()


def test_the_clock_fix_makes_timers_read_the_engines_clock(upstream_clock):
    wf = two_timers(FAR, FAR.replace(year=2101))
    spiff_fixes.apply()
    assert spiff_timer.datetime is spiff_fixes.ClockedDatetime
    wf.do_engine_steps()
    with clock.frozen_at(FAR.replace(month=2)):  # after the first date only
        wf.refresh_timers()
        wf.do_engine_steps()
    assert timers_fired(wf) == {"chase_timer"}
    # Everything else about datetime is the stdlib's.
    assert spiff_timer.datetime.fromisoformat("2026-01-05T00:00:00+00:00") == START
    with clock.frozen_at(START):
        assert spiff_timer.datetime.now(timezone.utc) == clock.now()


def test_the_clock_fix_is_made_by_the_runtime_not_by_importing_the_engine():
    """Importing every engine module patches nothing; building a Runtime does."""
    code = ("import pkgutil, importlib, engine, datetime\n"
            "for m in pkgutil.iter_modules(engine.__path__): importlib.import_module('engine.' + m.name)\n"
            "from SpiffWorkflow.bpmn.specs.event_definitions import timer\n"
            "assert timer.datetime is datetime.datetime, timer.datetime\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    Runtime(pace_config())
    assert spiff_timer.datetime is spiff_fixes.ClockedDatetime


# -- 2. interrupting boundary timers due together ----------------------------------------
def run_after_downtime(wf, *, fixed: bool) -> None:
    """Reach the task at START; the worker comes back when both timers are overdue."""
    with clock.frozen_at(START):
        wf.do_engine_steps()
    assert ready_tasks(wf) == ["task"]
    with clock.frozen_at(DOWNTIME_OVER):
        wf.refresh_timers()
        if fixed:
            spiff_fixes.hold_later_interrupting(wf)
            wf.do_engine_steps(did_complete_task=spiff_fixes.after_task)
        else:
            wf.do_engine_steps()


def test_upstream_runs_every_due_interrupting_timer_of_a_task():
    """BPMN: the first interrupting timer cancels the task and its other boundary events.
    SpiffWorkflow 3.2 runs both, opening both follow-up tasks."""
    spiff_fixes.apply()
    wf = two_timers()
    run_after_downtime(wf, fixed=False)
    assert ready_tasks(wf) == ["chase", "escalate"]
    assert timers_fired(wf) == {"chase_timer", "escalate_timer"}


def test_the_boundary_fix_fires_only_the_earliest_interrupting_timer():
    spiff_fixes.apply()
    wf = two_timers()
    run_after_downtime(wf, fixed=True)
    assert ready_tasks(wf) == ["chase"]
    assert timers_fired(wf) == {"chase_timer"}
    assert {t.task_spec.bpmn_id: t.state for t in wf.get_tasks()
            if t.task_spec.bpmn_id in ("task", "escalate_timer")} == {
        "task": TaskState.CANCELLED, "escalate_timer": TaskState.CANCELLED}


def test_the_boundary_fix_orders_by_date_not_by_diagram_order():
    """The later timer drawn first: still the earlier date wins."""
    spiff_fixes.apply()
    wf = two_timers(early=LATE, late=EARLY)
    run_after_downtime(wf, fixed=True)
    assert ready_tasks(wf) == ["escalate"]
