"""The ``pace`` commands, run through Flask's CLI runner against both databases."""
from datetime import date

import pytest
from sqlalchemy import func, select, text, update

from engine.models import AuditEvent, ProcessInstance, Subject, WorkItem
from web import create_app


@pytest.fixture
def runner(empty_database):
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "DEMO_MODE": True})
    app.extensions["pace_db"] = empty_database  # the test database, with its own schema
    return app.test_cli_runner(), empty_database


def test_init_db_demo_worker_and_audit_verify(runner):
    cli, db = runner
    first = cli.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert "permanence_journey version 1: deployed" in first.output
    again = cli.invoke(args=["init-db"])
    assert "version 1: unchanged" in again.output

    demo = cli.invoke(args=["demo", "--children", "16", "--today", "2026-11-23"])
    assert demo.exit_code == 0, demo.output
    assert "Demo caseload: 16 children" in demo.output and "tl.north" in demo.output
    assert "already present" in cli.invoke(args=["demo", "--if-empty"]).output
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Subject)) == 16
        processes = set(session.scalars(select(ProcessInstance.process_id)))
        assert processes == {"permanence_journey", "cso_home_review"}
        assert session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.status == "ready", WorkItem.due_date < date(2026, 11, 23))) > 0

    worker = cli.invoke(args=["worker", "--once", "--now", "2027-06-01T08:00:00"])
    assert worker.exit_code == 0, worker.output
    assert "timers fired" in worker.output

    assert cli.invoke(args=["audit", "verify"]).output.strip() == "intact"


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder", "delete_last"])
def test_audit_verify_names_the_tampered_event(runner, tamper):
    cli, db = runner
    cli.invoke(args=["init-db"])
    cli.invoke(args=["demo", "--children", "3", "--today", "2026-11-23"])
    with db.transaction() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.chain == "subject:2")
                                      .order_by(AuditEvent.chain_seq)))
        victim = events[2]
        if tamper == "edit":
            session.execute(update(AuditEvent).where(AuditEvent.id == victim.id)
                            .values(actor="someone-else"))
        elif tamper == "delete":
            session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": victim.id})
        elif tamper == "reorder":
            (a_id, a_seq), (b_id, b_seq) = [(e.id, e.chain_seq) for e in events[2:4]]
            session.execute(update(AuditEvent).where(AuditEvent.id == a_id).values(chain_seq=-1))
            session.execute(update(AuditEvent).where(AuditEvent.id == b_id).values(chain_seq=a_seq))
            session.execute(update(AuditEvent).where(AuditEvent.id == a_id).values(chain_seq=b_seq))
        else:
            session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[-1].id})
    result = cli.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN" in result.output and "subject:2" in result.output
    if tamper == "edit":
        assert f"event {victim.id}" in result.output and "edited" in result.output


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_verifies_offline_and_detects_edits(runner, tmp_path, fmt):
    cli, db = runner
    cli.invoke(args=["init-db"])
    cli.invoke(args=["demo", "--children", "3", "--today", "2026-11-23"])
    from engine import audit
    with db.transaction() as session:  # a hostile value that a spreadsheet would execute
        audit.record(session, "note", "=HYPERLINK(\"http://x\")", subject_id=1, data={"x": "+1"})
    out = tmp_path / f"export.{fmt}"
    result = cli.invoke(args=["audit", "export", "--format", fmt, "--output", str(out)])
    assert result.exit_code == 0, result.output
    text_out = out.read_text()
    if fmt == "csv":
        assert "'=HYPERLINK" in text_out and ",=HYPERLINK" not in text_out
    ok = cli.invoke(args=["audit", "verify-export", str(out)])
    assert ok.exit_code == 0 and ok.output.startswith("intact"), ok.output
    out.write_text(text_out.replace("C00002", "C00099", 1))
    bad = cli.invoke(args=["audit", "verify-export", str(out)])
    assert bad.exit_code == 1 and "BROKEN" in bad.output


def test_export_of_one_child(runner, tmp_path):
    cli, db = runner
    cli.invoke(args=["init-db"])
    cli.invoke(args=["demo", "--children", "2", "--today", "2026-11-23"])
    out = tmp_path / "child.json"
    assert cli.invoke(args=["audit", "export", "--child", "C00001", "--output", str(out)]).exit_code == 0
    import json
    events = json.loads(out.read_text())["events"]
    assert events and {e["chain"] for e in events} == {"subject:1"}
    missing = cli.invoke(args=["audit", "export", "--child", "NOPE"])
    assert missing.exit_code != 0 and "no child with reference" in missing.output
