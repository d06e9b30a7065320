"""Signing a person in from verified claims (workflows/services/sign_in.py), on SQLite and
PostgreSQL: who is found, who is added, how groups set roles and team, who is refused, and
what is audited. The token checks before it are tests/oidc's."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import work_items
from engine.models import AuditEvent, Notification, Team, UserAccount, WorkItem
from tests.web.journeys import child_at
from workflows import accounts
from workflows.demo import scotland as demo
from workflows.services.sign_in import sign_in_from_claims
from workflows.sign_in_claims import Refusal
from workflows.sign_in_settings import OidcSettings

ISSUER = "https://login.council.gov.uk/realms/staff"
ROLE_MAP = {"pace-sw": ("social_worker",), "pace-tl": ("team_leader",),
            "pace-admin": ("admin",), "pace-auditor": ("auditor",)}
TEAM_MAP = {"staff-north": ("north",), "staff-south": ("south",), "staff-west": ("west",)}


def settings(**changes) -> OidcSettings:
    return OidcSettings(**{"issuer": ISSUER, "client_id": "pace", "client_secret": "s",
                           **changes})


def claims(sub: str, **more) -> dict:
    return {"iss": ISSUER, "sub": sub, "aud": "pace", **more}


@pytest.fixture
def people(database):
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
    return database


def events(session, kind: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.event_type == kind)
                                .order_by(AuditEvent.id)))


def test_an_administrator_added_person_is_linked_once_then_found_by_subject(people):
    with people.transaction() as session:
        accounts.create_user(session, "jo", "Jo Bloggs", None, ["auditor"], None,
                             email="Jo.Bloggs@council.gov.uk")
    with people.transaction() as session:
        person = sign_in_from_claims(session, settings(), claims(
            "abc-123", email="jo.bloggs@council.gov.uk", email_verified=True), "10.0.0.1")
        assert (person.username, person.oidc_issuer, person.oidc_subject) == ("jo", ISSUER, "abc-123")
    with people.transaction() as session:  # a new e-mail address at the provider: still Jo
        assert sign_in_from_claims(session, settings(), claims(
            "abc-123", email="jo.new@council.gov.uk")).username == "jo"
        signed_in = events(session, "signed_in")
        assert [e.actor for e in signed_in] == ["jo", "jo"]
        assert signed_in[0].data == {"ip": "10.0.0.1", "via": "oidc", "issuer": ISSUER}


def test_an_unconfirmed_email_links_nobody(people):
    with people.transaction() as session:
        accounts.create_user(session, "jo", "Jo Bloggs", None, ["auditor"], None,
                             email="jo@council.gov.uk")
    with pytest.raises(Refusal, match="You do not have a PACE Flow account yet"):
        with people.transaction() as session:
            sign_in_from_claims(session, settings(), claims(
                "abc", email="jo@council.gov.uk", email_verified=False))
    with people.transaction() as session:
        assert accounts.find_user(session, "jo").oidc_subject is None


def test_matching_by_email_where_the_council_chooses_it(people):
    with people.transaction() as session:
        accounts.create_user(session, "jo", "Jo Bloggs", None, ["auditor"], None,
                             email="jo@council.gov.uk")
    by_email = settings(match_by="email")
    with people.transaction() as session:
        assert sign_in_from_claims(session, by_email, claims(
            "one-tenant", email="JO@council.gov.uk")).username == "jo"
        assert sign_in_from_claims(session, by_email, claims(
            "another-tenant", email="jo@council.gov.uk")).username == "jo"
    with pytest.raises(Refusal, match="did not give a confirmed e-mail address"):
        with people.transaction() as session:
            sign_in_from_claims(session, by_email, claims("x"))


def test_a_person_is_added_at_first_sign_in_with_roles_and_team_from_groups(people):
    creating = settings(create_people=True, role_map=ROLE_MAP, team_map=TEAM_MAP)
    with people.transaction() as session:
        person = sign_in_from_claims(session, creating, claims(
            "new-1", preferred_username="sw.north", email="sam@council.gov.uk",
            name="Sam New", groups=["pace-sw", "staff-north", "everyone"]))
        # sw.north is a demo user's name: usernames are never reused
        assert (person.username, person.display_name, person.roles, person.team,
                person.password_hash) == ("sw.north-2", "Sam New", ["social_worker"], "north", None)
        created = events(session, "user_created")[-1]
        assert created.actor == f"oidc:{ISSUER}" and created.data["username"] == "sw.north-2"


@pytest.mark.parametrize("groups, words", [
    (["everyone"], "give you no role in PACE Flow"),
    (["pace-sw"], "works within one team, but your groups"),
    (["pace-sw", "staff-west"], "puts you in team west, which PACE Flow does not have"),
    (["pace-sw", "staff-north", "staff-south"], "more than one team (north, south)"),
])
def test_groups_that_cannot_place_a_new_person_are_refused(people, groups, words):
    creating = settings(create_people=True, role_map=ROLE_MAP, team_map=TEAM_MAP)
    with pytest.raises(Refusal) as refused:
        with people.transaction() as session:
            sign_in_from_claims(session, creating, claims("new-2", groups=groups))
    assert words in str(refused.value)
    with people.transaction() as session:
        assert session.scalar(select(UserAccount).where(UserAccount.oidc_subject == "new-2")) is None


def test_a_closed_team_is_refused(people):
    with people.transaction() as session:
        session.add(Team(code="west", name="West", closed_at=date(2026, 1, 1)))
    with pytest.raises(Refusal, match="puts you in team west, which PACE Flow has closed"):
        with people.transaction() as session:
            sign_in_from_claims(session, settings(create_people=True, role_map=ROLE_MAP,
                                                  team_map=TEAM_MAP),
                                claims("new-3", groups=["pace-sw", "staff-west"]))


def test_without_creation_an_unknown_person_is_refused(people):
    with pytest.raises(Refusal, match="Ask the PACE Flow administrator in your service to add you"):
        with people.transaction() as session:
            sign_in_from_claims(session, settings(role_map=ROLE_MAP), claims(
                "nobody", groups=["pace-sw"]))


def test_a_deactivated_person_is_refused(people):
    with people.transaction() as session:
        person = accounts.find_user(session, "sw.north")
        person.oidc_issuer, person.oidc_subject = ISSUER, "sw-north"
        person.active = False
    with pytest.raises(Refusal, match="Your PACE Flow account is deactivated"):
        with people.transaction() as session:
            sign_in_from_claims(session, settings(), claims("sw-north"))


def test_a_move_to_another_team_by_groups_returns_held_tasks_and_tells_the_managers(people):
    _child, item_id = child_at(people, "N0001", "north", "legal_referral",
                               date.today() - timedelta(weeks=27))
    with people.transaction() as session:
        person = accounts.find_user(session, "sw.north")
        person.oidc_issuer, person.oidc_subject = ISSUER, "sw-north"
        work_items.claim(session, item_id, person)
    with people.transaction() as session:
        person = sign_in_from_claims(session, settings(role_map=ROLE_MAP, team_map=TEAM_MAP),
                                     claims("sw-north", groups=["pace-sw", "staff-south"]))
        assert (person.roles, person.team) == (["social_worker"], "south")
        changed = events(session, "user_changed_from_groups")[-1]
        assert changed.data["changes"] == {"team": ["north", "south"]}
        assert changed.data["groups"] == ["pace-sw", "staff-south"]
        item = session.get(WorkItem, item_id)
        assert (item.status, item.assignee_id) == ("ready", None)
        told = session.scalars(select(Notification).where(Notification.event_id == changed.id))
        assert {n.user_id for n in told} == {accounts.find_user(session, "tl.north").id}


def test_the_same_groups_change_nothing(people):
    with people.transaction() as session:
        person = accounts.find_user(session, "sw.north")
        person.oidc_issuer, person.oidc_subject = ISSUER, "sw-north"
    for _ in range(2):
        with people.transaction() as session:
            sign_in_from_claims(session, settings(role_map=ROLE_MAP, team_map=TEAM_MAP),
                                claims("sw-north", groups=["pace-sw", "staff-north"]))
    with people.transaction() as session:
        assert events(session, "user_changed_from_groups") == []


def test_the_last_administrator_keeps_the_role(people):
    with people.transaction() as session:
        admin = accounts.find_user(session, "admin")
        admin.oidc_issuer, admin.oidc_subject = ISSUER, "admin-sub"
        others = session.scalars(select(UserAccount).where(UserAccount.id != admin.id))
        assert not any("admin" in (u.roles or []) for u in others)
    with people.transaction() as session:
        person = sign_in_from_claims(session, settings(role_map=ROLE_MAP, team_map=TEAM_MAP),
                                     claims("admin-sub", groups=["pace-auditor"]))
        assert person.roles == ["auditor", "admin"]
        assert events(session, "user_changed_from_groups")[-1].data["kept_admin"] is True
