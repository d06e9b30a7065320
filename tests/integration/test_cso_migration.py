"""Children part-way through version 1 of the CSO-at-home review loop
(tests/fixtures/bpmn_version_1/cso_home_review/) move to the shipped version 2 with the
product's own migration and carry on under the new rules, as docs/journey-changes.md
(CSO-at-home review loop and Aim 1) says, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from web.cli.acting import by_user
from workflows.engine_config import BPMN_DIR
from workflows.process_models.bundled import deploy_bundled
from workflows.services import model_deployment as deployment
from workflows.vocabulary import CSO_HOME

from tests.conftest import BACKENDS, make_database

from .driver import Journey

VERSION_1 = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn_version_1"
CSO = date(2025, 1, 10)  # version 1: the first review 18 months on, alert 6 weeks before
LATER = date(2025, 3, 10)  # alert 2026-07-30


@pytest.fixture(params=BACKENDS)
def v1_db(request, tmp_path):
    database = make_database(request.param, tmp_path, request, deploy=False)
    with database.transaction() as session:
        deploy_bundled(session, folder=VERSION_1, reason="Version 1 (fixture)")
    return database


def _move_to_version_2(database) -> None:
    folder = BPMN_DIR / CSO_HOME
    with database.transaction() as session:
        owner = by_user(session, "owner", "process_owner", "process owner")
        files = [(p.name, p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()]
        done = deployment.deploy_files(session, database.runtime, owner, files,
                                       "Version 2: issue 29", None, database.settings.council,
                                       process_id=CSO_HOME)
        assert done.created and done.model.version == 2
    outcomes = deployment.migrate_children(database, owner, CSO_HOME, 2)
    assert all(o.moved for o in outcomes), [o.message for o in outcomes if not o.moved]


def _reviewed(j: Journey, recommendation: str) -> Journey:
    j.sweep(date(2026, 5, 29))
    j.complete("schedule_aim1_review", date(2026, 6, 1), review_date=date(2026, 7, 8))
    if recommendation:
        j.complete("hold_aim1_review", date(2026, 7, 8), date_held=date(2026, 7, 8),
                   recommendation=recommendation)
    return j


def test_children_part_way_through_version_1_carry_on_under_version_2(v1_db):
    waiting = Journey(v1_db, "C00001").place_on_cso(LATER)
    at_review = _reviewed(Journey(v1_db, "C00002").place_on_cso(CSO), "")
    at_hearing = _reviewed(Journey(v1_db, "C00003").place_on_cso(CSO), "continue")
    at_hearing.expect("record_hearing_decision", "social_worker", date(2026, 8, 19))  # v1

    _move_to_version_2(v1_db)

    # A waiting alert keeps version 1's date; the tasks it opens count from the setting.
    assert waiting.sweep(date(2026, 7, 29)).timers_fired == 0
    assert waiting.sweep(date(2026, 7, 30)).timers_fired == 1
    waiting.expect("schedule_aim1_review", "team_leader", date(2026, 8, 13))

    # The hearing task of a review held under version 1 stays, with its due date, and a
    # decision recorded on it loops back as before: no Reporter task for that review.
    at_hearing.expect("record_hearing_decision", "social_worker", date(2026, 8, 19))
    at_hearing.complete("record_hearing_decision", date(2026, 8, 10),
                        hearing_decision="continued", date_held=date(2026, 8, 10))
    at_hearing.expect_nothing_open()

    # A review still to be held now follows version 2: the Reporter first.
    at_review.expect("hold_aim1_review", "independent_chair", date(2026, 7, 8))
    at_review.complete("hold_aim1_review", date(2026, 8, 11), date_held=date(2026, 7, 8),
                       recommendation="terminate")
    at_review.expect("notify_reporter", "social_worker", date(2026, 7, 15))
