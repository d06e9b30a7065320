"""Auditor pages (web/pages/audit.py): search, timeline, diagram path, export, verification.

One world per module and backend: the north/south children of ``shared_world`` plus a child
whose journey is finished (with a review loop, claims, a draft and a reassignment on the
way and HTML typed into a form field) and a child on the CSO review loop whose timer fired
and whose task was reminded and escalated. Everything goes through the real runtime.
"""
from __future__ import annotations

import json
import random
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import func, select, update

from engine import audit, clock, sweeper, work_items
from engine.audit import export as audit_export
from engine.models import (AuditEvent, Milestone, ProcessInstance, ProcessModel, Subject, Timer,
                           UserAccount, WorkItem)
from web.pages import audit as audit_views
from workflows.children import records as children
from workflows import sample_answers
from workflows.demo import scotland as demo

from .conftest import cached_client, csrf_token
from .journeys import World, _user_for, open_items

ROOT = Path(__file__).resolve().parents[2]
INJECTION = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FINISHED_NAME = "Fin <b>Ished</b>"


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def finish_journey(database, reference: str, name: str, team: str, la_start: date,
                   questions: str = INJECTION, seed: int = 11) -> int:
    """Play a child's permanence journey to its end: not decided at the first substantive
    review (the loop back), then home, sustained. The first task is claimed, drafted,
    released and reassigned before it is completed. Returns the subject id."""
    rng = random.Random(seed)
    reviews = 0
    try:
        clock.set_now(_at(la_start, 9))
        with database.transaction() as session:
            child = children.register_child(session, reference, name, team, "test",
                                            date_of_birth=la_start - timedelta(days=3000))
            children.accommodate(session, database.runtime, child, la_start, "test")
            subject_id = child.id
        first = True
        for _ in range(30):
            items = open_items(database, subject_id)
            if not items:
                return subject_id
            item = items[0]
            day = max(item.created_at.date(), item.due_date or item.created_at.date())
            clock.set_now(_at(day))
            weights = dict(demo.WEIGHTS, return_home_outcome={"sustained": 1})
            if item.task_name == "substantive_lar":
                reviews += 1
                weights["route"] = {"not_decided": 1} if reviews == 1 else {"home": 1}
            with database.transaction() as session:
                instance = session.get(ProcessInstance, item.instance_id)
                worker = _user_for(session, item)
                if first:  # claimed, drafted, released, then handed back by a manager
                    manager = session.scalar(select(UserAccount).where(
                        UserAccount.username == "manager"))
                    work_items.claim(session, item.id, worker)
                    work_items.save_draft(session, item.id, {"notes": "first thoughts"}, worker)
                    work_items.release(session, item.id, worker)
                    work_items.reassign(session, item.id, worker, manager)
                    first = False
                schema, _ = database.runtime.form_for(instance, item.task_name)
                data = sample_answers.fill(schema, day, rng, weights)
                if item.task_name == "legal_referral":
                    data["questions"] = questions
                database.runtime.complete(session, item.id, data, worker)
        raise AssertionError(f"{reference} did not finish")
    finally:
        clock.set_now(None)


def cso_child(database, reference: str, team: str, start: date) -> int:
    """A child on the CSO review loop: the review alert fires, the task becomes ready, then
    the nightly sweep reminds and escalates it."""
    try:
        clock.set_now(_at(start, 9))
        with database.transaction() as session:
            child = children.register_child(session, reference, f"Cso Child {reference}", team,
                                            "test", date_of_birth=start - timedelta(days=900))
            instance = children.place_on_cso_at_home(session, database.runtime, child, start,
                                                     "test")
            subject_id, instance_id = child.id, instance.id
        with database.transaction() as session:
            fire_at = session.scalar(select(Timer.fire_at).where(Timer.instance_id == instance_id))
        clock.set_now(fire_at + timedelta(hours=1))
        with database.transaction() as session:
            instance = session.get(ProcessInstance, instance_id)
            assert database.runtime.fire_timers(session, instance, "timer")
        due = max(i.due_date for i in open_items(database, subject_id))
        for night in (due - timedelta(days=1), due + timedelta(days=40)):  # remind, escalate
            clock.set_now(_at(night, 6))
            sweeper.sweep(database.factory, database.runtime, mail=False)
        return subject_id
    finally:
        clock.set_now(None)


@pytest.fixture(scope="module")
def aw(shared_world) -> World:
    """The module's world with the finished child and the CSO child added."""
    world = shared_world
    if "finished" not in world.children:
        today = date.today()
        world.children["finished"] = finish_journey(world.database, "F0001", FINISHED_NAME,
                                                    "north", today - timedelta(days=700))
        world.children["cso"] = cso_child(world.database, "T0001", "south",
                                          today - timedelta(days=400))
    return world


def auditor(world):
    return cached_client(world, "auditor")


def events(world, **where) -> list[AuditEvent]:
    with world.database.transaction() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return list(session.scalars(query))


def last_event(world) -> AuditEvent:
    with world.database.transaction() as session:
        return session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()


def instance_of(world, key: str) -> ProcessInstance:
    with world.database.transaction() as session:
        return session.scalars(select(ProcessInstance).where(
            ProcessInstance.subject_id == world.children[key])
            .order_by(ProcessInstance.id.desc())).first()


# -- every page is read-only and audited ------------------------------------------------------
def test_every_auditor_view_is_itself_audited(aw):
    client = auditor(aw)
    child = aw.children["finished"]
    instance = instance_of(aw, "finished").id
    for url, kind, page in (
            (f"/audit/children/{child}", "record_viewed", "timeline"),
            (f"/audit/children/{child}/diagram?instance={instance}", "record_viewed", "diagram"),
            (f"/audit/children/{child}/export?format=csv", "record_viewed", "export"),
            (f"/audit/children/{child}/export?format=json", "record_viewed", "export"),
            (f"/audit/verify?child={child}", "record_viewed", "verify"),
            ("/audit?q=F0001", "audit_searched", None),
            ("/audit/verify", "audit_verified", None),
            ("/audit/export?since=2020-01-01&format=csv", "audit_exported", None)):
        response = client.get(url)
        assert response.status_code == 200, url
        event = last_event(aw)
        assert (event.event_type, event.actor) == (kind, "auditor"), url
        if page:
            assert event.subject_id == child and event.chain == f"subject:{child}"
            assert event.data["page"] == page
        else:
            assert event.chain == "system"
    diagram_view = events(aw, subject_id=child, event_type="record_viewed")
    assert any(e.instance_id == instance and e.data["page"] == "diagram" for e in diagram_view)
    # ... and the viewing shows up in the child's own timeline.
    assert "Record viewed by an auditor" in client.get(f"/audit/children/{child}").get_data(
        as_text=True)


def test_the_audit_blueprint_has_no_route_that_writes(aw):
    rules = [r for r in aw.app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert len(rules) == 6
    assert all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules)


# Posts an auditor may make about their own session, notices and API tokens: no record.
OWN_SESSION = {"/sign-in", "/sign-out", "/session/keep-alive",
               "/notifications/<int:item_id>/read", "/notifications/read-all",
               "/notifications/preferences"}
OWN_TOKENS = ("/account/api-tokens", "/api/v1/tokens")
ARGUMENTS = {"process_id": "permanence_journey", "version": "1"}


def _record_state(world) -> dict:
    """Everything a change to a child's record, a task or a diagram would touch."""
    with world.database.transaction() as session:
        state = {}
        for model in (Subject, ProcessInstance, WorkItem, Milestone, Timer, ProcessModel,
                      UserAccount):
            rows = session.scalars(select(model)).unique().all()
            state[model.__tablename__] = sorted(
                repr(sorted((c.key, repr(getattr(r, c.key))) for c in model.__table__.columns))
                for r in rows)
        state["events"] = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.actor != "auditor"))
        return state


def _api_token(world) -> str | None:
    """An API token of the auditor's own (the JSON API takes writes by token only)."""
    try:
        from web.security import api_tokens as tokens
    except ImportError:  # no JSON API in this build
        return None
    with world.database.transaction() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == "auditor"))
        return tokens.create(session, user, "audit test", "test")[1]


def test_the_auditor_cannot_change_anything(aw):
    """Every POST route of every blueprint (now and later), by session or by API token,
    refuses the auditor, except the auditor's own sign-in, sign-out, notification settings
    and API tokens; nothing in any record moves."""
    client = auditor(aw)
    token = csrf_token(client)
    secret = _api_token(aw)
    values = {"subject_id": aw.children["finished"], "item_id": aw.tasks["north"],
              "instance_id": instance_of(aw, "north").id, **ARGUMENTS}
    before = _record_state(aw)
    allowed = []
    for rule in aw.app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule in OWN_SESSION or \
                rule.rule.startswith(OWN_TOKENS):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>", str(values.get(name, 1)), path)
        response = client.post(path, data={"csrf_token": token, "action": "complete",
                                           "assignee": str(aw.users["auditor"])})
        if response.status_code not in (401, 403, 404):
            allowed.append(f"POST {path}: {response.status_code}")
        if secret and path.startswith("/api/"):
            response = aw.app.test_client().post(
                path, headers={"Authorization": f"Bearer {secret}"},
                json={"assignee": "auditor", "data": {}, "reference": "X1", "name": "X",
                      "team": "north"})
            if response.status_code not in (403, 404):
                allowed.append(f"POST {path} with a token: {response.status_code}")
    assert not allowed, allowed
    assert _record_state(aw) == before
    assert client.get("/audit").status_code == 200  # still signed in


# -- search -----------------------------------------------------------------------------------
def test_search_finds_children_and_processes(aw):
    client = auditor(aw)
    page = client.get("/audit?q=f0001").get_data(as_text=True)
    assert "F0001" in page and "N0001" not in page and "S0001" not in page
    assert "Fin &lt;b&gt;Ished&lt;/b&gt;" in page and FINISHED_NAME not in page
    number = instance_of(aw, "cso").id
    page = client.get(f"/audit?q=%23{number}").get_data(as_text=True)
    assert f"#{number}" in page and "T0001" in page
    page = client.get("/audit?process=cso_home_review").get_data(as_text=True)
    assert "T0001" in page and "N0001" not in page
    page = client.get("/audit?status=completed").get_data(as_text=True)
    assert "F0001" in page and "T0001" not in page
    assert "No children match" in client.get("/audit?q=nobody").get_data(as_text=True)


# -- the timeline -----------------------------------------------------------------------------
def test_timeline_shows_every_event_actor_and_change_as_text(aw):
    child = aw.children["finished"]
    chain = events(aw, chain=f"subject:{child}")
    response = auditor(aw).get(f"/audit/children/{child}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    rows = re.findall(r'<tr class="govuk-table__row" id="event-(\d+)">', page)
    assert [int(n) for n in rows] == [e.chain_seq for e in chain][:audit_views.PER_PAGE]
    for label in ("Child registered", "Process started", "Task ready", "Task claimed",
                  "Draft saved", "Task released", "Task reassigned", "Task completed",
                  "Process ended"):
        assert label in page, label
    assert "Sam Wilson (sw.north)" in page
    # What a completed form recorded, with the form's own field labels ...
    assert "Questions for legal services" in page
    # ... and whatever was typed shown as text, never as markup.
    assert INJECTION not in page and "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" \
        in page
    assert FINISHED_NAME not in page and "Fin &lt;b&gt;Ished&lt;/b&gt;" in page


def _answer_rows(page: str, step: str) -> list[dict[str, tuple[str, str]]]:
    """Each "Task completed" row of ``step`` on the page: field label -> (before, after)."""
    found = []
    for row in lxml.html.fromstring(page).xpath(
            '//table[contains(@class, "app-audit-events")]/tbody/tr'):
        cells = [c.text_content().strip() for c in row.xpath("./td")]
        if "Task completed" not in cells[2] or cells[3] != step:
            continue
        found.append({(line.xpath("./th")[0].text or "").strip():
                      tuple(c.text_content() for c in line.xpath("./td"))
                      for line in row.xpath('.//table[contains(@class, "app-audit-changes")]'
                                            "/tbody/tr")})
    return found


def test_before_is_the_same_steps_earlier_answer_only(aw, monkeypatch):
    """The finished child's substantive review was held twice (not decided, then home). The
    second shows the first's answers as "before"; the first shows none, although the initial
    review recorded a date of review (a field of the same name) before it."""
    monkeypatch.setattr(audit_views, "PER_PAGE", 1000)  # the whole history on one page
    page = auditor(aw).get(f"/audit/children/{aw.children['finished']}").get_data(as_text=True)
    first, second = _answer_rows(page, "Hold substantive looked-after review")
    assert {before for before, _after in first.values()} == {audit_views.NO_EARLIER}
    assert first["Recommended route to permanence"][1] == "not_decided"
    assert second["Recommended route to permanence"] == ("not_decided", "home")
    assert second["Date of review"][0] == first["Date of review"][1] != audit_views.NO_EARLIER


def test_earlier_answers_pair_completions_of_the_same_task_and_process():
    completions = [(1, 10, {"task": "a", "answers": {"date": "2026-01-01"}}),
                   (2, 10, {"task": "b", "answers": {"date": "2026-02-01"}}),
                   (3, 11, {"task": "b", "answers": {"date": "2026-03-01"}}),
                   (4, 10, {"task": "b", "changes": {"date": [None, "2026-04-01"]}}),
                   (5, 10, {"task": "b", "answers": {"date": "2026-05-01"}})]
    assert audit_views.earlier_answers(completions) == {4: {"date": "2026-02-01"},
                                                        5: {"date": "2026-04-01"}}


def test_timeline_covers_timers_reminders_and_escalations(aw):
    page = auditor(aw).get(f"/audit/children/{aw.children['cso']}").get_data(as_text=True)
    for label in ("Timer fired", "Review alert", "Task ready", "Reminder sent", "Escalated"):
        assert label in page, label


def test_timeline_pages_through_a_long_history(aw, monkeypatch):
    monkeypatch.setattr(audit_views, "PER_PAGE", 5)
    client = auditor(aw)
    child = aw.children["finished"]
    page = client.get(f"/audit/children/{child}?page=2").get_data(as_text=True)
    assert re.findall(r'id="event-(\d+)"', page) == ["6", "7", "8", "9", "10"]
    assert 'aria-label="Pagination"' in page
    last = client.get(f"/audit/children/{child}?page=99999").get_data(as_text=True)
    assert 'aria-current="page">' in last  # clamped to the last page


# -- the diagram ------------------------------------------------------------------------------
def _state(page: str) -> dict:
    found = re.search(r"data-state='([^']*)'", page)
    assert found, "no diagram state on the page"
    return json.loads(found.group(1))


def test_diagram_highlights_the_finished_path_from_the_audit_trail(aw):
    child = aw.children["finished"]
    response = auditor(aw).get(f"/audit/children/{child}/diagram")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    state = _state(page)
    markers = state["markers"]
    for task in ("planning_meeting", "initial_lar", "interim_lar", "legal_referral",
                 "legal_opinion", "substantive_lar", "return_home_plan", "return_home_review",
                 "accommodated", "permanence_at_home"):
        assert "pace-done" in markers[task], task
    for gateway in ("review_merge", "route_gateway", "home_cso_gateway", "return_home_gateway"):
        assert "pace-passed" in markers[gateway], gateway
    taken = {k for k, v in markers.items() if "pace-taken" in v}
    assert {"Flow_route_gateway_to_review_merge",  # the loop: not decided at the first review
            "Flow_route_gateway_to_home_cso_gateway",
            "Flow_return_home_gateway_to_permanence_at_home"} <= taken
    assert not taken & {"Flow_route_gateway_to_capr", "Flow_route_gateway_to_kinship_assessment",
                        "Flow_return_home_gateway_to_review_merge",
                        "Flow_court_order_to_court_gateway"}
    assert "capr" not in markers and not any("pace-current" in v for v in markers.values())
    assert {"element": "substantive_lar", "kind": "done", "text": "Done ×2"} in state["overlays"]
    # Time in each step, who completed it; the script and the diagram come from /static only.
    assert "Time in each step" in page and "Permanence at home" in page
    assert not re.findall(r"<script(?![^>]*\bsrc=\"/static/)[^>]*>", page)  # no inline script
    assert 'src="/static/js/audit-diagram.mjs"' in page
    with aw.database.transaction() as session:
        model = session.get(ProcessInstance, instance_of(aw, "finished").id).model
        assert 'id="legal_referral"' in model.bpmn_xml
    assert "data-bpmn=\"&lt;?xml" in page or "data-bpmn=\"&lt;bpmn" in page


def test_diagram_of_a_running_journey_shows_the_current_task(aw):
    page = auditor(aw).get(f"/audit/children/{aw.children['north']}/diagram").get_data(
        as_text=True)
    markers = _state(page)["markers"]
    assert "pace-current" in markers["legal_referral"]
    assert "pace-done" in markers["interim_lar"] and "legal_opinion" not in markers
    assert "pace-taken" in markers["Flow_interim_lar_to_legal_referral"]
    assert "Open for" in page
    cso = _state(auditor(aw).get(f"/audit/children/{aw.children['cso']}/diagram")
                 .get_data(as_text=True))["markers"]
    assert "pace-done" in cso["review_alert"] and "pace-current" in cso["schedule_aim1_review"]
    assert "pace-passed" in cso["review_loop"]


def test_an_element_shows_its_own_events(aw):
    child = aw.children["finished"]
    page = auditor(aw).get(f"/audit/children/{child}/diagram?element=legal_referral"
                           ).get_data(as_text=True)
    assert "Events for “Send referral for legal advice”" in page
    shown = re.findall(r'<tr class="govuk-table__row" data-element="([^"]*)">', page)
    hidden = re.findall(r'<tr class="govuk-table__row" data-element="([^"]*)" hidden>', page)
    assert set(shown) == {"legal_referral"} and hidden
    assert "Show every event in this process" in page


def test_a_long_process_lists_one_steps_events_at_a_time(aw, monkeypatch):
    monkeypatch.setattr(audit_views, "DIAGRAM_ROWS", 3)
    client = auditor(aw)
    child = aw.children["finished"]
    page = client.get(f"/audit/children/{child}/diagram").get_data(as_text=True)
    assert len(re.findall(r'<tr class="govuk-table__row" data-element=', page)) == 3
    assert 'data-complete="false"' in page and "Select a step to list its events" in page
    page = client.get(f"/audit/children/{child}/diagram?element=substantive_lar"
                      ).get_data(as_text=True)
    shown = re.findall(r'<tr class="govuk-table__row" data-element="([^"]*)"', page)
    assert shown == ["substantive_lar"] * 3  # ready and done twice: the first three
    assert "the first 3 of this step’s are listed" in page


def test_diagram_of_another_childs_instance_is_not_found(aw):
    client = auditor(aw)
    other = instance_of(aw, "south").id
    assert client.get(f"/audit/children/{aw.children['north']}/diagram?instance={other}"
                      ).status_code == 404


# -- export and verification ------------------------------------------------------------------
def test_exports_verify_offline(aw, tmp_path):
    client = auditor(aw)
    child = aw.children["finished"]
    runner = aw.app.test_cli_runner()
    for url in (f"/audit/children/{child}/export?format=csv",
                f"/audit/children/{child}/export?format=json",
                f"/audit/export?since={date.today() - timedelta(days=800)}&format=csv",
                "/audit/export?format=json"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment; filename=")
        body = response.get_data(as_text=True)
        rows = audit_export.read_export(body)
        assert rows and audit_export.verify_rows(rows) is None, url
        if "/children/" in url:
            assert {r["subject_id"] for r in rows} == {child}
        path = tmp_path / "export.txt"
        path.write_text(body, encoding="utf-8")
        result = runner.invoke(args=["audit", "verify-export", str(path)])
        assert result.exit_code == 0 and result.output.startswith("intact"), result.output
    # What was typed is exported exactly, as data.
    assert INJECTION in json.dumps(audit_export.read_export(client.get(
        f"/audit/children/{child}/export?format=json").get_data(as_text=True)),
        ensure_ascii=False).replace("\\", "")


def test_range_export_asks_again_for_impossible_dates(aw):
    client = auditor(aw)
    form = client.get("/audit/export")
    assert form.status_code == 200 and "Download CSV" in form.get_data(as_text=True)
    bad = client.get("/audit/export?since=2026-02-30&format=csv")
    assert bad.status_code == 400 and "From date must be a real date" in bad.get_data(as_text=True)
    backwards = client.get("/audit/export?since=2026-02-02&until=2026-02-01&format=csv")
    assert backwards.status_code == 400
    assert "To date must be the same as or after" in backwards.get_data(as_text=True)
    assert client.get("/audit/children/1/export?format=xml").status_code in (400, 404)


def test_verify_page_reports_intact_or_the_first_broken_link(aw, monkeypatch):
    monkeypatch.setattr(audit_views, "VERIFY_BATCH", 2)  # several transactions, as at scale
    client = auditor(aw)
    child = aw.children["north"]
    page = client.get("/audit/verify").get_data(as_text=True)
    assert "Intact" in page and "Broken" not in page
    victim = events(aw, chain=f"subject:{child}")[3]
    with aw.database.engine.begin() as conn:  # an edit made straight in SQL
        conn.execute(update(AuditEvent).where(AuditEvent.id == victim.id)
                     .values(actor="someone.else"))
    try:
        for url in ("/audit/verify", f"/audit/verify?child={child}"):
            page = client.get(url).get_data(as_text=True)
            assert "Broken: the record has been altered" in page, url
            assert f"event {victim.id} (chain subject:{child}, #{victim.chain_seq})" in page
            assert "the row was edited" in page
            assert f"/audit/children/{child}?page=1#event-{victim.chain_seq}" in page
        # Another child's chain is unaffected.
        page = client.get(f"/audit/verify?child={aw.children['south']}").get_data(as_text=True)
        assert "Intact" in page
        result = aw.app.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 1 and f"event {victim.id}" in result.output
    finally:
        with aw.database.engine.begin() as conn:
            conn.execute(update(AuditEvent).where(AuditEvent.id == victim.id)
                         .values(actor=victim.actor))
    with aw.database.transaction() as session:
        assert audit.verify(session) is None


# -- event coverage (issue 6, item 2) ---------------------------------------------------------
REQUIRED_EVENTS = ("instance_started", "instance_completed", "task_ready", "task_claimed",
                   "task_released", "task_reassigned", "task_completed", "draft_saved",
                   "timer_fired", "reminder_sent", "escalated", "instance_migrated",
                   "model_deployed", "signed_in", "sign_in_failed", "record_viewed")


def test_every_required_event_is_recorded_by_the_code_and_labelled():
    source = "\n".join(p.read_text(encoding="utf-8") for folder in ("engine", "web", "workflows")
                       for p in (ROOT / folder).rglob("*.py"))
    recorded = set(re.findall(r'audit\.record\(\s*\w+,\s*"([a-z_]+)"', source))
    recorded |= {"record_viewed"}  # web/audit_views._viewed passes the type through
    assert set(REQUIRED_EVENTS) <= recorded, set(REQUIRED_EVENTS) - recorded
    assert set(REQUIRED_EVENTS) <= set(audit_views.EVENT_LABELS)


def test_the_worlds_trail_holds_them(aw):
    assert auditor(aw).get(f"/audit/children/{aw.children['cso']}").status_code == 200
    client = aw.app.test_client()
    bad = client.post("/sign-in", data={"username": "auditor", "password": "wrong",
                                         "csrf_token": csrf_token(client)})
    assert bad.status_code == 401
    with aw.database.transaction() as session:
        found = set(session.scalars(select(AuditEvent.event_type).distinct()))
        completed = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "task_completed",
            AuditEvent.subject_id == aw.children["finished"])).all()
    # instance_migrated: tests/integration/test_migration.py migrates instances
    missing = set(REQUIRED_EVENTS) - found - {"instance_migrated"}
    assert not missing, missing
    answers = [e.data["answers"] for e in completed if e.data.get("task") == "legal_referral"]
    assert answers and answers[0]["questions"] == INJECTION


def test_views_are_scoped_to_the_auditors_teams(aw):
    """An auditor given a team sees that team's children only, and no whole-store views."""
    with aw.database.transaction() as session:
        if session.scalar(select(UserAccount).where(UserAccount.username == "auditor.north")) \
                is None:
            from workflows import accounts
            accounts.create_user(session, "auditor.north", "North Auditor", demo.DEMO_PASSWORD,
                                 ["auditor"], "north", actor="test",
                                 password_hash=demo._demo_password_hash())
    client = cached_client(aw, "auditor.north")
    assert client.get(f"/audit/children/{aw.children['north']}").status_code == 200
    assert client.get(f"/audit/children/{aw.children['south']}").status_code == 404
    assert client.get(f"/audit/children/{aw.children['south']}/export").status_code == 404
    assert "S0001" not in client.get("/audit?q=0001").get_data(as_text=True)
    assert client.get("/audit/verify").status_code == 403
    assert client.get("/audit/export?format=csv").status_code == 403
