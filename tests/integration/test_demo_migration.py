"""A council running the demo caseload on version 1 of the shipped diagrams (kept in
tests/fixtures/bpmn_version_1/) deploys the shipped bpmn/ as version 2 and moves its running
children with the product's own migration: a dry run listing every child and what happens
to it (service and ``pace models migrate --dry-run``), then the move. Afterwards no child
stands on a task version 2 does not have, and each can carry on (issue 29).

On SQLite and PostgreSQL; the demo is played forward through the real runtime."""
from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from engine import registry
from engine.models import ProcessInstance, ProcessModel, WorkItem
from web.cli.acting import by_user
from workflows import profiles
from workflows.demo import scotland as demo
from workflows.engine_config import BPMN_DIR
from workflows.process_models.bundled import deploy_bundled
from workflows.services import model_deployment as deployment

from tests.web.journeys import make_app

VERSION_1 = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn_version_1"
TODAY = date(2026, 11, 30)
CHILDREN = 40


def _files(folder: Path) -> list[tuple[str, bytes]]:
    """Every file of a process's folder (the diagram, its forms, any Word templates), as
    ``pace models deploy`` reads them from the command line."""
    return [(path.name, path.read_bytes()) for path in sorted(folder.rglob("*")) if path.is_file()]


def _processes():
    for profile in profiles.enabled():
        for process_id in profile.processes:
            yield profile, process_id


def _task_ids(session, process_id: str, version: int) -> set[str]:
    model = session.scalar(select(ProcessModel).where(ProcessModel.process_id == process_id,
                                                      ProcessModel.version == version))
    loaded = registry.load(model)
    names = set(loaded.spec.task_specs)
    for spec in loaded.subprocess_specs.values():
        names |= set(spec.task_specs)
    return names


def _running(session, process_id: str) -> list[ProcessInstance]:
    return list(session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_id == process_id, ProcessInstance.status == "running")
        .order_by(ProcessInstance.id)).unique())


def test_the_demo_caseload_moves_from_version_1_to_the_shipped_version(empty_database):
    database = empty_database
    with database.transaction() as session:
        deployed = deploy_bundled(session, folder=VERSION_1, reason="Version 1 (fixture)")
    assert {(m.process_id, m.version) for m, created in deployed if created} == \
        {(pid, 1) for _, pid in _processes()}
    built = demo.build(database, children=CHILDREN, seed=2026, today=TODAY)
    assert built.children == CHILDREN and built.open_tasks > 0
    with database.transaction() as session:
        owner = by_user(session, "owner", "process_owner", "process owner")
        before = {pid: [(i.id, i.subject.reference) for i in _running(session, pid)]
                  for _, pid in _processes()}
        for profile, pid in _processes():
            done = deployment.deploy_files(
                session, database.runtime, owner, _files(profile.process_folder(pid, BPMN_DIR)),
                "Version 2: the December 2026 practice review", None, database.settings.council,
                process_id=pid)
            assert done.created and done.model.version == 2, f"{pid}: bpmn/ is version 1"
    # most journeys are still running (the demo ends some early: workflows/demo/endings.py)
    assert sum(len(v) for v in before.values()) > (CHILDREN - built.ended_early) // 2

    app = make_app(database)
    runner = app.test_cli_runner()
    for _, pid in _processes():
        with database.transaction() as session:  # the dry run lists every running child
            plan = deployment.migration_plan(session, database.runtime, owner, pid, 2)
            open_before = _open(session, pid)
        assert sorted(c.instance_id for c in plan.candidates) == [i for i, _ in before[pid]]
        stuck = [f"{c.reference}: {c.reason}" for c in plan.candidates if not c.can_move]
        assert not stuck, stuck
        assert all(c.moves or c.now_at for c in plan.candidates)
        dry = runner.invoke(args=["models", "migrate", pid, "--to", "2", "--dry-run",
                                  "--by", "owner"])
        assert dry.exit_code == 0, dry.output
        assert (f"Dry run, nothing changed: {len(before[pid])} children on other versions, "
                f"{len(before[pid])} can move to version 2.") in dry.output
        for _, reference in before[pid]:
            assert f"{reference} (" in dry.output and ": can move: " in dry.output
        with database.transaction() as session:
            assert _open(session, pid) == open_before  # a dry run changes nothing

        with database.transaction() as session:  # past a new split: the branch starts too
            behind = {i.subject.reference for i in _running(session, pid)
                      if _new_split_passed(database.runtime.load_workflow(i), pid)}
        for reference in behind:
            assert f"{reference} (" in dry.output
            assert "also starts: " in dry.output.split(f"{reference} (")[1].split("\n")[0]

        outcomes = deployment.migrate_children(database, owner, pid, 2)
        assert [o.moved for o in outcomes] == [True] * len(before[pid]), \
            [o.message for o in outcomes if not o.moved]
        with database.transaction() as session:
            known = _task_ids(session, pid, 2)
            for instance in _running(session, pid):
                assert instance.model.version == 2, instance.subject.reference
            for (instance_id, task), status in _open(session, pid).items():
                assert task in known, f"instance {instance_id} is on {task}, not in version 2"
            for instance in _running(session, pid):  # nor waiting where it has no step
                wf = database.runtime.load_workflow(instance)
                for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
                    assert task.task_spec.name in known, \
                        f"{instance.subject.reference} waits at {task.task_spec.name}"
                if instance.subject.reference in behind:  # e.g. the six-monthly reviews
                    assert len(wf.get_tasks(state=TaskState.READY | TaskState.WAITING,
                                            skip_subprocesses=True)) >= 2, \
                        f"{instance.subject.reference} got no branch version 2 starts behind it"

    # Each moved child carries on: a year on, the task it stood at is done.
    later, rng = TODAY + timedelta(days=365), random.Random(29)
    with database.transaction() as session:
        waiting = {(i.id, w.id) for pid in before for i in _running(session, pid)
                   for w in session.scalars(select(WorkItem).where(
                       WorkItem.instance_id == i.id, WorkItem.status.in_(("ready", "claimed"))))}
    for instance_id in sorted({i for i, _ in waiting}):
        demo.play(database, instance_id, later, rng, 0.0)
    with database.transaction() as session:
        left = [item for _, item in waiting
                if session.get(WorkItem, item).status in ("ready", "claimed")]
    assert not left, f"work items not done a year after the move: {left}"


def _new_split_passed(wf, process_id: str) -> bool:
    """Whether the child has done the step before a split version 2 adds: the permanence
    journey's legal advice, after which version 2 runs the six-monthly reviews beside the
    route."""
    return process_id == "permanence_journey" and bool(
        wf.get_tasks(spec_name="legal_opinion", state=TaskState.COMPLETED))


def _open(session, process_id: str) -> dict[tuple[int, str], str]:
    return {(instance_id, task): status for instance_id, task, status in session.execute(
        select(WorkItem.instance_id, WorkItem.task_name, WorkItem.status)
        .join(ProcessInstance, ProcessInstance.id == WorkItem.instance_id)
        .where(ProcessInstance.process_id == process_id,
               WorkItem.status.in_(("ready", "claimed"))))}


def test_pace_demo_builds_on_the_diagrams_of_a_folder(empty_database):
    """``pace demo --bpmn DIR``: the schema, then DIR's diagrams as version 1, then the
    caseload on them: the first step of rehearsing a move (docs/journey-changes.md)."""
    runner = make_app(empty_database, DEMO_MODE=True).test_cli_runner()
    done = runner.invoke(args=["demo", "--bpmn", str(VERSION_1), "--children", "4",
                               "--today", TODAY.isoformat()])
    assert done.exit_code == 0, done.output
    assert "permanence_journey version 1: deployed" in done.output
    assert "Demo caseload: 4 children" in done.output
    with empty_database.transaction() as session:
        model = session.scalar(select(ProcessModel).where(
            ProcessModel.process_id == "permanence_journey"))
        shipped = (VERSION_1 / "permanence_journey" / "permanence_journey.bpmn").read_text()
        assert model.version == 1 and model.bpmn_xml == shipped
        assert {i.model_id for i in _running(session, "permanence_journey")} == {model.id}
