"""“My team's work” and the allocated worker's page, on both databases: what a team leader
and a service manager see, the filters, web addresses the page cannot use (a 400 saying
which, never a 500), and changing a child's allocated worker with what was chosen kept."""
from __future__ import annotations

from sqlalchemy import select

from engine import work_items
from engine.models import AuditEvent, Subject, UserAccount

from .conftest import post


def _give(world, task: str, username: str) -> None:
    with world.database.transaction() as session:
        work_items.claim(session, world.tasks[task], session.get(UserAccount, world.users[username]))


def test_a_team_leader_sees_every_open_task_of_the_team_held_or_not(world, client_for):
    _give(world, "north", "sw.north")
    leader = client_for("tl.north")
    page = leader.get("/team-work").get_data(as_text=True)
    assert "2 open tasks" in page and "North Child 1" in page and "North Child 2" in page
    assert "South Child 1" not in page  # another team's
    assert "Sam Wilson" in page and "Not held (in the team queue)" in page
    sam = world.users["sw.north"]
    mine = leader.get(f"/team-work?worker={sam}").get_data(as_text=True)
    assert "My team&#39;s work: Sam Wilson" in mine and "1 open task " in mine
    assert "North Child 2" not in mine
    unheld = leader.get("/team-work?worker=nobody").get_data(as_text=True)
    assert "North Child 2" in unheld and "North Child 1" not in unheld
    legal = leader.get("/team-work?task=legal_opinion").get_data(as_text=True)
    assert "North Child 2" in legal and "North Child 1" not in legal
    overdue = leader.get("/team-work?status=overdue").get_data(as_text=True)
    assert "No open tasks match the filters." in overdue  # the referral falls due next week
    # the overview's figures open the worker's tasks here
    overview = leader.get("/overview").get_data(as_text=True)
    assert f'href="/team-work?worker={sam}&amp;team=north"' in overview


def test_a_service_manager_sees_every_team_or_one(world, client_for):
    manager = client_for("manager")
    every = manager.get("/team-work").get_data(as_text=True)
    assert "North Child 1" in every and "South Child 1" in every
    south = manager.get("/team-work?team=south").get_data(as_text=True)
    assert "South Child 1" in south and "North Child 1" not in south


def test_a_web_address_the_page_cannot_use_is_a_clear_400(world, client_for):
    leader = client_for("tl.north")
    south_worker = world.users["sw.south"]
    for query, says in (("status=soon", "‘status’ in the web address must be a status from the list"),
                        ("sort=child", "‘sort’ in the web address must be a sort from the list"),
                        ("worker=99999", "‘worker’ in the web address must be a worker from the list"),
                        (f"worker={south_worker}", "must be a worker from the list"),
                        ("task=no_such_task", "‘task’ in the web address must be a task from the list"),
                        ("page=0", "‘page’ in the web address must be a whole number"),
                        ("worker=%00", "control character")):
        response = leader.get(f"/team-work?{query}")
        assert response.status_code == 400, query
        assert says in response.get_data(as_text=True), query


def test_changing_the_allocated_worker_keeps_what_was_chosen_when_refused(world, client_for):
    leader = client_for("tl.north")
    child = world.children["north"]
    form = leader.get(f"/children/{child}/allocated-worker").get_data(as_text=True)
    assert "Change the allocated worker" in form and "Priya Shah" in form
    assert ">Tom Lees<" not in form  # not a social worker (he is signed in, named in the header)
    priya = str(world.users["sw2.north"])
    refused = post(leader, f"/children/{child}/allocated-worker",
                   {"worker": priya, "reason": "two\u2028lines"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'href="#reason"' in text
    assert f'value="{priya}" selected' in text
    none = post(leader, f"/children/{child}/allocated-worker", {"worker": ""})
    assert none.status_code == 422 and "Choose an active social worker" in none.get_data(as_text=True)
    done = post(leader, f"/children/{child}/allocated-worker",
                {"worker": priya, "reason": "New allocation after the planning meeting"})
    assert done.status_code == 302 and done.headers["Location"] == f"/children/{child}"
    page = leader.get(done.headers["Location"]).get_data(as_text=True)
    assert "Priya Shah is now North Child 1&#39;s allocated worker." in page
    assert "Allocated worker changed" in page
    assert "Reason: New allocation after the planning meeting" in page
    with world.database.transaction() as session:
        assert session.get(Subject, child).allocated_worker_id == world.users["sw2.north"]
        (event,) = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "allocated_worker_changed")).all()
        assert event.actor == "tl.north" and event.data["to"] == "sw2.north"
    # the social worker reads the child page without the Change link
    worker_page = client_for("sw.north").get(f"/children/{child}").get_data(as_text=True)
    assert "Priya Shah" in worker_page and "allocated-worker" not in worker_page
