"""The largest diagram a process owner may upload is checked and deployed within 2 s (the
figure bench/model_checks.py measures), and one element more is refused at once. CPU time
of this process, since the machine running the suite is shared; on both databases."""
from __future__ import annotations

import time

from sqlalchemy import select

from bench.model_checks import largest_allowed
from engine import registry, runnable_checks
from engine.models import ProcessModel
from workflows.engine_config import pace_config
from workflows.process_models import model_validation


def test_the_largest_allowed_diagram_is_checked_and_deployed_within_two_seconds(empty_database):
    bundle = largest_allowed()
    ctx = pace_config().validation_context()
    started = time.process_time()
    report = model_validation.validate(bundle, ctx)
    assert report.ok, [f.message for f in report.findings][:3]
    with empty_database.transaction() as session:
        model, created = registry.deploy(session, bundle, ctx, "owner", reason="largest")
    seconds = time.process_time() - started
    assert created and seconds < 2, seconds
    with empty_database.transaction() as session:
        stored = session.scalars(select(ProcessModel).where(
            ProcessModel.process_id == "bench_largest")).one()
        assert stored.bpmn_xml.count("<bpmn:userTask ") == runnable_checks.MAX_FLOW_ELEMENTS - 4


def test_one_element_more_is_refused_at_once():
    bundle = largest_allowed(runnable_checks.MAX_FLOW_ELEMENTS - 3)
    started = time.process_time()
    report = model_validation.validate(bundle, pace_config().validation_context())
    assert time.process_time() - started < 0.5
    assert [f.message for f in report.findings] == [
        f"the diagram has {runnable_checks.MAX_FLOW_ELEMENTS + 1:,} tasks, events and gateways; "
        f"the limit is {runnable_checks.MAX_FLOW_ELEMENTS:,}: split the process into several "
        "processes, each ending with an end event whose startsProcess property starts the next"]
    assert report.findings[0].fix.startswith("Split the process")
