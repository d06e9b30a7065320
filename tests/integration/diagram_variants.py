"""PDSA-style variants of the shipped permanence journey, deployed as the next version."""
from __future__ import annotations

from engine import registry
from workflows.engine_config import BPMN_DIR, pace_config


def deploy_variant(db, **replace):
    bundle = registry.ModelBundle.from_directory(BPMN_DIR / "permanence_journey")
    for old, new in replace.items():
        bundle.bpmn_xml = bundle.bpmn_xml.replace(old, new)
    with db.transaction() as session:
        model, _ = registry.deploy(session, bundle, pace_config().validation_context(), "owner",
                                   reason="PDSA cycle 2")
        return model


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
