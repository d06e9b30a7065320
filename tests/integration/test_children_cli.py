"""``pace children add`` (issue 25): the *Add a child* page's service from the command line,
on both databases: the child added and their journey started, or each refused field named
by its option with nothing saved."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.models import Subject, WorkItem


@pytest.fixture
def cli(cli_runner):
    return lambda *args: cli_runner.invoke(args=["children", "add", *args])


def _children(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Subject))


def test_a_child_is_added_and_the_planning_meeting_waits(cli, database):
    before = _children(database)
    start = (clock.today() - timedelta(days=3)).isoformat()
    done = cli("--reference", "CLI-0001", "--name", "Rowan Reid", "--pathway", "accommodated",
               "--start-date", start, "--by", "sw.north")
    assert done.exit_code == 0, done.output
    assert "Added CLI-0001 to team north" in done.output
    with database.transaction() as session:
        child = session.scalar(select(Subject).where(Subject.reference == "CLI-0001"))
        tasks = session.execute(select(WorkItem.task_name, WorkItem.role, WorkItem.team).where(
            WorkItem.status == "ready", WorkItem.subject_id == child.id)).all()
    assert child.team == "north" and _children(database) == before + 1
    assert ("planning_meeting", "team_leader", "north") in [tuple(t) for t in tasks]


def test_refused_fields_are_named_by_their_options(cli, database):
    before = _children(database)
    future = (clock.today() + timedelta(days=10)).isoformat()
    refused = cli("--reference", "CLI-0002", "--name", "Sam", "--pathway", "accommodated",
                  "--start-date", future, "--team", "nowhere", "--by", "manager")
    assert refused.exit_code == 1 and "nothing was saved" in refused.output
    assert "--team: There is no team with this code." in refused.output
    missing = cli("--reference", "CLI-0003", "--name", "Sam", "--by", "sw.north")
    assert missing.exit_code == 1 and "--pathway" in missing.output
    assert "--start-date" in missing.output
    late = cli("--reference", "CLI-0004", "--name", "Sam", "--pathway", "accommodated",
               "--start-date", future, "--by", "sw.north")
    assert late.exit_code == 1 and "--start-date:" in late.output
    assert _children(database) == before


def test_only_those_who_add_children(cli):
    refused = cli("--reference", "CLI-0005", "--name", "Sam", "--pathway", "accommodated",
                  "--start-date", clock.today().isoformat(), "--by", "auditor")
    assert refused.exit_code == 2 and "'auditor' may not do this" in refused.output
    bad = cli("--reference", "CLI-0006", "--name", "Sam", "--answer", "pathway", "--by",
              "sw.north")
    assert bad.exit_code == 2 and "'pathway' is not FIELD=VALUE" in bad.output
