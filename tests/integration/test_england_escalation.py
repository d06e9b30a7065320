"""With both profiles running, overdue work escalates along its own profile's chain: an English
child's to the team manager then the service manager, a Scottish child's to the team leader
then the service manager. The sweeper's escalations and the daily digest's "escalated to you"
both follow the chain of the task's process (EngineConfig.escalation_chains)."""
from datetime import date

import pytest
from sqlalchemy import select

from engine import clock, digests
from engine.models import UserAccount, WorkItem
from workflows import accounts, profiles

from .driver import Journey
from .england_journey import EnglandJourney, england_database

LA = date(2026, 1, 5)


@pytest.fixture(params=["sqlite", "postgres"])
def both_db(request, tmp_path):
    return england_database(request, tmp_path, request.param, profiles="scotland,england")


def escalations(journey, task: str) -> list[tuple[int, str]]:
    return [(e.data["level"], e.data["to_role"]) for e in journey.events("escalated")
            if e.data["task"] == task]


def digest_reasons(db, username: str, day: date) -> dict[str, str]:
    """Task name -> why it is in the user's digest."""
    policy = db.runtime.config.notifications
    with db.transaction() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        groups = digests.digest_groups(session, policy, user, day,
                                       db.runtime.config.escalation_chain,
                                       policy.mail_settings())
        names = {i.id: i.task_name for i in session.scalars(select(WorkItem))}
    return {names[t.item_id]: t.why for g in groups for t in g.tasks}


def test_each_child_escalates_along_its_profiles_chain(both_db):
    config = both_db.runtime.config
    assert config.escalation_chain(profiles.ENG_LOOKED_AFTER) == ("team_manager", "service_manager")
    assert config.escalation_chain("permanence_journey") == ("team_leader", "service_manager")
    english = EnglandJourney(both_db, "E00001").looked_after(LA)
    scottish = Journey(both_db, "C00001").accommodate(LA)
    with both_db.transaction() as session:
        # A manager of the other profile's kind in each team: only the chain decides who is told.
        accounts.create_user(session, "tl.east", "Team Leader East", "long-enough-pw",
                             ["team_leader"], "east")
        accounts.create_user(session, "tm.north", "Team Manager North", "long-enough-pw",
                             ["team_manager"], "north")
    english.expect("first_visit", "social_worker", date(2026, 1, 12))  # escalate +1d +5d
    scottish.expect("planning_meeting", "team_leader", date(2026, 1, 8))  # escalate +2d +7d
    try:
        english.sweep(date(2026, 1, 13))
        assert escalations(english, "first_visit") == [(1, "team_manager")]
        assert escalations(scottish, "planning_meeting") == [(1, "team_leader")]
        assert digest_reasons(both_db, "eng.tm.east", date(2026, 1, 13))["first_visit"] == \
            "escalated to you"
        assert "first_visit" not in digest_reasons(both_db, "tl.east", date(2026, 1, 13))
        assert "planning_meeting" not in digest_reasons(both_db, "tm.north", date(2026, 1, 13))
        english.sweep(date(2026, 1, 17))
        assert escalations(english, "first_visit") == [(1, "team_manager"), (2, "service_manager")]
        assert escalations(scottish, "planning_meeting") == [(1, "team_leader"),
                                                            (2, "service_manager")]
    finally:
        clock.set_now(None)
