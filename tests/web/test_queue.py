"""My work and the team queue: scope, filters, sorting, paging, due status."""
from __future__ import annotations

import re
from datetime import date, timedelta

from engine import clock

from .conftest import cached_client, hold, make_app, sign_in
from .journeys import child_at


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="govuk-table__row">\s*<td class="govuk-table__cell"><a class="govuk-link" '
                      r'href="/children/\d+">([^<]+)</a>', page)


def test_team_queue_shows_unclaimed_tasks_for_my_role_and_team(shared_world):
    hold(shared_world, None)
    page = cached_client(shared_world, "sw.north").get("/team-queue").get_data(as_text=True)
    assert _rows(page) == ["North Child 1"]  # not the south child, not the legal task
    assert "Unclaimed tasks for your role (Social worker) in team North" in page
    legal = cached_client(shared_world, "legal").get("/team-queue").get_data(as_text=True)
    assert _rows(legal) == ["North Child 2"] and "Give legal advice" in legal
    assert "<th scope=\"col\" class=\"govuk-table__header\">Team</th>" in legal  # all teams


def test_my_work_lists_what_i_hold(shared_world):
    hold(shared_world, "sw.north")
    try:
        mine = cached_client(shared_world, "sw.north").get("/my-work").get_data(as_text=True)
        assert _rows(mine) == ["North Child 1"] and "Release" in mine
        team = cached_client(shared_world, "sw.north").get("/team-queue").get_data(as_text=True)
        assert _rows(team) == []
        other = cached_client(shared_world, "sw2.north").get("/my-work").get_data(as_text=True)
        assert "You have no tasks" in other
    finally:
        hold(shared_world, None)


def test_filters_by_status_child_and_task(shared_world):
    hold(shared_world, None)
    worker = cached_client(shared_world, "sw.north")
    assert _rows(worker.get("/team-queue?status=this_week").get_data(as_text=True)) == ["North Child 1"]
    assert _rows(worker.get("/team-queue?status=upcoming").get_data(as_text=True)) == []
    assert _rows(worker.get("/team-queue?status=overdue").get_data(as_text=True)) == []
    legal = cached_client(shared_world, "legal")
    assert _rows(legal.get("/team-queue?child=n0002").get_data(as_text=True)) == ["North Child 2"]
    assert _rows(legal.get("/team-queue?child=child 2").get_data(as_text=True)) == ["North Child 2"]
    nothing = legal.get("/team-queue?child=zzz").get_data(as_text=True)
    assert _rows(nothing) == [] and "No tasks match the filters" in nothing
    assert "Clear filters" in nothing
    assert _rows(legal.get("/team-queue?task=legal_opinion").get_data(as_text=True)) == ["North Child 2"]
    assert _rows(legal.get("/team-queue?task=capr").get_data(as_text=True)) == []
    options = legal.get("/team-queue").get_data(as_text=True)
    assert '<option value="legal_opinion">Give legal advice</option>' in options


def _at(client, day: date, url: str) -> str:
    clock.set_now(day)  # midday UTC: the same day in Europe/London
    try:
        return client.get(url).get_data(as_text=True)
    finally:
        clock.set_now(None)


def test_due_dates_read_in_words_as_the_clock_moves(shared_world):
    hold(shared_world, None)
    client = cached_client(shared_world, "sw.north")
    due = date.today() + timedelta(days=7)  # the referral falls due next week
    page = _at(client, date.today(), "/team-queue")
    assert 'govuk-tag--yellow app-due">Due in 7 days<' in page and "Upcoming" not in page
    # on the day: its own group, not "this week"
    today = _at(client, due, "/team-queue?status=due_today")
    assert _rows(today) == ["North Child 1"] and 'govuk-tag--orange app-due">Due today<' in today
    assert _rows(_at(client, due, "/team-queue?status=this_week")) == []
    assert _rows(_at(client, due - timedelta(days=1), "/team-queue?status=this_week")) == \
        ["North Child 1"]
    assert "Due tomorrow" in _at(client, due - timedelta(days=1), "/team-queue")
    assert '1 day overdue' in _at(client, due + timedelta(days=1), "/team-queue")
    late = _at(client, due + timedelta(days=23), "/team-queue?status=overdue")
    assert _rows(late) == ["North Child 1"] and 'govuk-tag--red app-due">23 days overdue<' in late


def test_sorting_and_paging(world):
    for number in range(3, 6):
        child_at(world.database, f"N000{number}", "north", "legal_referral",
                 date.today() - timedelta(weeks=27 + number), name=f"North Child {number}")
    app = make_app(world.database, QUEUE_PAGE_SIZE=2)
    client = sign_in(app.test_client(), "sw.north")
    first = client.get("/team-queue").get_data(as_text=True)
    assert _rows(first) == ["North Child 5", "North Child 4"]  # earliest due first
    assert "Team queue (page 1 of 2) – PACE Flow" in first and 'rel="next"' in first
    second = client.get("/team-queue?page=2").get_data(as_text=True)
    assert _rows(second) == ["North Child 3", "North Child 1"]
    by_child = client.get("/team-queue?sort=child").get_data(as_text=True)
    assert _rows(by_child) == ["North Child 1", "North Child 3"]
    assert 'aria-sort="ascending"' in by_child
    latest = client.get("/team-queue?sort=-due").get_data(as_text=True)
    assert _rows(latest) == ["North Child 1", "North Child 3"]
    assert 'aria-sort="descending"' in latest
    # an unknown sort falls back to the default; a page number that is not one is a 400 page
    assert _rows(client.get("/team-queue?sort=evil").get_data(as_text=True)) == \
        ["North Child 5", "North Child 4"]
    for page in ("abc", "0", "99999999999999999999"):
        refused = client.get(f"/team-queue?page={page}")
        assert refused.status_code == 400 and "must be a whole number from 1 to 100,000" in \
            refused.get_data(as_text=True)
