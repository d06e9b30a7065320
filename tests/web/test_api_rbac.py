"""The API's RBAC matrix: every role (and no token) against every /api/v1 route, on both
databases. Statuses are written out by hand and match the worker UI's matrix
(tests/web/test_rbac.py) where the UI has the same page: 401 instead of a redirect to
sign-in, 200 instead of a redirect after a POST, 404 for records outside the caller's team.
"""
from __future__ import annotations

from datetime import date

import pytest

from engine.models import WorkItem
from workflows.measures import pdsa

from workflows.services import documents as document_service

from . import document_records
from .api_client import api
from .conftest import hold

USERS = ["anonymous", "sw.north", "tl.north", "sw.south", "tl.south", "chair", "legal", "panel",
         "adm", "manager", "owner", "auditor", "admin"]
P = "/api/v1"
# route: (holder of the north referral before the call, JSON body, statuses in USERS order)
MATRIX = {
    # anon sw.n tl.n sw.s tl.s chair legal panel adm  mgr  owner audit admin
    f"GET {P}/me": (None, None,
     "401  200  200  200  200  200   200   200   200  200  200   200   200"),
    f"GET {P}/tokens": (None, None,
     "401  200  200  200  200  200   200   200   200  200  200   200   200"),
    f"POST {P}/tokens": (None, {},  # an empty body: 422 for everyone signed in
     "401  422  422  422  422  422   422   422   422  422  422   422   422"),
    f"GET {P}/queues/my-work": (None, None,
     "401  200  200  200  200  200   200   200   200  200  403   403   403"),
    f"GET {P}/queues/team": (None, None,
     "401  200  200  200  200  200   200   200   200  200  403   403   403"),
    f"GET {P}/children": (None, None,
     "401  200  200  200  200  200   200   200   200  200  403   200   403"),
    f"GET {P}/children/{{north}}": (None, None,
     "401  200  200  404  404  200   200   200   200  200  403   200   403"),
    f"GET {P}/children/{{south}}": (None, None,
     "401  404  404  200  200  200   200   200   200  200  403   200   403"),
    f"GET {P}/children/999999": (None, None,
     "401  404  404  404  404  404   404   404   404  404  403   404   403"),
    f"POST {P}/children": (None, {},  # an empty body: 422 for those who may register
     "401  422  422  422  422  403   403   403   403  422  403   403   403"),
    f"GET {P}/instances/{{i_north}}": (None, None,
     "401  200  200  404  404  200   200   200   200  200  403   200   403"),
    f"GET {P}/instances/{{i_south}}/history": (None, None,
     "401  404  404  200  200  200   200   200   200  200  403   200   403"),
    f"GET {P}/work-items/{{t_north}}": (None, None,
     "401  200  200  404  404  404   404   404   404  200  403   403   403"),
    f"GET {P}/work-items/{{t_south}}": (None, None,
     "401  404  404  200  200  404   404   404   404  200  403   403   403"),
    f"GET {P}/work-items/{{t_north_legal}}": (None, None,
     "401  404  200  404  404  404   200   404   404  200  403   403   403"),
    f"GET {P}/work-items/999999": (None, None,
     "401  404  404  404  404  404   404   404   404  404  403   403   403"),
    f"POST {P}/work-items/{{t_north}}/claim": (None, None,
     "401  200  403  404  404  404   404   404   404  403  403   403   403"),
    f"POST {P}/work-items/{{t_north}}/release": ("sw2.north", None,
     "401  403  200  404  404  404   404   404   404  200  403   403   403"),
    # the child's allocated worker: their team's managers; an unknown worker changes nothing
    f"PUT {P}/children/{{north}}/allocated-worker": (None, {"worker": "nobody"},
     "401  403  422  403  404  403   403   403   403  422  403   403   403"),
    f"POST {P}/work-items/{{t_north}}/reassign": (None, {"assignee": "sw2.north",
                                                        "reason": "Covering leave"},
     "401  403  200  404  404  404   404   404   404  200  403   403   403"),
    f"PUT {P}/work-items/{{t_north}}/draft": (None, {"data": {"questions": "Options?"}},
     "401  200  403  404  404  404   404   404   404  403  403   403   403"),
    f"POST {P}/work-items/{{t_north}}/complete": (None, {"data": {}},  # invalid: nothing done
     "401  422  403  404  404  404   404   404   404  403  403   403   403"),
    f"GET {P}/process-models": (None, None,
     "401  200  200  200  200  200   200   200   200  200  200   200   200"),
    f"GET {P}/measures/aims": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    f"GET {P}/measures/aims/2": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    # Lists naming children: team leaders, service managers and auditors (as the pages).
    f"GET {P}/measures/aims/2/children": (None, None,
     "401  403  200  403  200  403   403   403   403  200  403   200   403"),
    f"GET {P}/measures/aims/2/run-chart": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    f"GET {P}/measures/stage-delays": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    f"GET {P}/measures/survival": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    f"GET {P}/measures/forecast": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    f"GET {P}/measures/forecast/children": (None, None,
     "401  403  200  403  200  403   403   403   403  200  403   200   403"),
    f"GET {P}/measures/definitions": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    # Data quality: every measures role (the children named only for some, tested apart).
    f"GET {P}/measures/data-quality": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    # The national aggregate covers the whole council: not for a team leader.
    f"GET {P}/measures/aggregate": (None, None,
     "401  403  403  403  403  403   403   403   403  200  200   200   200"),
    f"GET {P}/measures/aggregate.csv": (None, None,
     "401  403  403  403  403  403   403   403   403  200  200   200   200"),
    # An aim's settings: read by the measures roles, changed by process owners and admins.
    f"GET {P}/measures/aims/2/settings": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    f"PUT {P}/measures/aims/2/settings": (None, {},  # an empty body: 422 for those who may
     "401  403  403  403  403  403   403   403   403  403  422   403   422"),
    # PDSA cycles: read by the measures roles, recorded by process owners and service managers.
    f"GET {P}/pdsa-cycles": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    f"POST {P}/pdsa-cycles": (None, {},  # an empty body: 422 for those who may record
     "401  403  403  403  403  403   403   403   403  422  422   403   403"),
    f"GET {P}/pdsa-cycles/{{pdsa}}": (None, None,
     "401  403  200  403  200  403   403   403   403  200  200   200   200"),
    f"GET {P}/pdsa-cycles/999999": (None, None,
     "401  403  404  403  404  403   403   403   403  404  404   404   404"),
    f"PUT {P}/pdsa-cycles/{{pdsa}}": (None, {"study": "Two of three reviews on time"},
     "401  403  403  403  403  403   403   403   403  200  200   403   403"),
}
# Teams and people (web/api/people.py): administrators only. The writes change nothing: an
# empty body (422) or a team or person that does not exist (404).
MATRIX.update({
    # anon sw.n tl.n sw.s tl.s chair legal panel adm  mgr  owner audit admin
    f"GET {P}/teams": (None, None,
     "401  403  403  403  403  403   403   403   403  403  403   403   200"),
    f"POST {P}/teams": (None, {},
     "401  403  403  403  403  403   403   403   403  403  403   403   422"),
    f"GET {P}/teams/{{team}}": (None, None,
     "401  403  403  403  403  403   403   403   403  403  403   403   200"),
    f"PATCH {P}/teams/{{nowhere}}": (None, {"name": "Nowhere"},
     "401  403  403  403  403  403   403   403   403  403  403   403   404"),
    f"POST {P}/teams/{{nowhere}}/close": (None, None,
     "401  403  403  403  403  403   403   403   403  403  403   403   404"),
    f"GET {P}/people": (None, None,
     "401  403  403  403  403  403   403   403   403  403  403   403   200"),
    f"POST {P}/people": (None, {},
     "401  403  403  403  403  403   403   403   403  403  403   403   422"),
    f"GET {P}/people/{{person}}": (None, None,
     "401  403  403  403  403  403   403   403   403  403  403   403   200"),
    f"PATCH {P}/people/{{nobody}}": (None, {"display_name": "Nobody"},
     "401  403  403  403  403  403   403   403   403  403  403   403   404"),
    f"PUT {P}/people/{{nobody}}/password": (None, {"password": None},
     "401  403  403  403  403  403   403   403   403  403  403   403   404"),
    f"POST {P}/people/{{nobody}}/deactivate": (None, None,
     "401  403  403  403  403  403   403   403   403  403  403   403   404"),
    f"POST {P}/people/{{nobody}}/reactivate": (None, None,
     "401  403  403  403  403  403   403   403   403  403  403   403   404"),
    f"GET {P}/roles": (None, None,
     "401  403  403  403  403  403   403   403   403  403  403   403   200"),
})
# The deployment's settings (web/api/settings.py): administrators and process owners. The
# change is an empty body (422): nothing is saved.
MATRIX.update({
    # anon sw.n tl.n sw.s tl.s chair legal panel adm  mgr  owner audit admin
    f"GET {P}/settings": (None, None,
     "401  403  403  403  403  403   403   403   403  403  200   403   200"),
    f"PATCH {P}/settings": (None, {},
     "401  403  403  403  403  403   403   403   403  403  422   403   422"),
})
# Case notes and attachments (web/api/case_file.py): read by all who see the child, written
# by the lane roles among them (not auditors: 403 before the body is read). The writes
# carry no text or file (422): nothing is written.
MATRIX.update({
    # anon sw.n tl.n sw.s tl.s chair legal panel adm  mgr  owner audit admin
    f"GET {P}/children/{{north}}/notes": (None, None,
     "401  200  200  404  404  200   200   200   200  200  403   200   403"),
    f"POST {P}/children/{{north}}/notes": (None, {},
     "401  422  422  422  422  422   422   422   422  422  403   403   403"),
    f"GET {P}/work-items/{{t_north}}/notes": (None, None,
     "401  200  200  404  404  404   404   404   404  200  403   404   403"),
    f"POST {P}/work-items/{{t_north}}/notes": (None, {},
     "401  422  422  422  422  422   422   422   422  422  403   403   403"),
    f"PUT {P}/notes/999999": (None, {"text": "Changed"},
     "401  404  404  404  404  404   404   404   404  404  403   403   403"),
    f"GET {P}/children/{{north}}/attachments": (None, None,
     "401  200  200  404  404  200   200   200   200  200  403   200   403"),
    f"POST {P}/children/{{north}}/attachments": (None, None,
     "401  422  422  422  422  422   422   422   422  422  403   403   403"),
    f"GET {P}/work-items/{{t_north}}/attachments": (None, None,
     "401  200  200  404  404  404   404   404   404  200  403   404   403"),
    f"POST {P}/work-items/{{t_north}}/attachments": (None, None,
     "401  422  422  422  422  422   422   422   422  422  403   403   403"),
    f"GET {P}/attachments/999999": (None, None,
     "401  404  404  404  404  404   404   404   404  404  403   404   403"),
})
# Generated documents (web/api/documents.py): read and downloaded by all who see the child,
# made again by the lane roles among them (not auditors: 403).
MATRIX.update({
    # anon sw.n tl.n sw.s tl.s chair legal panel adm  mgr  owner audit admin
    f"GET {P}/children/{{north}}/documents": (None, None,
     "401  200  200  404  404  200   200   200   200  200  403   200   403"),
    f"GET {P}/documents/{{document}}": (None, None,
     "401  200  200  404  404  200   200   200   200  200  403   200   403"),
    f"GET {P}/documents/999999": (None, None,
     "401  404  404  404  404  404   404   404   404  404  403   404   403"),
    f"POST {P}/work-items/{{t_done}}/document": (None, None,
     "401  201  201  404  404  201   201   201   201  201  403   403   403"),
})
# Ending a child's journey early (web/api/journey_endings.py): read by all who see the
# child, done by their team's managers. The body names no reason the profile knows (422):
# nothing ends.
MATRIX.update({
    # anon sw.n tl.n sw.s tl.s chair legal panel adm  mgr  owner audit admin
    f"GET {P}/children/{{north}}/early-ending": (None, None,
     "401  200  200  404  404  200   200   200   200  200  403   200   403"),
    f"POST {P}/children/{{north}}/early-ending": (None, {"reason": "nothing",
                                                        "ended_on": "2026-01-01"},
     "401  403  422  403  404  403   403   403   403  422  403   403   403"),
})
PEOPLE_VALUES = {"team": "north", "nowhere": "nowhere", "person": "sw.north", "nobody": "nobody"}
CASES = [(route, user, int(statuses.split()[index]))
         for route, (_, _, statuses) in MATRIX.items() for index, user in enumerate(USERS)]


def _pdsa_cycle(world) -> int:
    """A PDSA cycle of the world's council, recorded once."""
    if "pdsa_cycle" not in world.__dict__:
        with world.database.transaction() as session:
            world.__dict__["pdsa_cycle"] = pdsa.record_cycle(session, pdsa.CycleInput(
                aim=2, change_idea="Legal referral at 20 weeks", cycle_number=1,
                start_date=date(2025, 9, 1)), "test", world.database.settings.council).id
    return world.__dict__["pdsa_cycle"]


def _url(world, template: str) -> str:
    with world.database.transaction() as session:
        instances = {f"i_{k}": session.get(WorkItem, v).instance_id for k, v in world.tasks.items()}
    values = {**world.children, **{f"t_{k}": v for k, v in world.tasks.items()}, **instances,
              **PEOPLE_VALUES}
    if "{pdsa}" in template:
        values["pdsa"] = _pdsa_cycle(world)
    values.update(document_records.values(world, template))
    return template.format(**values)


@pytest.mark.xdist_group("api_rbac")
@pytest.mark.parametrize("route,user,expected", CASES,
                         ids=[f"{user}-{route}" for route, user, _ in CASES])
def test_status(shared_world, route, user, expected):
    method, template = route.split(" ", 1)
    holder, body = MATRIX[route][:2]
    hold(shared_world, holder)
    try:
        client = api(shared_world, None if user == "anonymous" else user)
        response = client.open(method, _url(shared_world, template), json=body)
    finally:
        hold(shared_world, None)
    assert response.status_code == expected, (
        f"{user} {route}: expected {expected}, got {response.status_code}: "
        f"{response.get_data(as_text=True)[:300]}")
    if template.endswith(".csv") and expected == 200:  # a download: CSV; refusals are JSON
        assert response.mimetype == "text/csv"
    elif template.startswith(f"{P}/documents/") and expected == 200:  # a Word download
        assert response.mimetype == document_service.DOCX
    else:
        assert response.is_json


def test_matrix_covers_every_api_route(shared_world):
    """A new API route must be added to the matrix, so it gets a decision per role."""
    covered = set()
    for route in MATRIX:
        method, path = route.split(" ", 1)
        parts = ["<id>" if part.startswith("{") or part.isdigit() else part
                 for part in path.split("/")]
        covered.add(f"{method} {'/'.join(parts)}")
    routes = set()
    for rule in shared_world.app.url_map.iter_rules():
        if not rule.rule.startswith(P) or rule.endpoint.startswith(("api-docs.", "api_docs_page.")):
            continue
        path = "/".join("<id>" if part.startswith("<") else part for part in rule.rule.split("/"))
        routes |= {f"{m} {path}" for m in rule.methods - {"HEAD", "OPTIONS"}}
    # DELETE /tokens/<id> acts on the caller's own tokens only: tested in test_api_auth.py.
    missing = routes - covered - {f"DELETE {P}/tokens/<id>"}
    assert not missing, f"API routes missing from the matrix: {missing}"
