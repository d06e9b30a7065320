"""``pace models`` (web/cli/process_models.py), run through Flask's CLI runner on both databases:
the same services as the process-model pages, with exit codes for scripts."""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEvent, ProcessInstance, ProcessModel
from engine.registry import ModelBundle
from web import create_app
from workflows.demo import scotland as demo
from workflows.process_models import drafts as model_drafts
from workflows.measures import pdsa
from workflows.engine_config import BPMN_DIR

from .driver import Journey

PJ = "permanence_journey"
TWO_WEEKS = {'value="LA_START+3w"': 'value="LA_START+2w"'}


@pytest.fixture
def cli(database):
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    app.extensions["pace_db"] = database  # the test database: diagrams deployed, no children
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    runner = app.test_cli_runner()
    runner.database = database
    return runner


def bundle(**replace) -> ModelBundle:
    found = ModelBundle.from_directory(BPMN_DIR / PJ)
    for old, new in replace.items():
        assert old in found.bpmn_xml
        found.bpmn_xml = found.bpmn_xml.replace(old, new)
    return found


def write(folder: Path, model: ModelBundle) -> list[str]:
    """The diagram and its forms as files, as kept in version control."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{model.process_id}.bpmn").write_text(model.bpmn_xml, encoding="utf-8")
    for name, text in model.forms.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [str(folder / f"{model.process_id}.bpmn")] + [str(folder / n) for n in model.forms]


def versions(database) -> list[ProcessModel]:
    with database.transaction() as session:
        return list(session.scalars(select(ProcessModel).where(ProcessModel.process_id == PJ)
                                    .order_by(ProcessModel.version)))


# -- list and check -------------------------------------------------------------------------
def test_list_shows_each_process_and_its_latest_version(cli):
    result = cli.invoke(args=["models", "list"])
    assert result.exit_code == 0, result.output
    assert re.search(r"permanence_journey  Permanence journey: version 1, deployed \S+ by system",
                     result.output)
    assert "cso_home_review" in result.output


def test_check_passes_the_shipped_diagram_as_files_and_as_a_zip(cli, tmp_path):
    files = write(tmp_path / "pj", bundle())
    result = cli.invoke(args=["models", "check", *files])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("permanence_journey: no problems found")
    archive = tmp_path / "pj.zip"
    shipped = bundle()
    archive.write_bytes(model_drafts.bundle_zip(PJ, shipped.bpmn_xml, shipped.forms))
    zipped = cli.invoke(args=["models", "check", str(archive), "--process", PJ])
    assert zipped.exit_code == 0, zipped.output


def test_check_lists_every_problem_with_element_and_line(cli, tmp_path):
    broken = bundle(**{'value="LA_START+3w"': 'value="LA_START+2 weeks"'})
    del broken.forms["legal_opinion.schema.json"]
    result = cli.invoke(args=["models", "check", *write(tmp_path, broken)])
    assert result.exit_code == 1, result.output
    line = re.search(r"^initial_lar \(Hold initial looked-after review\), line (\d+): due rule ",
                     result.output, re.M)
    assert line and int(line.group(1)) > 1, result.output
    assert "how to fix it: Write the due rule as ANCHOR+N unit" in result.output
    assert re.search(r"^legal_opinion \(.+\), line \d+: formJsonSchemaFilename names "
                     r"'legal_opinion.schema.json', which is not among the uploaded forms",
                     result.output, re.M), result.output
    assert "2 problems: permanence_journey cannot be deployed" in result.output
    assert len(versions(cli.database)) == 1


def test_check_refuses_a_bad_zip_and_an_unknown_process(cli, tmp_path):
    encrypted = tmp_path / "locked.zip"
    _encrypted_zip(tmp_path, encrypted)
    result = cli.invoke(args=["models", "check", str(encrypted)])
    assert result.exit_code == 1
    assert "locked.zip is protected with a password" in result.output
    unknown = cli.invoke(args=["models", "check", *write(tmp_path / "pj", bundle()),
                               "--process", "no_such_process"])
    assert unknown.exit_code == 1 and "There is no process 'no_such_process'" in unknown.output


def _encrypted_zip(folder: Path, target: Path) -> None:
    """A real password-protected zip (``zip -P``, as ``zip -e`` makes without a terminal), or
    the standard library's zip with its encrypted flag set where zip is not installed."""
    form = folder / "initial_lar.schema.json"
    form.write_text('{"type": "object"}', encoding="utf-8")
    if shutil.which("zip"):
        subprocess.run(["zip", "-q", "-j", "-P", "secret", str(target), str(form)], check=True)
        return
    import zipfile
    with zipfile.ZipFile(target, "w") as archive:
        archive.write(form, form.name)
    data = bytearray(target.read_bytes())
    data[6] |= 1
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1
    target.write_bytes(bytes(data))


# -- deploy ---------------------------------------------------------------------------------
@pytest.mark.parametrize("by, words", [("sw.north", "'sw.north' is not an active PACE Flow "
                                                     "process owner"),
                                       ("nobody", "'nobody' is not an active")])
def test_deploy_is_refused_unless_by_an_active_process_owner(cli, tmp_path, by, words):
    result = cli.invoke(args=["models", "deploy", *write(tmp_path, bundle(**TWO_WEEKS)),
                              "--reason", "Two weeks", "--by", by])
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert len(versions(cli.database)) == 1


def test_deploy_makes_the_next_version_with_the_reason(cli, tmp_path):
    files = write(tmp_path, bundle(**TWO_WEEKS))
    missing_cycle = cli.invoke(args=["models", "deploy", *files, "--reason", "Two weeks",
                                     "--pdsa-cycle", "999", "--by", "owner"])
    assert missing_cycle.exit_code == 1 and "There is no PDSA cycle 999" in missing_cycle.output
    assert len(versions(cli.database)) == 1
    with cli.database.transaction() as session:
        cycle = pdsa.record_cycle(session, pdsa.CycleInput(
            aim=2, change_idea="Initial LAR within two weeks", cycle_number=1,
            start_date=date(2026, 1, 5)), "owner")
        cycle_id = cycle.id
    result = cli.invoke(args=["models", "deploy", *files, "--reason",
                              "Midlothian: initial LAR at two weeks", "--pdsa-cycle",
                              str(cycle_id), "--by", "owner"])
    assert result.exit_code == 0, result.output
    assert "permanence_journey version 2: deployed by owner" in result.output
    v1, v2 = versions(cli.database)
    assert (v2.reason, v2.deployed_by, v2.pdsa_cycle_id) == (
        "Midlothian: initial LAR at two weeks", "owner", cycle_id)
    with cli.database.transaction() as session:
        assert pdsa.cycles(session)[0].model_version == 2  # the cycle now names the version
    assert 'value="LA_START+2w"' in v2.bpmn_xml
    with cli.database.transaction() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "model_deployed")
                                .order_by(AuditEvent.id.desc())).first()
        assert (event.actor, event.data["version"]) == ("owner", 2)
    again = cli.invoke(args=["models", "deploy", *files, "--reason", "again", "--by", "owner"])
    assert again.exit_code == 0 and "version 2: unchanged" in again.output
    assert len(versions(cli.database)) == 2


def test_deploy_of_a_broken_diagram_lists_the_problems_and_deploys_nothing(cli, tmp_path):
    broken = bundle(**{'value="LA_START+3w"': 'value="LA_START+2 weeks"'})
    result = cli.invoke(args=["models", "deploy", *write(tmp_path, broken), "--reason", "x",
                              "--by", "owner"])
    assert result.exit_code == 1
    assert re.search(r"^initial_lar \(.+\), line \d+: due rule", result.output, re.M)
    assert "1 problem: nothing was deployed" in result.output
    assert len(versions(cli.database)) == 1
    empty = cli.invoke(args=["models", "deploy", *write(tmp_path / "ok", bundle(**TWO_WEEKS)),
                             "--reason", " ", "--by", "owner"])
    assert empty.exit_code == 1 and "Enter why this version is being deployed" in empty.output


# -- migrate --------------------------------------------------------------------------------
def test_migrate_dry_run_then_chosen_children_then_the_rest(cli, tmp_path):
    db = cli.database
    for reference in ("M0001", "M0002", "M0003"):
        Journey(db, reference).accommodate(date(2026, 1, 5))
    clock.set_now(None)
    assert cli.invoke(args=["models", "deploy", *write(tmp_path, bundle(**TWO_WEEKS)),
                            "--reason", "Two weeks", "--by", "owner"]).exit_code == 0

    def on_version() -> dict[str, int]:
        with db.transaction() as session:
            return {i.subject.reference: i.model.version for i in session.scalars(
                select(ProcessInstance).where(ProcessInstance.process_id == PJ))}

    def events() -> int:
        with db.transaction() as session:
            return session.scalar(select(func.count()).select_from(AuditEvent))

    before = events()
    dry = cli.invoke(args=["models", "migrate", PJ, "--to-version", "2", "--dry-run",
                           "--by", "owner"])
    assert dry.exit_code == 0, dry.output
    assert "3 children on other versions, 3 can move to version 2" in dry.output
    assert re.search(r"^M0001 \(north, version 1\): can move: Hold planning meeting → "
                     r"Hold planning meeting$", dry.output, re.M), dry.output
    assert set(on_version().values()) == {1} and events() == before

    unknown = cli.invoke(args=["models", "migrate", PJ, "--to-version", "2", "--child", "NOPE",
                               "--by", "owner"])
    assert unknown.exit_code == 1 and "NOPE is not a running child" in unknown.output
    refused = cli.invoke(args=["models", "migrate", PJ, "--to-version", "2", "--by", "sw.north"])
    assert refused.exit_code == 2 and set(on_version().values()) == {1}

    one = cli.invoke(args=["models", "migrate", PJ, "--to-version", "2", "--child", "M0002",
                           "--by", "owner"])
    assert one.exit_code == 0, one.output
    assert "M0002: moved" in one.output and "1 of 1 moved to version 2" in one.output
    assert on_version() == {"M0001": 1, "M0002": 2, "M0003": 1}
    rest = cli.invoke(args=["models", "migrate", PJ, "--to-version", "2", "--by", "owner"])
    assert rest.exit_code == 0 and "2 of 2 moved" in rest.output
    assert on_version() == {"M0001": 2, "M0002": 2, "M0003": 2}
    with db.transaction() as session:
        moved = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "instance_migrated")).all()
        assert {e.actor for e in moved} == {"owner"} and len(moved) == 3
    done = cli.invoke(args=["models", "migrate", PJ, "--to-version", "2", "--dry-run",
                            "--by", "owner"])
    assert done.exit_code == 0 and "0 children on other versions" in done.output
    missing = cli.invoke(args=["models", "migrate", PJ, "--to-version", "9", "--by", "owner"])
    assert missing.exit_code == 1 and "has no version 9" in missing.output
