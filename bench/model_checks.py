"""Checking and deploying the largest diagram a process owner may upload.

The largest allowed diagram (engine/runnable_checks.py MAX_FLOW_ELEMENTS: a start event, a
parallel split to that many user tasks less four, a join and an end) is checked as the
draft page checks it (workflows/process_models/model_validation.validate) and deployed
(engine/registry.deploy) in one transaction, each run with new content so that it is really
deployed. Target: check plus deploy within 2 s, under gunicorn's 30 s worker timeout by far.
Baseline, measured in the same run the same way: the shipped permanence journey.

``python -m bench --only models`` (or ``python -m bench.model_checks`` alone).
"""
from __future__ import annotations

import time

from engine import registry, runnable_checks
from workflows.engine_config import BPMN_DIR, pace_config
from workflows.process_models import model_validation

from . import common

FORM = ('{"type": "object", "required": ["date_held"], "properties": '
        '{"date_held": {"type": "string", "format": "date"}}}')


def largest_allowed(width: int = runnable_checks.MAX_FLOW_ELEMENTS - 4) -> registry.ModelBundle:
    """start → split → ``width`` user tasks side by side → join → end, in one lane."""
    task_props = ('<bpmn:extensionElements><spiffworkflow:properties>'
                  '<spiffworkflow:property name="formJsonSchemaFilename" value="task.schema.json"/>'
                  '<spiffworkflow:property name="due" value="START+3w"/>'
                  '</spiffworkflow:properties></bpmn:extensionElements>')
    start_props = ('<bpmn:extensionElements><spiffworkflow:properties>'
                   '<spiffworkflow:property name="milestone" value="START"/>'
                   '<spiffworkflow:property name="milestoneDateField" value="start"/>'
                   '</spiffworkflow:properties></bpmn:extensionElements>')
    parts = [f'<bpmn:startEvent id="start">{start_props}<bpmn:outgoing>fs</bpmn:outgoing>'
             '</bpmn:startEvent><bpmn:sequenceFlow id="fs" sourceRef="start" targetRef="split"/>'
             '<bpmn:parallelGateway id="split"><bpmn:incoming>fs</bpmn:incoming>'
             + "".join(f"<bpmn:outgoing>a{i}</bpmn:outgoing>" for i in range(width))
             + '</bpmn:parallelGateway><bpmn:parallelGateway id="join">'
             + "".join(f"<bpmn:incoming>b{i}</bpmn:incoming>" for i in range(width))
             + '<bpmn:outgoing>fe</bpmn:outgoing></bpmn:parallelGateway>'
             '<bpmn:sequenceFlow id="fe" sourceRef="join" targetRef="end"/>'
             '<bpmn:endEvent id="end"><bpmn:incoming>fe</bpmn:incoming></bpmn:endEvent>']
    for i in range(width):
        parts.append(f'<bpmn:sequenceFlow id="a{i}" sourceRef="split" targetRef="t{i}"/>'
                     f'<bpmn:sequenceFlow id="b{i}" sourceRef="t{i}" targetRef="join"/>'
                     f'<bpmn:userTask id="t{i}" name="Step {i}">{task_props}'
                     f'<bpmn:incoming>a{i}</bpmn:incoming><bpmn:outgoing>b{i}</bpmn:outgoing>'
                     '</bpmn:userTask>')
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in
                   ["start", "split", "join", "end"] + [f"t{i}" for i in range(width)])
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
           'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" '
           'targetNamespace="http://bpmn.io/schema/bpmn">\n'
           '<bpmn:process id="bench_largest" name="Largest allowed" isExecutable="true">'
           f'<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="social_worker">{refs}</bpmn:lane>'
           '</bpmn:laneSet>' + "".join(parts) + "</bpmn:process></bpmn:definitions>")
    return registry.ModelBundle("bench_largest", xml, {"task.schema.json": FORM})


def _check_and_deploy(database, bundle: registry.ModelBundle, run: int) -> tuple[float, float]:
    """(seconds, CPU seconds of this process) to check and deploy ``bundle`` as a new
    version (new content each run). The machine is shared: the CPU time shows what the
    elapsed time owes to other work."""
    fresh = registry.ModelBundle(bundle.process_id,
                                 bundle.bpmn_xml.replace("</bpmn:definitions>",
                                                         f"<!-- run {run} --></bpmn:definitions>"),
                                 dict(bundle.forms))
    ctx = pace_config().validation_context()
    started, cpu = time.perf_counter(), time.process_time()
    report = model_validation.validate(fresh, ctx)
    assert report.ok, [f.message for f in report.findings][:3]
    with database.transaction() as session:
        _model, created = registry.deploy(session, fresh, ctx, "bench", reason="bench")
    assert created
    return time.perf_counter() - started, time.process_time() - cpu


def run(ctx: common.Context) -> None:
    largest = largest_allowed()
    shipped = registry.ModelBundle.from_directory(BPMN_DIR / "permanence_journey")
    runs = 3 if ctx.quick else 7
    for backend in ctx.backends:
        with common.open_database(backend, ctx.workdir) as bench_db:
            database = bench_db.database
            database.migrate()
            _check_and_deploy(database, shipped, 0)  # warm: imports, caches of the libraries
            both, base = [], []
            for number in range(1, runs + 1):  # in turns, so both see the same load
                both.append(_check_and_deploy(database, largest, number))
                base.append(_check_and_deploy(database, shipped, number))
            worst, base_worst = max(t for t, _ in both), max(t for t, _ in base)
            median = sorted(t for t, _ in both)[len(both) // 2]
            cpu = sorted(c for _, c in both)[len(both) // 2]
            ctx.add(common.Figure(
                "models", f"check + deploy of the largest allowed diagram "
                          f"({runnable_checks.MAX_FLOW_ELEMENTS:,} elements, "
                          f"{len(largest.bpmn_xml) / 1024:,.0f} KB), worst of {runs}, {backend}",
                worst, "s", baseline=base_worst,
                baseline_name="the shipped permanence journey, worst", target="≤ 2 s",
                met=worst <= 2, note=f"median {median:.2f} s, CPU of this process {cpu:.2f} s (median); "
                                    f"load average {common.load()}"))


if __name__ == "__main__":
    import tempfile
    from pathlib import Path
    context = common.Context(quick=False, backends=["sqlite"] + ([] if common.pg_problem()
                                                                  else ["postgres"]),
                             workdir=Path(tempfile.mkdtemp(prefix="pace-bench-")))
    run(context)
