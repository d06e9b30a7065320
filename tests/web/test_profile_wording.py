"""The web UI in each profile's words: a deployment running the English profile, or both.

Queues filter on the enabled profiles' lane roles; roles, milestones and processes are named
as the child's profile names them (task pages, queues, the child page, the overview, the
audit timeline, notifications); English children are added with their own entry form, and
with both profiles the worker first picks which one a child is on.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from engine.models import Notification, ProcessInstance, Subject, UserAccount, WorkItem

from .conftest import cached_client, post

IRO = "Independent reviewing officer (IRO)"


def both(world) -> bool:
    return "north" in world.children


def test_queues_filter_on_the_profiles_roles_and_name_them(profile_world):
    iro = cached_client(profile_world, "eng.iro")
    page = iro.get("/team-queue").get_data(as_text=True)
    assert f"Unclaimed tasks for your role ({IRO}) across all teams" in page
    assert "First looked-after review (within 20 working days)" in page
    assert page.count(IRO) >= 2  # the filter line and each task's queue
    worker = cached_client(profile_world, "eng.sw.east")
    mine = worker.get("/team-queue").get_data(as_text=True)
    assert "Unclaimed tasks for your role (Social worker) in team East" in mine
    assert "Ellie East" in mine and "Wes West" not in mine
    assert "Independent chair" not in mine and "Team leader" not in mine


def test_api_team_queue_serves_english_roles(profile_world):
    from .api_client import api
    response = api(profile_world, "eng.iro").get("/api/v1/queues/team")
    assert response.status_code == 200, response.get_data(as_text=True)
    names = {item["task_name"] for item in response.get_json()["items"]}
    assert "first_review" in names and "first_visit" not in names


def test_task_page_names_the_english_queue(profile_world):
    iro = cached_client(profile_world, "eng.iro")
    page = iro.get(f"/tasks/{profile_world.tasks['first_review']}").get_data(as_text=True)
    assert f"{IRO}, team East" in page
    assert "Claim task" in page


def test_english_child_page_uses_the_english_milestones_and_roles(profile_world):
    client = cached_client(profile_world, "eng.sw.east")
    response = client.get(f"/children/{profile_world.children['eng_overdue']}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Started to be looked after", "Placement started", "First looked-after review",
                 IRO, "Looked-after children&#39;s health team", "Designated teacher",
                 "Looked after: statutory visits and reviews", "Legal status at entry"):
        assert text in page, text
    assert "Looked after and accommodated" not in page  # the Scottish label of LA_START
    assert "Escalated" in page
    # The milestones follow the English order: looked after, then the placement.
    assert page.index("Started to be looked after</td>") < page.index("Placement started</td>")
    assert ("England: looked-after children statutory cycle" in page) == both(profile_world)


def test_scottish_child_keeps_the_scottish_words_beside_english_children(profile_world):
    if not both(profile_world):
        # England only: no Scottish child can be added at all.
        client = cached_client(profile_world, "eng.sw.east")
        assert client.get("/children/new/scotland").status_code == 404
        assert "Scotland: permanence planning" not in client.get("/children/new").get_data(
            as_text=True)
        return
    page = cached_client(profile_world, "sw.north").get(
        f"/children/{profile_world.children['north']}").get_data(as_text=True)
    assert "Looked after and accommodated" in page and "Started to be looked after" not in page
    assert "Scotland: permanence planning (PACE)" in page
    assert "Team leader" in page or "Social worker" in page


def test_overview_for_the_team_manager_names_the_escalation(profile_world):
    manager = cached_client(profile_world, "eng.tm.east")
    response = manager.get("/overview")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Team manager (level 1)" in page and "Team leader (level" not in page
    assert "Tariq Malik" in page  # team managers are listed with their team's workload
    assert "Ellie East" in page and "Wes West" not in page


def test_escalation_notice_and_audit_timeline_use_the_english_role(profile_world):
    with profile_world.database.transaction() as session:
        manager = session.scalar(select(UserAccount).where(UserAccount.username == "eng.tm.east"))
        notes = session.scalars(select(Notification).where(Notification.user_id == manager.id,
                                                           Notification.kind == "escalation")).all()
        texts = [n.body for n in notes]
    assert any("escalated to you as team manager" in t for t in texts), texts
    page = cached_client(profile_world, "eng.auditor").get(
        f"/audit/children/{profile_world.children['eng_overdue']}").get_data(as_text=True)
    assert "Team manager (team_manager)" in page
    hints = cached_client(profile_world, "eng.sw.east").get(
        "/notifications/preferences").get_data(as_text=True)
    managers = "team leader or team manager" if both(profile_world) else "team manager"
    assert f"A {managers} gives you a task" in hints


def test_adding_an_english_child_starts_the_cycle_and_the_legal_path(profile_world):
    client = cached_client(profile_world, "eng.sw.east")
    start = client.get("/children/new")
    if both(profile_world):
        chooser = start.get_data(as_text=True)
        assert start.status_code == 200
        assert "Scotland: permanence planning (PACE)" in chooser
        assert "England: looked-after children statutory cycle" in chooser
        unpicked = client.get("/children/new?profile=")
        assert unpicked.status_code == 422
        assert 'href="#profile-0">Select which process the child is on' in unpicked.get_data(as_text=True)
        start = client.get("/children/new?profile=england")
    assert start.status_code == 302 and start.headers["Location"].endswith("/children/new/england")
    form = client.get("/children/new/england").get_data(as_text=True)
    for text in ("Legal status", "Section 20: accommodated with parental agreement",
                 "Date the child became looked after", "Category of need", "Placement type",
                 "Unique pupil number (UPN)"):
        assert text in form, text
    looked_after = date.today() - timedelta(days=1)
    answers = {"reference": "E00100", "name": "Nia New", "date_of_birth.day": "4",
               "date_of_birth.month": "5", "date_of_birth.year": "2016", "sex": "F",
               "ethnicity": "WBRI", "la_start.day": str(looked_after.day),
               "la_start.month": str(looked_after.month), "la_start.year": str(looked_after.year),
               "category_of_need": "N1", "placement_type": "U4", "placement_provider": "PR1",
               "home_postcode": "LS1 4AB"}
    # A missing legal status and a half-typed date: told what to fix, nothing lost.
    bad = post(client, "/children/new/england", {**answers, "la_start.year": ""})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Select legal status" in text and "must include a year" in text
    assert 'value="Nia New"' in text and 'value="LS1 4AB"' in text
    done = post(client, "/children/new/england", {**answers, "legal_status": "s31"})
    assert done.status_code == 302, done.get_data(as_text=True)
    with profile_world.database.transaction() as session:
        child = session.scalar(select(Subject).where(Subject.reference == "E00100"))
        assert child.team == "east" and child.attributes["profile"] == "england"
        assert child.attributes["ssda903"]["sex"] == "F"
        processes = set(session.scalars(select(ProcessInstance.process_id).where(
            ProcessInstance.subject_id == child.id)))
        tasks = set(session.scalars(select(WorkItem.task_name).where(
            WorkItem.subject_id == child.id)))
    assert processes == {"eng_looked_after", "eng_legal_status"}
    assert {"first_visit", "first_review", "record_interim_order"} <= tasks
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Nia New (E00100) is added" in page and "Started to be looked after" in page
    again = post(client, "/children/new/england", {**answers, "legal_status": "s20"})
    assert again.status_code == 409 and "already exists" in again.get_data(as_text=True)


def test_adding_a_scottish_child_where_both_profiles_run(profile_world):
    client = cached_client(profile_world, "eng.manager")  # service-wide: picks the team
    if not both(profile_world):
        assert client.get("/children/new/scotland").status_code == 404
        return
    form = client.get("/children/new/scotland").get_data(as_text=True)
    assert "Accommodate a child" in form and 'name="team"' in form
    accommodated = date.today() - timedelta(days=2)
    answers = {"reference": "N0100", "name": "Nell North", "pathway": "accommodated",
               "start_date.day": str(accommodated.day), "start_date.month": str(accommodated.month),
               "start_date.year": str(accommodated.year)}
    assert post(client, "/children/new/scotland", answers).status_code == 422  # no team
    done = post(client, "/children/new/scotland", {**answers, "team": "north"})
    assert done.status_code == 302, done.get_data(as_text=True)
    with profile_world.database.transaction() as session:
        child = session.scalar(select(Subject).where(Subject.reference == "N0100"))
        assert child.attributes["profile"] == "scotland" and child.team == "north"
        assert session.scalar(select(ProcessInstance.process_id).where(
            ProcessInstance.subject_id == child.id)) == "permanence_journey"
