"""Scottish children part-way through version 1 of the permanence journey
(tests/fixtures/bpmn_version_1/permanence_journey/) move to the shipped version 2 with the
product's own migration and carry on under the new rules (docs/journey-changes.md,
Permanence journey), on SQLite and PostgreSQL: every version 1 task is still there, a child
before the legal advice gets the six-monthly reviews, a child at the report meets the
deferred panel's return to panel and the Reporter, and an adoption child's order leads on to
family finding."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from web.cli.acting import by_user
from workflows.engine_config import BPMN_DIR
from workflows.process_models.bundled import deploy_bundled
from workflows.services import model_deployment as deployment
from workflows.vocabulary import PERMANENCE

from tests.conftest import BACKENDS, make_database

from .driver import Journey
from .test_permanence_routes import _timers, expect

VERSION_1 = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn_version_1"
LA = date(2026, 1, 5)


@pytest.fixture(params=BACKENDS)
def v1_db(request, tmp_path):
    """A Scottish deployment running version 1 of the shipped diagrams."""
    database = make_database(request.param, tmp_path, request, deploy=False)
    with database.transaction() as session:
        deployed = deploy_bundled(session, folder=VERSION_1, reason="Version 1 (fixture)")
    assert {m.version for m, _ in deployed} == {1}
    return database


def _move_to_version_2(database) -> None:
    folder = BPMN_DIR / PERMANENCE
    with database.transaction() as session:
        owner = by_user(session, "owner", "process_owner", "process owner")
        files = [(p.name, p.read_bytes())
                 for p in sorted(folder.rglob("*")) if p.is_file()]
        done = deployment.deploy_files(session, database.runtime, owner, files,
                                       "Version 2: issue 29", None, database.settings.council,
                                       process_id=PERMANENCE)
        assert done.created and done.model.version == 2
    outcomes = deployment.migrate_children(database, owner, PERMANENCE, 2)
    assert all(o.moved for o in outcomes), [o.message for o in outcomes if not o.moved]


def _to(j: Journey, last: str) -> Journey:
    """Version 1's steps up to (not including) ``last``."""
    steps = [("planning_meeting", date(2026, 1, 7), {}), ("initial_lar", date(2026, 1, 26), {}),
             ("interim_lar", date(2026, 4, 2), {}), ("legal_referral", date(2026, 7, 15), {}),
             ("legal_opinion", date(2026, 7, 30), {}),
             ("substantive_lar", date(2026, 8, 3), {"route": "adoption", "date_held": date(2026, 8, 3)}),
             ("capr", date(2026, 9, 20), {"submitted_date": date(2026, 9, 20)}),
             ("panel", date(2026, 10, 20), {"date_held": date(2026, 10, 20),
                                            "panel_recommendation": "agrees"}),
             ("adm_decision", date(2026, 11, 1), {"adm_decision": "ratified",
                                                  "decision_date": date(2026, 11, 1)}),
             ("lodge_application", date(2026, 12, 10), {"lodged_date": date(2026, 12, 10)})]
    for task, day, answers in steps:
        if task == last:
            return j
        j.complete(task, day, **answers)
    return j


def test_children_part_way_through_version_1_carry_on_under_version_2(v1_db):
    early = _to(Journey(v1_db, "M00001").accommodate(LA), "legal_referral")
    report = _to(Journey(v1_db, "M00002").accommodate(LA), "capr")
    court = _to(Journey(v1_db, "M00003").accommodate(LA), "court_order")
    _move_to_version_2(v1_db)
    # Each child is where it was: no version 1 task is gone.
    early.expect("legal_referral", "social_worker")
    report.expect("capr", "social_worker")
    court.expect("court_order", "legal_services")

    # Before the legal advice: the review branch starts after it, as for a new child.
    early.complete("legal_referral", date(2026, 7, 15))
    early.complete("legal_opinion", date(2026, 7, 30))
    assert [d for _, d in _timers(early)] == [date(2027, 1, 6)]

    # At the report: a deferred panel returns to panel; the ADM asks the legal basis, and a
    # child on a CSO goes to the Reporter before the council's application.
    report.complete("capr", date(2026, 9, 20), submitted_date=date(2026, 9, 20))
    report.complete("panel", date(2026, 10, 20), date_held=date(2026, 10, 20),
                    panel_recommendation="deferred", reconvene_date=date(2026, 11, 3))
    report.expect("panel", "panel_adviser", date(2026, 11, 3))
    report.complete("panel", date(2026, 11, 3), date_held=date(2026, 11, 3),
                    panel_recommendation="agrees")
    report.complete("adm_decision", date(2026, 11, 10), adm_decision="ratified",
                    decision_date=date(2026, 11, 10), legal_basis="cso")
    report.expect("notify_reporter", "social_worker", date(2026, 11, 17))
    # Past the legal advice at the move, the review branch is there all the same: its alert
    # 4 weeks before 6 months after the substantive review's deadline (LA_START + 30 weeks).
    assert [d for _, d in _timers(report)] == [date(2027, 1, 6)]

    # At the court on the adoption route: the order granted leads on to family finding.
    court.complete("court_order", date(2027, 5, 3), court_outcome="granted",
                   decision_date=date(2027, 5, 3))
    expect(court, "family_finding", "social_worker", date(2027, 7, 26))
    assert court.instances()[0].status == "running"
