"""Moving children to a new version, previewed per child (issue 26 item 7): every due date
that changes (before → after) on the page, in the CSV and from ``pace models migrate
--dry-run``; deploying and moving ask for confirmation; any two versions compared on the
page and by ``pace models diff``. On both databases.
"""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, ProcessInstance, ProcessModel, WorkItem
from engine.registry import ModelBundle

from .conftest import post, sign_in
from .test_models_views import PJ, as_files, draft_id, shipped, text, upload

pytestmark = pytest.mark.xdist_group("models")
OLD_RULE = 'value="PERM_RECOMMENDATION_PLANNED-2w | LA_START+30w-2w"'
NEW_RULE = 'value="PERM_RECOMMENDATION_PLANNED-3w | LA_START+30w-3w"'
REFERRAL = "Send referral for legal advice"


def day(value) -> str:
    return f"{value.day} {value:%b %Y}"


def earlier_referral() -> ModelBundle:
    bundle = shipped()
    assert bundle.bpmn_xml.count(OLD_RULE) == 1
    bundle.bpmn_xml = bundle.bpmn_xml.replace(OLD_RULE, NEW_RULE)
    return bundle


def open_due(world, reference_key: str):
    with world.database.transaction() as session:
        return session.get(WorkItem, world.tasks[reference_key]).due_date


def versions(world) -> int:
    with world.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(ProcessModel)
                              .where(ProcessModel.process_id == PJ))


def test_preview_confirm_move_and_compare(world):
    owner = sign_in(world.app.test_client(), "owner")
    draft = draft_id(upload(owner, as_files(earlier_referral())))

    # deploying asks for confirmation; without it nothing is deployed and the reason is kept
    refused = post(owner, f"/models/drafts/{draft}/deploy", {"reason": "Referral a week earlier"})
    body = text(refused)
    assert refused.status_code == 400
    assert "Tick the box to confirm you have checked what changes" in body
    assert 'href="#confirm"' in body and "Referral a week earlier" in body
    assert versions(world) == 1
    deployed = post(owner, f"/models/drafts/{draft}/deploy",
                    {"reason": "Referral a week earlier", "confirm": "yes"})
    assert deployed.status_code == 302 and versions(world) == 2

    # the preview: each child's due date before → after; nothing written
    north, south = open_due(world, "north"), open_due(world, "south")
    with world.database.transaction() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    page = text(owner.get(f"/models/{PJ}/versions/2/migrate"))
    assert "3 children on other versions, 3 can move" in page
    assert f"{REFERRAL}: due {day(north)} → {day(north - timedelta(weeks=1))}" in page
    assert f"{REFERRAL}: due {day(south)} → {day(south - timedelta(weeks=1))}" in page
    assert "No due date changes" in page  # N0002, at the legal opinion
    with world.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events

    # the same preview as a spreadsheet
    download = owner.get(f"/models/{PJ}/versions/2/migrate.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert f"{PJ}-v2-move-preview.csv" in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    by_child = {row["Child"]: row for row in rows}
    assert set(by_child) == {"N0001", "N0002", "S0001"}
    assert (by_child["N0001"]["Task or timer"], by_child["N0001"]["Change"],
            by_child["N0001"]["Before"], by_child["N0001"]["After"]) == \
        (REFERRAL, "due date changes", north.isoformat(),
         (north - timedelta(weeks=1)).isoformat())
    assert by_child["N0002"]["Change"] == "no due date changes"

    # moving asks for confirmation too, keeping the children chosen
    with world.database.transaction() as session:
        instance_of = {i.subject.reference: i.id for i in session.scalars(select(ProcessInstance))}
    chosen = {"action": "selected", "instance": [str(instance_of["N0001"])]}
    refused = post(owner, f"/models/{PJ}/versions/2/migrate", chosen)
    body = text(refused)
    assert refused.status_code == 400
    assert "Tick the box to confirm you have checked the children listed" in body
    assert f'id="move-{instance_of["N0001"]}" name="instance" type="checkbox" ' \
           f'value="{instance_of["N0001"]}" checked' in refused.get_data(as_text=True)
    refused = post(owner, f"/models/{PJ}/versions/2/migrate", {"action": "all"})
    assert refused.status_code == 400
    assert open_due(world, "north") == north
    moved = post(owner, f"/models/{PJ}/versions/2/migrate", {**chosen, "confirm": "yes"})
    assert moved.status_code == 302
    assert open_due(world, "north") == north - timedelta(weeks=1)  # as the preview said
    assert open_due(world, "south") == south
    worker = sign_in(world.app.test_client(), "sw.north")
    child = text(worker.get(f"/children/{world.children['north']}"))
    assert day(north - timedelta(weeks=1)) in child

    # any two deployed versions compared, either way round
    versions_page = text(owner.get(f"/models/{PJ}"))
    assert "Compare two versions" in versions_page
    forward = text(owner.get(f"/models/{PJ}/compare?from=1&to=2"))
    assert "What changes from version 1 to version 2" in forward
    assert (f"{REFERRAL}: due rule PERM_RECOMMENDATION_PLANNED-2w | LA_START+30w-2w → "
            "PERM_RECOMMENDATION_PLANNED-3w | LA_START+30w-3w") in forward
    back = text(owner.get(f"/models/{PJ}/compare?from=2&to=1"))
    assert "LA_START+30w-3w → PERM_RECOMMENDATION_PLANNED-2w" in back
    same = text(owner.get(f"/models/{PJ}/compare?from=2&to=2"))
    assert "Nothing that affects how children's work runs differs" in same
    assert owner.get(f"/models/{PJ}/compare?from=1&to=9").status_code == 404
    assert owner.get(f"/models/{PJ}/compare?from=x").status_code == 404
    reader = sign_in(world.app.test_client(), "auditor")
    assert reader.get(f"/models/{PJ}/compare?from=1&to=2").status_code == 200
    assert reader.get(f"/models/{PJ}/versions/2/migrate.csv").status_code == 403


def test_the_command_line_previews_and_compares_as_the_pages_do(world, tmp_path):
    owner = sign_in(world.app.test_client(), "owner")
    draft = draft_id(upload(owner, as_files(earlier_referral())))
    post(owner, f"/models/drafts/{draft}/deploy", {"reason": "Earlier", "confirm": "yes"})
    north = open_due(world, "north")
    runner = world.app.test_cli_runner()

    dry = runner.invoke(args=["models", "migrate", PJ, "--to", "2", "--dry-run", "--by", "owner"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run, nothing changed: 3 children on other versions, 3 can move to version 2." \
        in dry.output
    assert f"    {REFERRAL}: due {day(north)} → {day(north - timedelta(weeks=1))}" in dry.output
    assert "    no due date changes" in dry.output
    assert open_due(world, "north") == north

    diff = runner.invoke(args=["models", "diff", f"{PJ}:1", f"{PJ}:2"])
    assert diff.exit_code == 0, diff.output
    assert f"{PJ}: version 1 → version 2: 1 change" in diff.output
    assert "due rule PERM_RECOMMENDATION_PLANNED-2w | LA_START+30w-2w → " in diff.output
    # a file kept in version control against the deployed version
    folder = tmp_path / PJ
    (folder / "forms").mkdir(parents=True)
    bundle = shipped()
    (folder / f"{PJ}.bpmn").write_text(bundle.bpmn_xml, encoding="utf-8")
    for name, body in bundle.forms.items():
        (folder / "forms" / name).write_text(body, encoding="utf-8")
    against = runner.invoke(args=["models", "diff", f"{PJ}:2", str(folder)])
    assert against.exit_code == 0, against.output
    assert f"{PJ}: version 2 → {PJ}.bpmn: 1 change" in against.output
    assert "LA_START+30w-3w → PERM_RECOMMENDATION_PLANNED-2w" in against.output
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / f"{PJ}.bpmn").write_text(bundle.bpmn_xml, encoding="utf-8")  # no forms
    refused = runner.invoke(args=["models", "diff", f"{PJ}:1", str(broken)])
    assert refused.exit_code == 1
    assert "which is not among the uploaded forms" in refused.output
    assert "nothing was compared" in refused.output
    unknown = runner.invoke(args=["models", "diff", f"{PJ}:1", f"{PJ}:7"])
    assert unknown.exit_code == 1 and "has no version 7" in unknown.output
    usage = runner.invoke(args=["models", "diff", "nonsense", f"{PJ}:1"])
    assert usage.exit_code == 2 and "neither a folder, a .zip nor PROCESS:VERSION" in usage.output
