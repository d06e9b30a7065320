"""Moving running children to a new diagram version (a PDSA change)."""
from datetime import date

import pytest
from sqlalchemy import select

from engine import clock, migration, registry
from engine.errors import Conflict
from engine.models import ProcessInstance
from workflows import accounts
from workflows.engine_config import pace_config

from .diagram_variants import deploy_variant, without_legal_referral
from .driver import Journey


def test_diff_lists_the_changed_due_rule(database):
    new = deploy_variant(database, **{'value="LA_START+3w"': 'value="LA_START+2w"',
                                      'name="Hold interim review"': 'name="Hold three-month review"'})
    with database.transaction() as session:
        v1 = session.scalar(select(registry.ProcessModel).where(
            registry.ProcessModel.process_id == "permanence_journey", registry.ProcessModel.version == 1))
        lines = migration.diff_models(v1, new).lines()
    assert "Hold initial looked-after review: due rule LA_START+3w → LA_START+2w" in lines
    assert "Renamed: Hold interim review → Hold three-month review" in lines


def test_child_moves_with_recomputed_due_date_and_keeps_draft(database):
    j = Journey(database).accommodate(date(2026, 1, 5))
    j.complete("planning_meeting", date(2026, 1, 7))
    item = j.expect("initial_lar", "independent_chair", date(2026, 1, 26))
    with database.transaction() as session:
        chair = accounts.find_user(session, "chair")
        from engine import work_items
        work_items.claim(session, item.id, chair)
        work_items.save_draft(session, item.id, {"chair": "Isla"}, chair)
    new = deploy_variant(database, **{'value="LA_START+3w"': 'value="LA_START+2w"'})
    clock.set_now(date(2026, 1, 10))
    with database.transaction() as session:
        instance = session.get(ProcessInstance, item.instance_id)
        dry = migration.check(database.runtime, instance, new)
        assert dry.can_move and dry.moves == ["Hold initial looked-after review → Hold initial looked-after review"]
        migration.migrate(session, database.runtime, instance, new, "owner")
    moved = j.expect("initial_lar", "independent_chair", date(2026, 1, 19))
    assert (moved.draft, moved.assignee_id, moved.status) == ({"chair": "Isla"}, chair.id, "claimed")
    assert j.instances()[0].model_id == new.id
    j.complete("initial_lar", date(2026, 1, 19))
    j.expect("interim_lar", "independent_chair", date(2026, 4, 5))


def test_child_on_a_removed_task_is_refused_and_others_move(database):
    waiting = Journey(database, reference="AT-REFERRAL").accommodate(date(2026, 1, 5))
    earlier = Journey(database, reference="EARLIER").accommodate(date(2026, 1, 5))
    for j in (waiting, earlier):
        j.complete("planning_meeting", date(2026, 1, 7))
        j.complete("initial_lar", date(2026, 1, 20))
    waiting.complete("interim_lar", date(2026, 4, 1))
    at_referral = waiting.expect("legal_referral", "social_worker")
    with database.transaction() as session:
        new, _ = registry.deploy(session, without_legal_referral(), pace_config().validation_context(),
                                 "owner", reason="Legal advice requested at the interim review")
        v1 = session.get(registry.ProcessModel, session.get(ProcessInstance, at_referral.instance_id).model_id)
        assert "Removed: Send referral for legal advice" in migration.diff_models(v1, new).lines()
        stuck = session.get(ProcessInstance, at_referral.instance_id)
        dry = migration.check(database.runtime, stuck, new)
        assert not dry.can_move and "Send referral for legal advice" in dry.reason
        with pytest.raises(Conflict, match="cannot move"):
            migration.migrate(session, database.runtime, stuck, new, "owner")
    waiting.expect("legal_referral", "social_worker")
    with database.transaction() as session:
        movable = session.get(ProcessInstance, earlier.instances()[0].id)
        migration.migrate(session, database.runtime, movable, new, "owner")
    earlier.complete("interim_lar", date(2026, 4, 1))
    earlier.expect("legal_opinion", "legal_services", date(2026, 8, 2))
