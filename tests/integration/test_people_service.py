"""Teams and people managed in the product (workflows/services/teams.py, people.py), on
SQLite and PostgreSQL: who may act, the rules of each action, the last administrator, and
a leaver's tasks going back to the team queue with an audit event and a notice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from engine import clock, work_items
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import (ApiToken, AuditEvent, Notification, SignInSession, Team, UserAccount,
                           WorkItem)
from workflows import accounts
from workflows.demo import scotland as demo
from workflows.services import people, teams

from .driver import Journey


@dataclass(frozen=True)
class Who:
    id: int
    username: str
    roles: tuple[str, ...]
    team: str | None


def who(db, username: str) -> Who:
    with db.transaction() as session:
        user = accounts.find_user(session, username)
        return Who(user.id, user.username, tuple(user.roles), user.team)


@pytest.fixture
def db(database):
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    return database


def who_id(session, username: str) -> int:
    return session.scalar(select(UserAccount.id).where(UserAccount.username == username))


def fields(exc: InvalidData) -> set[str]:
    return {e.field for e in exc.errors}


def events(db, event_type: str) -> list[AuditEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_type)
                                    .order_by(AuditEvent.id)))


# -- teams ---------------------------------------------------------------------------------
def test_an_administrator_creates_renames_and_closes_a_team(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        teams.create_team(session, admin, "east", "Children and Families East")
    with db.transaction() as session:
        teams.rename_team(session, admin, "east", "East and Islands")
    with db.transaction() as session:
        closed = teams.close_team(session, admin, "east")
        assert closed.closed_at is not None
    with db.transaction() as session:
        summary = {t.code: t for t in teams.list_teams(session, admin)}
        assert summary["east"].closed and summary["east"].name == "East and Islands"
        assert list(summary)[-1] == "east"  # closed teams listed last
        assert ("east", "East and Islands") not in teams.open_teams(session)
        assert session.get(Team, "east") is not None  # the row stays
    assert [e.data for e in events(db, "team_created")] == [
        {"team": "east", "name": "Children and Families East"}]
    assert events(db, "team_renamed")[0].data == {"team": "east", "from": "Children and Families East",
                                                  "to": "East and Islands"}
    assert events(db, "team_closed")[0].actor == "admin"


def test_team_codes_and_names_are_checked(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        with pytest.raises(InvalidData) as bad:
            teams.create_team(session, admin, "North Team!", "")
        assert fields(bad.value) == {"code", "name"}
        with pytest.raises(InvalidData, match="already a team with the code north"):
            teams.create_team(session, admin, "north", "Another north")
        with pytest.raises(InvalidData, match="already has this name"):
            teams.create_team(session, admin, "north2", "children and families north")
        with pytest.raises(InvalidData, match="one line"):
            teams.rename_team(session, admin, "north", "North\nBcc: x")
        with pytest.raises(NotFound):
            teams.rename_team(session, admin, "nowhere", "Nowhere")


def test_only_administrators_manage_teams_and_people(db):
    for username in ("tl.north", "manager", "owner", "auditor"):
        actor = who(db, username)
        with db.transaction() as session:
            with pytest.raises(Forbidden):
                teams.create_team(session, actor, "east", "East")
            with pytest.raises(Forbidden):
                teams.list_teams(session, actor)
            with pytest.raises(Forbidden):
                people.list_people(session, actor)
            with pytest.raises(Forbidden):
                people.deactivate_person(session, actor, "sw.north")
    assert events(db, "team_created") == []


def test_a_deactivated_administrator_can_no_longer_act(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        people.add_person(session, admin, username="admin2", display_name="Second Admin",
                          email=None, roles=["admin"], team=None, password="a-long-password")
    with db.transaction() as session:
        people.deactivate_person(session, who(db, "admin2"), "admin")
    with db.transaction() as session:
        with pytest.raises(Forbidden, match="no longer active"):
            teams.create_team(session, admin, "east", "East")


def test_a_team_with_open_children_cannot_be_closed(db):
    Journey(db).accommodate(date(2026, 1, 5))  # a north child on the permanence journey
    admin = who(db, "admin")
    with db.transaction() as session:
        with pytest.raises(Conflict, match="1 child with a process still running"):
            teams.close_team(session, admin, "north")
        assert session.get(Team, "north").closed_at is None
    with db.transaction() as session:  # south has no children
        teams.close_team(session, admin, "south")


def test_a_closed_team_takes_no_new_children_or_people(db):
    from workflows.services import children as child_service
    admin = who(db, "admin")
    with db.transaction() as session:
        teams.create_team(session, admin, "east", "East")
    with db.transaction() as session:
        teams.close_team(session, admin, "east")
    manager = who(db, "manager")
    with db.transaction() as session:
        with pytest.raises(InvalidData, match="East is closed"):
            people.add_person(session, admin, username="sw.east", display_name="Sam East",
                              email=None, roles=["social_worker"], team="east")
        assert "east" not in dict(child_service.teams_to_choose(session, manager))
        with pytest.raises(InvalidData, match="East is closed"):
            child_service.add_child(session, db.runtime, manager,
                                    {"reference": "E1", "name": "Eve", "pathway": "accommodated",
                                     "start_date": "2026-01-05"}, team="east")


# -- people --------------------------------------------------------------------------------
def test_an_administrator_adds_a_person_with_or_without_a_local_password(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        local = people.add_person(session, admin, username="jb", display_name="Jo Bloggs",
                                  email="jo.bloggs@council.gov.uk",
                                  roles=["social_worker", "social_worker"], team="north",
                                  password="a-long-password")
        council = people.add_person(session, admin, username="kc", display_name="Kim Council",
                                    email="kim@council.gov.uk", roles=["independent_chair"],
                                    team=None)
        assert local.roles == ["social_worker"] and accounts.check_password(local, "a-long-password")
        assert council.password_hash is None and not accounts.signs_in_locally(council)
        assert not accounts.check_password(council, "")
    created = {e.data["username"]: e for e in events(db, "user_created")}
    assert created["jb"].actor == "admin" and created["jb"].data["local_sign_in"] is True
    assert created["kc"].data == {"username": "kc", "roles": ["independent_chair"], "team": None,
                                  "local_sign_in": False}


def test_what_an_administrator_enters_is_checked_field_by_field(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        with pytest.raises(InvalidData) as bad:
            people.add_person(session, admin, username="has space", display_name="",
                              email="not-an-address", roles=[], team="nowhere", password="short")
        assert fields(bad.value) == {"username", "display_name", "email", "roles", "team",
                                     "password"}
        with pytest.raises(InvalidData, match="SW.NORTH|sw.north is taken"):
            people.add_person(session, admin, username="SW.NORTH", display_name="X", email=None,
                              roles=["auditor"], team=None)
        with pytest.raises(InvalidData, match="Unknown role chief_cook"):
            people.add_person(session, admin, username="x", display_name="X", email=None,
                              roles=["chief_cook"], team=None)
        with pytest.raises(InvalidData, match="works within one team") as bad:
            people.add_person(session, admin, username="x", display_name="X", email=None,
                              roles=["social_worker"], team=None)
        assert fields(bad.value) == {"team"}
        people.add_person(session, admin, username="a1", display_name="A One", email="a@c.gov.uk",
                          roles=["auditor"], team=None)
        with pytest.raises(InvalidData, match="Another person has this e-mail"):
            people.add_person(session, admin, username="a2", display_name="A Two",
                              email="A@C.gov.uk", roles=["auditor"], team=None)


def test_name_email_roles_and_team_are_changed_and_audited(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        result = people.update_person(session, admin, "sw.north", display_name="Sam Wilson-Ray",
                                      email="sam@council.gov.uk", roles=["social_worker", "team_leader"],
                                      team="south")
        assert result.person.team == "south" and result.returned == []
    with db.transaction() as session:
        assert people.update_person(session, admin, "sw.north", display_name="Sam Wilson-Ray") \
            .changes == {}  # nothing changed: no event
    [event] = events(db, "user_updated")
    assert event.data == {"username": "sw.north", "changes": {
        "display_name": ["Sam Wilson", "Sam Wilson-Ray"], "email": [None, "sam@council.gov.uk"],
        "roles": [["social_worker"], ["social_worker", "team_leader"]], "team": ["north", "south"]}}


def test_a_changed_team_puts_the_tasks_they_can_no_longer_work_back_in_the_queue(db):
    j = Journey(db).accommodate(date(2026, 1, 5))
    item = j.expect("planning_meeting", "team_leader")
    admin = who(db, "admin")
    with db.transaction() as session:
        people.add_person(session, admin, username="tl2.north", display_name="Tess Lowe",
                          email=None, roles=["team_leader"], team="north")
        work_items.claim(session, item.id, accounts.find_user(session, "tl.north"))
    with db.transaction() as session:  # a role kept in the same team keeps the task
        assert people.update_person(session, admin, "tl.north",
                                    roles=["team_leader", "auditor"]).returned == []
    with db.transaction() as session:
        result = people.update_person(session, admin, "tl.north", team="south")
        assert [i.id for i in result.returned] == [item.id]
        assert [u.username for u in result.told] == ["tl2.north"]
        note = session.scalars(select(Notification).where(Notification.kind == "team_change")).one()
        assert note.title == "Tom Lees has a new role or team. 1 task back in the team queue"
        moved = session.scalars(select(Notification).where(Notification.kind == "unassigned")).one()
        assert moved.user_id == who_id(session, "tl.north")  # told as any released holder is
    with db.transaction() as session:
        row = session.get(WorkItem, item.id)
        assert (row.status, row.assignee_id) == ("ready", None)


def test_a_password_is_set_or_removed(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        with pytest.raises(InvalidData):
            people.set_password(session, admin, "sw.north", "short")
        person = people.set_password(session, admin, "sw.north", "a-new-long-password")
        assert accounts.check_password(person, "a-new-long-password")
        person = people.set_password(session, admin, "sw.north", None)
        assert person.password_hash is None
    assert [e.event_type for e in events(db, "user_password_set")] == ["user_password_set"]
    assert all("hash" not in str(e.data) for e in events(db, "user_password_set"))


def test_deactivating_returns_their_tasks_to_the_team_queue_and_tells_the_team_leader(db):
    j = Journey(db).accommodate(date(2026, 1, 5))
    j.complete("planning_meeting", date(2026, 1, 7))
    item = j.expect("initial_lar", "independent_chair")  # a north child's task
    clock.set_now(date(2026, 1, 8))
    admin = who(db, "admin")
    with db.transaction() as session:
        chair = accounts.find_user(session, "chair")  # service-wide: no team of their own
        work_items.claim(session, item.id, chair)
        session.add(SignInSession(user_id=chair.id, token_hash="x" * 64, created_at=clock.now()))
    with db.transaction() as session:
        result = people.deactivate_person(session, admin, "chair")
        assert [i.id for i in result.returned] == [item.id]
        assert [u.username for u in result.told] == ["tl.north"]  # the child's team's leader
    with db.transaction() as session:
        chair = accounts.find_user(session, "chair")
        assert chair.active is False
        row = session.get(WorkItem, item.id)
        assert (row.status, row.assignee_id) == ("ready", None)
        assert session.scalars(select(SignInSession).where(
            SignInSession.user_id == chair.id)).all() == []
        notes = session.scalars(select(Notification).order_by(Notification.id)).all()
    [note] = notes  # the leaver (inactive) is not told; the team leader is, once
    assert (note.user_id, note.kind, note.link) == (who(db, "tl.north").id, "team_change", "/overview")
    assert note.title == ("Isla Chalmers has left: their account is deactivated. "
                          "1 task back in the team queue")
    assert note.body.startswith("Ada Min recorded that Isla Chalmers has left")
    assert f"{item.title} (child C00001)" in note.body
    [deactivated] = events(db, "user_deactivated")
    assert deactivated.data == {"username": "chair", "team": None, "returned_tasks": [item.id]}
    [released] = [e for e in events(db, "task_released") if e.task_id == item.task_id]
    assert released.actor == "admin" and released.subject_id == j.child_id
    assert released.data["reason"] == "chair deactivated"
    assert released.data["previous_assignee"] == chair.id
    with db.transaction() as session:  # deactivating again changes nothing
        assert people.deactivate_person(session, admin, "chair").returned == []
    assert len(events(db, "user_deactivated")) == 1


def test_a_leaver_with_no_tasks_is_news_to_their_own_team_leader(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        people.deactivate_person(session, admin, "sw.north")
    with db.transaction() as session:
        note = session.scalars(select(Notification)).one()
        assert note.title == "Sam Wilson has left: their account is deactivated. No tasks were open"
        assert note.user_id == who_id(session, "tl.north")


def test_a_deactivated_person_cannot_sign_in_or_use_tokens_and_can_be_reactivated(db):
    from web.security import api_tokens as tokens
    admin = who(db, "admin")
    with db.transaction() as session:
        _row, secret = tokens.create(session, accounts.find_user(session, "sw.north"), "t", "test")
    with db.transaction() as session:
        people.deactivate_person(session, admin, "sw.north")
    with db.transaction() as session:
        assert tokens.authenticate(session, secret) is None
        assert session.scalar(select(ApiToken)).revoked_at is None  # kept, not revoked
    with db.transaction() as session:
        assert people.reactivate_person(session, admin, "sw.north").active
    with db.transaction() as session:
        assert tokens.authenticate(session, secret) is not None
    assert [e.data for e in events(db, "user_reactivated")] == [{"username": "sw.north"}]


def test_a_person_of_a_closed_team_is_reactivated_after_moving(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        people.deactivate_person(session, admin, "sw.south")
        people.deactivate_person(session, admin, "tl.south")
        teams.close_team(session, admin, "south")
    with db.transaction() as session:
        with pytest.raises(Conflict, match="team \\(south\\) is closed"):
            people.reactivate_person(session, admin, "sw.south")
    with db.transaction() as session:
        people.update_person(session, admin, "sw.south", team="north")  # allowed while inactive
        assert people.reactivate_person(session, admin, "sw.south").team == "north"


def test_the_last_active_administrator_stays(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        with pytest.raises(Conflict, match="last active administrator"):
            people.deactivate_person(session, admin, "admin")
    with db.transaction() as session:
        with pytest.raises(Conflict, match="last active administrator"):
            people.update_person(session, admin, "admin", roles=["auditor"])
    with db.transaction() as session:
        people.update_person(session, admin, "owner", roles=["process_owner", "admin"])
    with db.transaction() as session:  # with another, the first may step down
        people.update_person(session, admin, "admin", roles=["auditor"])
    owner = who(db, "owner")
    with db.transaction() as session:
        with pytest.raises(Conflict, match="Owen Price is the last active administrator"):
            people.deactivate_person(session, owner, "owner")
        assert accounts.find_user(session, "owner").active


def test_people_are_listed_by_role_team_and_state_and_by_role_held(db):
    admin = who(db, "admin")
    with db.transaction() as session:
        people.deactivate_person(session, admin, "sw2.north")
    with db.transaction() as session:
        names = lambda found: [p.username for p in found]  # noqa: E731
        assert names(people.list_people(session, admin, role="social_worker")) == \
            ["sw2.north", "sw.north", "sw.south"]  # by name: Priya, Sam, Sara
        assert names(people.list_people(session, admin, role="social_worker", active=True)) == \
            ["sw.north", "sw.south"]
        assert names(people.list_people(session, admin, team="north")) == \
            ["sw2.north", "sw.north", "tl.north"]
        assert "chair" in names(people.list_people(session, admin, service_wide=True))
        held = {r.code: r for r in people.role_holders(session, admin)}
        assert names(held["social_worker"].people) == ["sw.north", "sw.south", "sw2.north"]
        assert held["social_worker"].in_use and not held["iro"].in_use
        assert held["iro"].people == []


def test_the_operator_adds_the_first_administrator_only(empty_database):
    db = empty_database
    operator = people.Operator("os:root")
    with db.transaction() as session:
        with pytest.raises(Forbidden, match="only an administrator can be added"):
            people.add_person(session, operator, username="sw", display_name="S W", email=None,
                              roles=["auditor"], team=None)
        with pytest.raises(Forbidden):
            teams.create_team(session, operator, "north", "North")
        people.add_person(session, operator, username="first", display_name="First Admin",
                          email="first@council.gov.uk", roles=["admin"], team=None,
                          password="a-long-password")
    with db.transaction() as session:
        with pytest.raises(Forbidden, match="There is an administrator already"):
            people.add_person(session, operator, username="second", display_name="Second",
                              email=None, roles=["admin"], team=None)
    assert [e.actor for e in events(db, "user_created")] == ["os:root"]
