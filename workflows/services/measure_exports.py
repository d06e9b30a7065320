"""Exports of the measures that leave the council: the national programme's aggregate.

``aggregate`` is what ``pace measures export --aggregate`` and
``GET /api/v1/measures/aggregate`` both call, so the file a council sends is the same
whichever way it is made: every aim by cohort month for the whole council, small numbers
protected (``workflows.measures.aggregate``, format documented in docs/measures.md).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from engine.errors import FieldError, Forbidden, InvalidData
from workflows import policy
from workflows.measures import aggregate as aggregates, pdsa, reports
from workflows.measures.aims import AIMS
from workflows.measures.data import load_deployments
from workflows.policy import Actor

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # as every measurement date


def aggregate(session: Session, actor: Actor | None, council: str,
              on: date) -> aggregates.Export:
    """Every aim of the council per cohort month as at ``on``. ``actor`` None: the operator
    at the command line, who holds the database already."""
    if actor is not None and not policy.can_export_aggregate(actor):
        raise Forbidden("The aggregate export covers the whole council: it is for service "
                        "managers, process owners, auditors and administrators.")
    if not EARLIEST <= on <= LATEST:
        raise InvalidData([FieldError("on", "Use a date between 1900-01-01 and 2999-12-31.")])
    results = reports.aim_results(session, council, None, on, AIMS)
    processes = dict(pdsa.AIM_PROCESS)
    deployments = load_deployments(session, sorted(set(processes.values())))
    cycles = [aggregates.Cycle(c.aim, c.change_idea, c.cycle_number, c.start_date)
              for c in pdsa.cycles(session, None, council)]
    return aggregates.build(council, on, results, processes, deployments, cycles)
