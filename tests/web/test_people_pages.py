"""The administrators' pages for teams and people (web/pages/people.py), on both databases:
each action through the page, refusals shown with the GOV.UK error summary and what was
typed kept, the last administrator kept, and 403 for everyone else."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from engine import work_items
from engine.models import AuditEvent, Notification, Team, UserAccount, WorkItem
from workflows import accounts

from .conftest import cached_client, csrf_token, post, sign_in


@pytest.fixture
def admin(world, client_for):
    return client_for("admin")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def error_summary(page: str) -> list[tuple[str, str]]:
    """(anchor, message) of each link in the GOV.UK error summary."""
    block = page.split('class="govuk-error-summary"', 1)
    assert len(block) == 2, "no error summary on the page"
    body = block[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', body)


def test_administrators_find_teams_and_people_in_the_navigation(world, admin):
    page = text(admin.get("/people"))
    assert 'href="/people"' in page and "Teams and people" in page
    for path, heading in (("/people", "People"), ("/teams", "Teams"),
                          ("/roles", "Who holds each role")):
        response = admin.get(path)
        assert response.status_code == 200, path
        assert f'<h1 class="govuk-heading-l">{heading}</h1>' in text(response)
    page = text(cached_client_for(world, "tl.north").get("/my-work"))
    assert "Teams and people" not in page


def cached_client_for(world, user):
    world.__dict__.setdefault("clients", {})
    return cached_client(world, user)


def test_a_team_is_added_renamed_and_closed(world, admin):
    response = post(admin, "/teams/new", {"code": "east", "name": "Children and Families East"})
    assert response.status_code == 302
    page = text(admin.get(response.headers["Location"]))
    assert "Team Children and Families East (east) is added" in page
    assert "<code>east</code>" in page
    assert post(admin, "/teams/east/rename", {"name": "East and Islands"}).status_code == 302
    page = text(admin.get("/teams/east/close"))
    assert "Close East and Islands" in page and "Close the team" in page
    assert post(admin, "/teams/east/close").status_code == 302
    with world.database.transaction() as session:
        team = session.get(Team, "east")
        assert team.name == "East and Islands" and team.closed_at is not None
        assert [e.event_type for e in session.scalars(select(AuditEvent).where(
            AuditEvent.event_type.like("team_%")).order_by(AuditEvent.id))] == \
            ["team_created", "team_renamed", "team_closed"]
    assert "Closed" in text(admin.get("/teams"))
    # a closed team is not offered for a new person, nor for a new child
    assert 'value="east"' not in text(admin.get("/people/new"))
    manager = cached_client_for(world, "manager")
    assert 'value="east"' not in text(manager.get("/children/new/scotland"))


def test_a_team_form_with_problems_keeps_what_was_typed(world, admin):
    response = post(admin, "/teams/new", {"code": "North Side", "name": "Northside team"})
    assert response.status_code == 422
    page = text(response)
    assert page.startswith("<!DOCTYPE html>") and "<title>Error: Add a team" in page
    assert error_summary(page) == [("code", "Use 1 to 40 lower-case letters, digits, hyphens or "
                                            "underscores, starting with a letter or digit (for "
                                            "example north or fostering_east).")]
    assert 'value="North Side"' in page and 'value="Northside team"' in page
    assert 'govuk-input--error" id="code"' in page
    response = post(admin, "/teams/north/rename", {"name": ""})
    assert response.status_code == 422 and error_summary(text(response)) == [
        ("name", "Enter the team's name.")]


def test_a_team_with_open_children_is_not_closed(world, admin):
    page = text(admin.get("/teams/north/close"))
    assert "Move them to another team before closing it" in page and "Close the team" not in page
    response = post(admin, "/teams/north/close")
    assert response.status_code == 409
    assert "with a process still running, so it was not closed" in text(response)
    with world.database.transaction() as session:
        assert session.get(Team, "north").closed_at is None


def test_a_person_is_added_with_a_first_password_and_can_sign_in(world, admin):
    form = {"username": "jbloggs", "display_name": "Jo Bloggs", "email": "jo@council.gov.uk",
            "roles": ["social_worker"], "team": "north", "sign_in": "password",
            "password": "a-long-password"}
    response = post(admin, "/people/new", form)
    assert response.status_code == 302 and response.headers["Location"] == "/people/jbloggs"
    page = text(admin.get("/people/jbloggs"))
    assert "Jo Bloggs is added as jbloggs." in page and "With a password" in page
    assert "Social worker" in page and "jo@council.gov.uk" in page
    newcomer = world.app.test_client()
    sign_in(newcomer, "jbloggs", "a-long-password")
    assert newcomer.get("/my-work").status_code == 200


def test_a_person_added_for_the_councils_sign_in_has_no_password(world, admin):
    response = post(admin, "/people/new", {"username": "kc", "display_name": "Kim Chair",
                                           "roles": ["independent_chair"], "team": "",
                                           "sign_in": "council"})
    assert response.status_code == 302
    assert "Through the council's sign-in only" in text(admin.get("/people/kc"))
    with world.database.transaction() as session:
        assert accounts.find_user(session, "kc").password_hash is None
    refused = post(world.app.test_client(), "/sign-in", {"username": "kc", "password": ""})
    assert refused.status_code == 400  # nothing to sign in with here


def test_the_add_form_shows_every_problem_and_keeps_the_entries(world, admin):
    response = post(admin, "/people/new", {"username": "sw.north", "display_name": "",
                                           "email": "not-an-address", "roles": ["social_worker"],
                                           "team": "", "sign_in": "password", "password": ""})
    assert response.status_code == 422
    page = text(response)
    anchors = [anchor for anchor, _ in error_summary(page)]
    assert anchors == ["username", "display_name", "email", "team", "password"]
    assert "The username sw.north is taken" in page
    assert "Enter a first password, or choose the council" in page
    assert 'value="sw.north"' in page and 'value="not-an-address"' in page
    assert 'value="social_worker" checked' in page
    assert 'value="password" checked' in page
    assert "a-long" not in page  # a password is never shown again
    response = post(admin, "/people/new", {"username": "x", "display_name": "X",
                                           "roles": ["auditor"]})
    assert error_summary(text(response)) == [("sign_in", "Choose how they sign in")]
    with world.database.transaction() as session:
        assert accounts.find_user(session, "x") is None


def test_a_person_is_changed_and_their_tasks_they_cannot_work_go_back(world, admin):
    with world.database.transaction() as session:
        item = session.get(WorkItem, world.tasks["north"])
        work_items.claim(session, item.id, accounts.find_user(session, "sw.north"))
    page = text(admin.get("/people/sw.north/edit"))
    assert 'value="Sam Wilson"' in page and 'value="social_worker" checked' in page
    response = post(admin, "/people/sw.north/edit", {
        "display_name": "Sam Wilson-Ray", "email": "", "roles": ["social_worker"], "team": "south"})
    assert response.status_code == 302
    page = text(admin.get("/people/sw.north"))
    assert "Saved. 1 task they can no longer work went back to the team queue." in page
    with world.database.transaction() as session:
        assert session.get(WorkItem, world.tasks["north"]).status == "ready"
        assert accounts.find_user(session, "sw.north").team == "south"


def test_the_last_administrator_keeps_the_role_and_stays_active(world, admin):
    response = post(admin, "/people/admin/edit", {"display_name": "Ada Min",
                                                  "roles": ["auditor"], "team": ""})
    assert response.status_code == 409
    page = text(response)
    assert ("roles", "Ada Min is the last active administrator and cannot lose the "
                     "administrator role. Make someone else an administrator first.") \
        in error_summary(page)
    assert 'value="auditor" checked' in page  # what was chosen is kept
    response = post(admin, "/people/admin/deactivate")
    assert response.status_code == 409 and "last active administrator" in text(response)
    with world.database.transaction() as session:
        user = accounts.find_user(session, "admin")
        assert user.active and user.roles == ["admin"]


def test_deactivating_a_person_returns_their_tasks_and_tells_the_team_leader(world, admin):
    with world.database.transaction() as session:
        work_items.claim(session, world.tasks["north"], accounts.find_user(session, "sw.north"))
    page = text(admin.get("/people/sw.north/deactivate"))
    assert "The 1 task they hold will go back to the team queue" in page
    assert post(admin, "/people/sw.north/deactivate").status_code == 302
    page = text(admin.get("/people/sw.north"))
    assert "Sam Wilson is deactivated. 1 task went back to the team queue; Tom Lees told." in page
    assert "Reactivate" in page
    with world.database.transaction() as session:
        assert session.get(WorkItem, world.tasks["north"]).status == "ready"
        tl = accounts.find_user(session, "tl.north")
        assert session.scalar(select(Notification.kind).where(Notification.user_id == tl.id)) \
            == "team_change"
    leader = cached_client_for(world, "tl.north")
    assert "Sam Wilson has left" in text(leader.get("/notifications"))
    assert "A person in your team leaves or changes role" in text(leader.get("/notifications"))
    gone = world.app.test_client()
    assert post(gone, "/sign-in", {"username": "sw.north",
                                   "password": "pace-demo-2026"}).status_code == 401
    assert post(admin, "/people/sw.north/reactivate").status_code == 302
    assert "Sam Wilson is active again" in text(admin.get("/people/sw.north"))
    sign_in(world.app.test_client(), "sw.north")


def test_a_password_is_set_and_old_sessions_end(world, admin, client_for):
    worker = client_for("sw.north")
    response = post(admin, "/people/sw.north/password", {"sign_in": "password", "password": "short"})
    assert response.status_code == 422
    assert error_summary(text(response)) == [
        ("password", "The password must be at least 10 characters long.")]
    assert post(admin, "/people/sw.north/password",
                {"sign_in": "password", "password": "a-new-long-password"}).status_code == 302
    assert worker.get("/my-work").status_code == 302  # signed out: the password changed
    sign_in(world.app.test_client(), "sw.north", "a-new-long-password")


def test_people_are_filtered_by_role_team_and_status(world, admin):
    page = text(admin.get("/people?role=social_worker&team=north&state=active"))
    assert "Sam Wilson" in page and "Priya Shah" in page and "Sara Walker" not in page
    assert "Tom Lees" not in page
    page = text(admin.get("/people?team=-"))
    assert "Isla Chalmers" in page and "Sam Wilson" not in page
    with world.database.transaction() as session:
        accounts.find_user(session, "sw2.north").active = False
    assert "Priya Shah" not in text(admin.get("/people?role=social_worker"))
    assert "Priya Shah" in text(admin.get("/people?role=social_worker&state=deactivated"))
    roles = text(admin.get("/roles"))
    section = roles.split('id="role-social_worker"', 1)[1].split("<h2", 1)[0]
    assert "Sam Wilson" in section and "Priya Shah" in section and "Deactivated" in section
    assert "Tom Lees" not in section


@pytest.mark.parametrize("user", ["sw.north", "tl.north", "manager", "owner", "auditor"])
def test_others_are_refused(world, user, client_for):
    client = client_for(user)
    for path in ("/teams", "/people", "/roles", "/people/new", "/people/sw.north"):
        assert client.get(path).status_code == 403, path
    assert post(client, "/teams/new", {"code": "east", "name": "East"}).status_code == 403
    assert post(client, "/people/sw.north/deactivate").status_code == 403
    with world.database.transaction() as session:
        assert session.get(Team, "east") is None
        assert accounts.find_user(session, "sw.north").active


def test_forms_need_the_csrf_token(world, admin):
    for path, data in (("/teams/new", {"code": "east", "name": "East"}),
                       ("/people/sw.north/deactivate", {})):
        assert admin.post(path, data=data).status_code == 400
        assert admin.post(path, data={**data, "csrf_token": "forged"}).status_code == 400
    assert csrf_token(admin)
    with world.database.transaction() as session:
        assert session.get(Team, "east") is None
        assert session.scalar(select(UserAccount.active).where(UserAccount.username == "sw.north"))
