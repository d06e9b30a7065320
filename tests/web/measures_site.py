"""The constructed caseload of the measures' page, export and API tests (the ``site``
fixture in conftest.py), with the helpers those tests share.

North: 14 children accommodated a month apart from January 2024, every third one decided
late, one never decided; south: two children, one overdue. CSO children in both teams.
Written into the index tables the runtime maintains.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from engine.models import Milestone, ProcessInstance, ProcessModel, Subject
from workflows.demo import scotland as demo
from workflows.app import Database
from workflows.vocabulary import CSO_HOME, PERMANENCE

from .conftest import sign_in
from .journeys import make_app

ON = "2026-01-15"
D = date.fromisoformat


def _child(session, model, reference, team, rows, process_id=PERMANENCE):
    child = Subject(reference=reference, display_name=f"Child {reference}", team=team,
                    date_of_birth=D("2018-01-01"), attributes={})
    session.add(child)
    session.flush()
    instance = ProcessInstance(subject_id=child.id, process_id=process_id, model_id=model.id,
                               status="running", state="{}", version=1,
                               started_at=datetime(2024, 1, 1, tzinfo=timezone.utc))
    session.add(instance)
    session.flush()
    for code, actual, data in rows:
        session.add(Milestone(instance_id=instance.id, subject_id=child.id, process_id=process_id,
                              model_version=model.version, code=code, occurrence=1,
                              actual_date=actual, data=data))
    return child.id


def build_site(database: Database) -> dict:
    """The caseload, the app over it, the children's ids and a cache of signed-in clients."""
    ids = {}
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
        models = {m.process_id: m for m in session.scalars(select(ProcessModel))}
        perm, cso = models[PERMANENCE], models[CSO_HOME]
        for i in range(14):
            la = D("2024-01-05") + timedelta(days=31 * i)
            rows = [("LA_START", la, {}), ("PLANNING_MTG", la + timedelta(days=3), {})]
            if i != 13:
                late = i % 3 == 0
                rows.append(("PERM_RECOMMENDATION", la + timedelta(weeks=34 if late else 26),
                             {"route": "adoption" if i % 2 else "home"}))
            ids[f"N{i:02d}"] = _child(session, perm, f"N{i:02d}", "north", rows)
        ids["S00"] = _child(session, perm, "S00", "south", [("LA_START", D("2024-03-01"), {})])
        ids["S01"] = _child(session, perm, "S01", "south", [
            ("LA_START", D("2024-03-01"), {}),
            ("PERM_RECOMMENDATION", D("2024-06-01"), {"route": "kinship"})])
        ids["CN"] = _child(session, cso, "CN", "north", [
            ("CSO_START", D("2023-01-01"), {}),
            ("AIM1_REVIEW", D("2024-06-01"), {"recommendation": "terminate"})], CSO_HOME)
        ids["CS"] = _child(session, cso, "CS", "south", [("CSO_START", D("2023-02-01"), {})], CSO_HOME)
    return {"db": database, "app": make_app(database), "ids": ids, "clients": {}}


def client(site, user):
    if user not in site["clients"]:
        c = site["app"].test_client()
        site["clients"][user] = sign_in(c, user) if user != "anonymous" else c
    return site["clients"][user]


def text(response) -> str:
    return response.get_data(as_text=True)
