"""Moving running children to a new diagram version (a PDSA change)."""
from datetime import date

import pytest
from sqlalchemy import select

from engine import clock, migration, registry
from engine.errors import Conflict
from engine.models import ProcessInstance, WorkItem
from workflows import accounts
from workflows.engine_config import BPMN_DIR, pace_config

from .driver import Journey


def deploy_variant(db, **replace):
    bundle = registry.ModelBundle.from_directory(BPMN_DIR / "permanence_journey")
    for old, new in replace.items():
        bundle.bpmn_xml = bundle.bpmn_xml.replace(old, new)
    with db.transaction() as session:
        model, _ = registry.deploy(session, bundle, pace_config().validation_context(), "owner",
                                   reason="PDSA cycle 2")
        return model


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


def without_legal_referral() -> registry.ModelBundle:
    """A PDSA change that drops the legal referral: interim review flows to legal advice."""
    from lxml import etree
    bundle = registry.ModelBundle.from_directory(BPMN_DIR / "permanence_journey")
    root = etree.fromstring(bundle.bpmn_xml.encode())
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
    incoming = root.xpath("//bpmn:sequenceFlow[@targetRef='legal_referral']", namespaces=ns)[0]
    outgoing = root.xpath("//bpmn:sequenceFlow[@sourceRef='legal_referral']", namespaces=ns)[0]
    incoming.set("targetRef", "legal_opinion")
    opinion = root.xpath("//bpmn:userTask[@id='legal_opinion']", namespaces=ns)[0]
    for ref in opinion.xpath("bpmn:incoming", namespaces=ns):
        if ref.text == outgoing.get("id"):
            ref.text = incoming.get("id")
    doomed = [outgoing, root.xpath("//bpmn:userTask[@id='legal_referral']", namespaces=ns)[0]]
    doomed += root.xpath("//bpmn:flowNodeRef[text()='legal_referral']", namespaces=ns)
    doomed += root.xpath(f"//bpmndi:*[@bpmnElement='legal_referral' or @bpmnElement='{outgoing.get('id')}']",
                         namespaces=ns)
    for node in doomed:
        node.getparent().remove(node)
    bundle.bpmn_xml = etree.tostring(root, encoding="unicode")
    return bundle


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
