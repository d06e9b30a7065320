"""A process owner uploads the permanence journey with one thing the engine cannot run
safely: the draft page lists it with the element, what is wrong and what to do (never an
error page), and deploying is refused with nothing deployed. On both databases."""
from __future__ import annotations

import pytest
from lxml import etree

from .conftest import cached_client, post
from .test_models_views import PJ, as_files, draft_id, shipped, text, upload, versions

pytestmark = pytest.mark.xdist_group("models")
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def replaced(old: str, new: str) -> str:
    xml = shipped().bpmn_xml
    assert old in xml, old
    return xml.replace(old, new, 1)


def as_service_task(task_id: str) -> str:
    root = etree.fromstring(shipped().bpmn_xml.encode())
    task = root.find(f".//{{{BPMN}}}userTask[@id='{task_id}']")
    task.tag = f"{{{BPMN}}}serviceTask"
    return etree.tostring(root, encoding="unicode")


CASES = {
    "memory-hungry condition": (
        lambda: replaced("route in [", "route == 'x' * 1000000000 or route in ["),
        "repeats a string or list with *", "Write the condition as a comparison"),
    "misspelt anchor": (
        lambda: replaced('value="LA_START+3d"', 'value="LA_STRAT+3d"'),
        "counts from LA_STRAT, which this process does not record: did you mean LA_START?",
        "Correct the anchor to a milestone code"),
    "ISO duration": (
        lambda: replaced('value="LA_START+3d"', 'value="P7D"'),
        "'P7D' is an ISO 8601 duration", "such as LA_START+7d"),
    "far date": (
        lambda: replaced('value="LA_START+3d"', 'value="LA_START+9999y"'),
        "reaches 9,999 years ahead; the limit is 25 years", "ANCHOR+N unit"),
    "service task": (
        lambda: as_service_task("legal_referral"),
        "is a service task: PACE Flow calls no services", "Replace the element"),
    "start cycle through the deployed CSO review loop": (
        lambda: replaced('<bpmn:endEvent id="order_granted" name="Order granted">',
                         '<bpmn:endEvent id="order_granted" name="Order granted">'
                         '<bpmn:extensionElements><spiffworkflow:properties>'
                         '<spiffworkflow:property name="startsProcess" value="cso_home_review"/>'
                         '</spiffworkflow:properties></bpmn:extensionElements>'),
        "permanence_journey → cso_home_review → permanence_journey",
        "Remove the startsProcess property"),
}


@pytest.mark.parametrize("case", CASES)
def test_what_the_engine_cannot_run_is_listed_on_the_draft_page(shared_world, case):
    make, says, fix = CASES[case]
    owner = cached_client(shared_world, "owner")
    bundle = shipped()
    bundle.bpmn_xml = make()
    draft = draft_id(upload(owner, as_files(bundle)))
    page = owner.get(f"/models/drafts/{draft}")
    assert page.status_code == 200
    body = text(page)
    assert says in body and fix in body and "Traceback" not in body
    before = versions(shared_world)
    refused = post(owner, f"/models/drafts/{draft}/deploy", {"reason": "try", "confirm": "yes"})
    assert refused.status_code == 400
    assert versions(shared_world) == before
    assert PJ in body
