"""engine/audit/path.py: a diagram read as a graph, and an instance's audit events replayed
through it (what was done, passed, taken, is open or waiting). No database: the events, work
items and timers are plain objects with the fields the replay reads."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from engine.audit import path

from .diagrams import linear, timer_diagram

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def event(event_type: str, minutes: int = 0, task_id: str | None = None, actor="sw1", **data):
    return SimpleNamespace(event_type=event_type, data=data, task_id=task_id, actor=actor,
                           at=T0 + timedelta(minutes=minutes))


def test_a_diagram_is_read_as_a_graph():
    graph = path.Diagram(linear(gateway_condition="x == 1"))
    assert graph.kinds == {"start": "startEvent", "task": "userTask",
                           "gw": "exclusiveGateway", "end": "endEvent"}
    assert graph.names["task"] == "Do it" and graph.names["gw"] == "gw"  # unnamed: its id
    assert graph.starts == ["start"]
    # through the gateway (passed, not recorded), by the first of its flows
    assert graph.path("task", "end") == (["f2", "f3"], ["gw"])
    assert graph.path("end", "task") is None  # cannot follow
    assert graph.path("start", "end") is None  # not through a recorded task


def test_events_name_their_elements():
    graph = path.Diagram(timer_diagram())
    assert path.element_of(event("instance_started"), graph) == "start"
    assert path.element_of(event("timer_fired", timer="Alert"), graph) == "wait"  # by name
    assert path.element_of(event("timer_fired", timer="wait"), graph) == "wait"  # by id
    assert path.element_of(event("task_ready", task="task"), graph) == "task"
    assert path.element_of(event("task_ready", task="elsewhere"), graph) is None
    assert path.element_of(event("instance_completed", end="end"), graph) == "end"
    assert path.element_of(event("task_ready", task="task"), None) is None


def test_a_finished_instance_replays_its_whole_path():
    graph = path.Diagram(linear(gateway_condition="x == 1"))
    events = [event("instance_started"),
              event("task_ready", 1, "t1", task="task", due="2026-01-08"),
              event("task_claimed", 30, "t1", task="task"),
              event("task_completed", 90, "t1", actor="sw2", task="task"),
              event("instance_completed", 91, end="end")]
    replayed = path.replay(graph, events)
    assert replayed.states == {"start": ["done"], "task": ["done"], "end": ["done"],
                               "gw": ["passed"], "f1": ["taken"], "f2": ["taken"],
                               "f3": ["taken"]}
    assert replayed.overlays == [path.Overlay("task", "done", count=1)]
    [step] = replayed.steps
    assert (step.element, step.name, step.status, step.completed_by, step.due) == \
        ("task", "Do it", "completed", "sw2", "2026-01-08")
    assert step.claimed == T0 + timedelta(minutes=30)
    assert step.elapsed == timedelta(minutes=89)


def test_a_task_done_twice_and_a_withdrawn_one():
    graph = path.Diagram(linear())
    events = [event("instance_started"),
              event("task_ready", 1, "t1", task="task"),
              event("task_completed", 2, "t1", task="task"),
              event("task_ready", 3, "t2", task="task"),
              event("task_completed", 4, "t2", task="task"),
              event("task_ready", 5, "t3", task="task"),
              event("task_cancelled", 6, "t3", task="task")]
    replayed = path.replay(graph, events)
    assert replayed.overlays == [path.Overlay("task", "done", count=2)]
    assert [s.status for s in replayed.steps] == ["completed", "completed", "withdrawn"]
    assert replayed.steps[2].elapsed == timedelta(minutes=1)


def test_a_running_instance_waits_on_its_timer_then_shows_the_open_task():
    graph = path.Diagram(timer_diagram())
    fire_at = T0 + timedelta(weeks=2)
    waiting = path.replay(graph, [event("instance_started")],
                          timers=[SimpleNamespace(name="wait", fire_at=fire_at)])
    assert waiting.states == {"start": ["done"], "wait": ["waiting"], "f1": ["taken"]}
    assert waiting.overlays == [path.Overlay("wait", "waiting", until=fire_at)]
    assert waiting.steps == []

    events = [event("instance_started"), event("timer_fired", 60, timer="wait"),
              event("task_ready", 60, "t1", task="task")]
    running = path.replay(graph, events,
                          open_items=[SimpleNamespace(task_name="task", status="claimed")])
    assert running.states == {"start": ["done"], "wait": ["done"], "task": ["current"],
                              "f1": ["taken"], "f2": ["taken"]}
    assert running.overlays == [path.Overlay("task", "current", claimed=True)]
    [step] = running.steps
    assert step.status == "open" and step.elapsed is not None and step.elapsed > timedelta(0)


def test_an_unsafe_diagram_is_an_empty_graph():
    unsafe = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]>'
              + linear().split("?>", 1)[1])
    graph = path.Diagram(unsafe)
    assert graph.kinds == {} and graph.starts == []
    replayed = path.replay(graph, [event("instance_started"),
                                   event("task_ready", 1, "t1", task="task")])
    assert replayed.states == {} and replayed.overlays == [] and replayed.steps == []
