"""English children part-way through version 1 of the shipped diagrams (tests/fixtures/
bpmn_version_1/england/) move to the shipped bpmn/england/ with the product's own migration and
carry on under the new rules (docs/journey-changes.md, England), on SQLite and PostgreSQL:
a dispute at formal stage 2 goes on to the head of service, not to Cafcass; a child still on the
section 20 legal path reaches the review of a long section 20; a visit's 3-monthly choice in
the placement's first year is refused."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.errors import InvalidData
from web.cli.acting import by_user
from workflows import profiles
from workflows.engine_config import BPMN_DIR
from workflows.process_models.bundled import deploy_bundled
from workflows.services import model_deployment as deployment

from tests.conftest import BACKENDS, make_database

from .england_journey import EnglandJourney

VERSION_1 = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn_version_1"


@pytest.fixture(params=BACKENDS)
def v1_db(request, tmp_path):
    """An English deployment running version 1 of the shipped diagrams."""
    patch = pytest.MonkeyPatch()
    patch.setenv("PACE_PROFILES", "england")
    request.addfinalizer(patch.undo)
    database = make_database(request.param, tmp_path, request, deploy=False)
    with database.transaction() as session:
        deployed = deploy_bundled(session, folder=VERSION_1, reason="Version 1 (fixture)")
    assert {m.version for m, _ in deployed} == {1}
    return database


def _move_to_version_2(database) -> None:
    with database.transaction() as session:
        owner = by_user(session, "eng.owner", "process_owner", "process owner")
        changed = []
        for pid in profiles.ENGLAND_PROFILE.processes:
            folder = profiles.ENGLAND_PROFILE.process_folder(pid, BPMN_DIR)
            files = [(p.name, p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()]
            done = deployment.deploy_files(session, database.runtime, owner, files,
                                           "Version 2: regulations (issue 29)", None,
                                           database.settings.council, process_id=pid)
            if done.created:  # the care proceedings timetable did not change
                changed.append(pid)
                assert done.model.version == 2
    assert changed == [profiles.ENG_LOOKED_AFTER, profiles.ENG_LEGAL_STATUS]
    for pid in changed:
        outcomes = deployment.migrate_children(database, owner, pid, 2)
        assert all(o.moved for o in outcomes), [o.message for o in outcomes if not o.moved]


def test_children_part_way_through_version_1_carry_on_under_the_new_rules(v1_db):
    dispute = EnglandJourney(v1_db, reference="E00001").looked_after(date(2026, 8, 3))
    dispute.complete("first_review", date(2026, 8, 26), plan_challenged="yes",
                     concerns="Contact plan not implemented", looked_after_status="continues",
                     participation="PN1", next_review_date=date(2026, 11, 20))
    dispute.complete("informal_resolution", date(2026, 9, 1), outcome="not_resolved")
    dispute.complete("formal_stage_1", date(2026, 9, 7), outcome="not_resolved")
    dispute.expect("formal_stage_2", "service_manager")

    section20 = EnglandJourney(v1_db, reference="E00002").looked_after(date(2026, 1, 5))
    section20.complete("s20_agreement", date(2026, 1, 6), legal_planning_needed="yes")
    section20.expect("legal_planning_meeting", "legal")

    visits = EnglandJourney(v1_db, reference="E00003").looked_after(date(2026, 6, 1),
                                                                   legal_status="s31")
    visits.complete("first_visit", date(2026, 6, 4), seen_alone=True,
                    placement_status="continuing", visit_frequency="monthly")
    visits.expect("visit_monthly", "social_worker", date(2026, 7, 4))

    _move_to_version_2(v1_db)

    # Each is still on the task it was at, with its due date.
    dispute.expect("formal_stage_2", "service_manager", date(2026, 9, 14))
    visits.expect("visit_monthly", "social_worker", date(2026, 7, 4))
    # The dispute goes up to the head of service, not straight to Cafcass.
    dispute.complete("formal_stage_2", date(2026, 9, 14), outcome="not_resolved",
                     response="The plan stands")
    dispute.expect("formal_stage_3", "head_of_service", date(2026, 9, 21))
    assert "cafcass_referral" not in dispute.open_names()
    # Remaining under section 20 reaches the new 6-month review at once (6 months passed).
    section20.complete("legal_planning_meeting", date(2026, 8, 3), decision="remain_s20")
    section20.expect("s20_legal_review", "team_manager")
    # 3-monthly in the placement's first year: refused now.
    with pytest.raises(InvalidData, match="only after the first year of a placement"):
        visits.complete("visit_monthly", date(2026, 7, 2), seen_alone=True,
                        placement_status="continuing", visit_frequency="three_monthly")
    visits.complete("visit_monthly", date(2026, 7, 2), seen_alone=True,
                    placement_status="continuing", visit_frequency="six_weekly")
    visits.expect("visit_six_weekly", "social_worker", date(2026, 8, 13))
