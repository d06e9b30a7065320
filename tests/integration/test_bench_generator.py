"""The benchmark generator writes exactly what the runtime writes (bench/generator.py).

Templates are played through the runtime in a scratch SQLite database; the clones written
into the test database (SQLite and PostgreSQL) must equal children built there by the
runtime alone from the same journeys: same work items and due dates, milestones, timers,
audit events and notifications; the state must deserialize and give the same READY tasks;
every audit chain must verify; and a clone must go on behaving like the real thing.
"""
from __future__ import annotations

import json
import random
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, func, select
from SpiffWorkflow.util.task import TaskState

from bench import generator, journeys
from engine import audit, clock
from engine.models import (AuditEvent, Milestone, ProcessInstance, Subject, Timer, UserAccount,
                           WorkItem)
from workflows import sample_answers

TODAY = date(2026, 11, 2)
SAMPLE = [
    journeys.Journey("adoption", TODAY, 11, TODAY - timedelta(days=1)),        # just started
    journeys.Journey("not_decided", TODAY - timedelta(days=420), 12, TODAY),   # review loop
    journeys.Journey("permanence_order", TODAY - timedelta(days=1000), 13, TODAY),  # ended
    journeys.Journey("cso", TODAY - timedelta(days=200), 14, TODAY),           # timer waiting
    journeys.Journey("cso", TODAY - timedelta(days=560), 15, TODAY),           # timer fired, alert sent
    journeys.Journey("cso_away", TODAY - timedelta(days=900), 16, TODAY),      # hand-off to a journey
]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    return generator.build_templates([(j, 1.0) for j in SAMPLE],
                                     workdir=tmp_path_factory.mktemp("templates"))


def _utc(value):
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def snapshot(session, subject_id: int) -> dict:
    """Everything stored about a child, with ids, UUIDs, reference and team made relative."""
    child = session.get(Subject, subject_id)
    users = {u.id: u.username for u in session.scalars(select(UserAccount))}
    instances = list(session.scalars(select(ProcessInstance).where(
        ProcessInstance.subject_id == subject_id).order_by(ProcessInstance.id)))
    index = {i.id: n for n, i in enumerate(instances)}
    order: dict[str, int] = {}
    for i in instances:
        for found in UUID.findall(i.state):
            order.setdefault(found, len(order))

    def plain(value):
        if isinstance(value, dict):
            return {plain(k): plain(v) for k, v in value.items() if k != "last_state_change"}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, str):
            value = UUID.sub(lambda m: f"<task {order.setdefault(m.group(0), len(order))}>", value)
            return value.replace(child.reference, "<ref>")
        return _utc(value)

    def row(obj, *drop, **replace):
        cols = {c.key: getattr(obj, c.key) for c in obj.__table__.columns
                if c.key not in ("id", "subject_id", *drop)}
        cols.update(replace)
        return plain(cols)

    items = list(session.scalars(select(WorkItem).where(WorkItem.subject_id == subject_id)
                                 .order_by(WorkItem.id)))
    item_index = {w.id: n for n, w in enumerate(items)}
    events = list(session.scalars(select(AuditEvent).where(
        AuditEvent.chain == audit.chain_for(subject_id)).order_by(AuditEvent.chain_seq)))
    event_index = {e.id: n for n, e in enumerate(events)}
    found = {
        "child": (_utc(child.created_at), child.date_of_birth, child.attributes),
        "instances": [row(i, model_id=(i.model.process_id, i.model.version),
                          parent_instance_id=index.get(i.parent_instance_id),
                          state=json.loads(i.state)) for i in instances],
        "work_items": [row(w, instance_id=index[w.instance_id], team=w.team == child.team,
                           assignee_id=users.get(w.assignee_id),
                           completed_by=users.get(w.completed_by)) for w in items],
        "milestones": [row(m, instance_id=index[m.instance_id]) for m in session.scalars(
            select(Milestone).where(Milestone.subject_id == subject_id).order_by(Milestone.id))],
        "timers": [row(t, instance_id=index[t.instance_id]) for t in session.scalars(
            select(Timer).where(Timer.instance_id.in_(index)).order_by(Timer.id))],
        "events": [row(e, "chain", "prev_hash", "hash", instance_id=index.get(e.instance_id),
                       data=_event_data(e.data, child, index)) for e in events],
    }
    # SQL NULL and JSON null read back alike; the raw rows must agree too
    found["json_nulls"] = {
        (table.name, column.name): session.scalar(
            select(func.count()).select_from(table).where(column.is_(None), *(
                [table.c.subject_id == subject_id] if "subject_id" in table.c else
                [table.c.instance_id.in_(index)])))
        for table in (generator.TABLES[n] for n in ("work_item", "milestone", "timer",
                                                      "audit_event", "notification")
                      if n in generator.TABLES)
        for column in table.c if isinstance(column.type, JSON)}
    if "notification" in generator.TABLES:
        from engine.models import Notification
        found["notifications"] = [
            {"user": users[n.user_id], "kind": n.kind, "title": plain(n.title), "body": plain(n.body),
             "link": re.sub(r"\d+$", lambda m: f"#{item_index.get(int(m.group(0)))}", n.link or ""),
             "work_item": item_index.get(n.work_item_id), "event": event_index.get(n.event_id),
             "created_at": _utc(n.created_at), "read_at": n.read_at,
             "key": n.dedupe_key.replace(audit.chain_for(subject_id), "<chain>")}
            for n in session.scalars(select(Notification).where(Notification.subject_id == subject_id)
                                     .order_by(Notification.id))]
    return found


def _event_data(data: dict, child: Subject, index: dict) -> dict:
    data = dict(data)
    if data.get("team") == child.team:
        data["team"] = "<team>"
    if isinstance(data.get("parent_instance"), int):
        data["parent_instance"] = index[data["parent_instance"]]
    return data


def ready_tasks(database, session, subject_id: int) -> list:
    found = []
    for instance in session.scalars(select(ProcessInstance).where(
            ProcessInstance.subject_id == subject_id, ProcessInstance.status == "running")
            .order_by(ProcessInstance.id)):
        wf = database.runtime.load_workflow(instance)
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        open_ids = set(session.scalars(select(WorkItem.task_id).where(
            WorkItem.instance_id == instance.id, WorkItem.status.in_(("ready", "claimed")))))
        assert {str(t.id) for t in ready} == open_ids  # the queue index matches the state
        found.append(sorted((t.task_spec.bpmn_id, t.task_spec.lane, json.dumps(t.data, sort_keys=True))
                            for t in ready))
    return found


def test_generated_children_equal_runtime_built_ones(database, templates):
    generator.prepare_database(database)
    assert [t.stage for t in templates] == [
        "planning_meeting", templates[1].stage, templates[2].stage, "waiting:Review alert",
        templates[4].stage, templates[5].stage]
    assert templates[2].stage.startswith("ended:") and len(templates[5].rows["process_instance"]) == 2
    references = [journeys.build_child(database, j, f"R{n:05d}", generator.TEMPLATE_TEAM)
                  for n, j in enumerate(SAMPLE)]
    same_team = generator.generate(database, templates, len(templates), seed=3)
    other_team = generator.generate(database, templates, len(templates), seed=4, teams=["t0001"],
                                    reference_prefix="H")
    with database.transaction() as session:
        expected = {j.key: snapshot(session, sid) for j, sid in zip(SAMPLE, references)}
        ready = {j.key: ready_tasks(database, session, sid) for j, sid in zip(SAMPLE, references)}
        for generated in (same_team, other_team):
            for template, sid in zip(generated.templates, generated.subject_ids):
                got = snapshot(session, sid)
                assert got == expected[template.journey.key], template.journey.key
                assert ready_tasks(database, session, sid) == ready[template.journey.key]
        teams = {sid: session.get(Subject, sid).team for sid in other_team.subject_ids}
        assert set(teams.values()) == {"t0001"}
        assert all(w.team == "t0001" for w in session.scalars(
            select(WorkItem).where(WorkItem.subject_id.in_(other_team.subject_ids))))
        assert audit.verify(session) is None
    # one alert notification was derived from a fired timer, and cloned with its child
    assert any(t.rows.get("notification") for t in templates)


def test_a_generated_child_goes_on_like_a_runtime_built_one(database, templates):
    generator.prepare_database(database)
    journey = SAMPLE[0]
    reference = journeys.build_child(database, journey, "R00001", generator.TEMPLATE_TEAM)
    generated = generator.generate(database, [templates[0]], 1, seed=5)
    (clone_id,) = generated.subject_ids
    day = TODAY + timedelta(days=1)
    for subject_id in (reference, clone_id):
        clock.set_now(day)
        with database.transaction() as session:
            item = session.scalars(select(WorkItem).where(WorkItem.subject_id == subject_id,
                                                          WorkItem.status == "ready")).one()
            instance = session.get(ProcessInstance, item.instance_id)
            schema, _ = database.runtime.form_for(instance, item.task_name)
            data = sample_answers.fill(schema, day, random.Random(1))
            user = session.scalar(select(UserAccount).where(UserAccount.username == generator.BENCH_USER))
            database.runtime.complete(session, item.id, data, user)
    clock.set_now(None)
    with database.transaction() as session:
        assert snapshot(session, clone_id) == snapshot(session, reference)
        assert [w.task_name for w in session.scalars(select(WorkItem).where(
            WorkItem.subject_id == clone_id, WorkItem.status == "ready"))] == ["initial_lar"]
        assert audit.verify(session) is None


# Every route, played to its end or to "today" (a kinship order, a return home, court...).
EVERY_ROUTE = [journeys.Journey(route, TODAY - timedelta(days=days), 20 + n, TODAY)
               for n, route in enumerate(journeys.ALL_ROUTES) for days in (300, 900)]


def _rules_broken_along_the_trail(session, subject_ids) -> tuple[list, int]:
    """Replay each child's completions in the order its audit chain recorded them and check
    every answer against the date rules of its form, with the milestones recorded before it
    (as the runtime does at completion): (what broke a rule, completions checked)."""
    from engine import date_rules, milestones, registry
    from engine.expressions import evaluate_safely
    loaded = {}
    broken, checked = [], 0
    for subject_id in subject_ids:
        child = session.get(Subject, subject_id)
        recorded: dict[int, dict[str, date]] = {}  # instance -> milestone -> latest date
        for row in session.scalars(select(Milestone).where(
                Milestone.subject_id == subject_id, Milestone.code.in_(("LA_START", "CSO_START")))):
            recorded.setdefault(row.instance_id, {})[row.code] = row.actual_date
        for event in session.scalars(select(AuditEvent).where(
                AuditEvent.subject_id == subject_id, AuditEvent.event_type == "task_completed")
                .order_by(AuditEvent.chain_seq)):
            instance = session.get(ProcessInstance, event.instance_id)
            key = (instance.process_id, instance.model_id)
            if key not in loaded:
                loaded[key] = registry.load(instance.model)
            model = loaded[key]
            spec = model.spec.task_specs[event.data["task"]]
            answers = event.data["answers"]
            known = recorded.setdefault(instance.id, {})
            facts = date_rules.Facts(_utc(event.at).date(), child.date_of_birth, dict(known),
                                     lambda code: code)
            found = date_rules.check(model.form_schema(spec), answers, facts)
            broken += [(child.reference, event.data["task"], e.message) for e in found]
            checked += 1
            props = milestones.properties(spec)
            when = props.get("milestoneWhen")
            if props.get("milestone") and (not when or evaluate_safely(when, answers)):
                day = milestones.as_date(answers.get(props.get("milestoneDateField") or "date_held"))
                known[props["milestone"]] = day or _utc(event.at).date()
    return broken, checked


def test_a_generated_caseload_has_no_milestone_out_of_order(database, tmp_path):
    """Every route, generated: no recorded date lies in the future or before the date its
    form says it follows (the forms' date rules, replayed along each child's audit trail),
    and no milestone lies before the child's start or after today."""
    every = generator.build_templates([(j, 1.0) for j in EVERY_ROUTE], workdir=tmp_path)
    generator.prepare_database(database)
    generated = generator.generate(database, every, 2 * len(every), seed=6)
    with database.transaction() as session:
        broken, checked = _rules_broken_along_the_trail(session, generated.subject_ids)
        assert broken == []
        assert checked > 5 * len(generated.subject_ids)  # the journeys went a long way
        starts: dict[int, date] = {}
        rows = list(session.scalars(select(Milestone).where(
            Milestone.subject_id.in_(generated.subject_ids), Milestone.actual_date.is_not(None))))
    for row in rows:
        if row.code in ("LA_START", "CSO_START"):
            starts[row.instance_id] = row.actual_date
    codes = {row.code for row in rows}
    assert {"APPLICATION_LODGED", "ORDER_GRANTED", "RETURN_HOME", "ADM", "CSO_HEARING"} <= codes
    for row in rows:
        assert starts[row.instance_id] <= row.actual_date <= TODAY, (row.code, row.actual_date)
