"""RBAC matrix: every role (and anonymous) against every route, on both databases.

The expected statuses are written out by hand, not derived from web/security/access.py, so a
change in the rules shows up here as a reviewed diff. 404 means "outside your team's
records" (existence not disclosed); 403 means "not a page for your roles".
"""
from __future__ import annotations

import pytest

from . import case_file_records, document_records
from .conftest import cached_client, csrf_token, hold, sign_in

USERS = ["anonymous", "sw.north", "tl.north", "sw.south", "tl.south", "chair", "legal", "panel",
         "adm", "manager", "owner", "auditor", "admin"]

# route: (setup holder of the north referral, statuses in USERS order)
MATRIX = {
    # anon sw.n tl.n sw.s tl.s chair legal panel adm  mgr  owner audit admin
    # home sends each role on to its work (web/security/sign_in.py LANDINGS)
    "GET /": (None,
     "302  302  302  302  302  302   302   302   302  302  302   302   302"),
    "GET /sign-in": (None,
     "200  302  302  302  302  302   302   302   302  302  302   302   302"),
    "GET /my-work": (None,
     "302  200  200  200  200  200   200   200   200  200  403   403   403"),
    "GET /team-queue": (None,
     "302  200  200  200  200  200   200   200   200  200  403   403   403"),
    "GET /children": (None,
     "302  200  200  200  200  200   200   200   200  200  403   200   403"),
    "GET /children/{north}": (None,
     "302  200  200  404  404  200   200   200   200  200  403   200   403"),
    "GET /children/{south}": (None,
     "302  404  404  200  200  200   200   200   200  200  403   200   403"),
    "GET /children/999999": (None,
     "302  404  404  404  404  404   404   404   404  404  403   404   403"),
    # adding a child (workflows/services/children.py): on every enabled profile; a single
    # profile goes straight to its form, a profile not enabled is not there
    "GET /children/new": (None,
     "302  302  302  302  302  403   403   403   403  302  403   403   403"),
    "GET /children/new/scotland": (None,
     "302  200  200  200  200  403   403   403   403  200  403   403   403"),
    "POST /children/new/england": (None,
     "302  404  404  404  404  403   403   403   403  404  403   403   403"),
    # case notes and attachments (web/pages/case_file.py): read by all who see the child,
    # written by the lane roles among them, not auditors. The POSTs carry no text or file:
    # 422 "Enter the note" / "Choose the file" where allowed, nothing written. {note} is a
    # note sw.north wrote a moment ago: theirs to change, others are sent back with why.
    "POST /children/{north}/notes": (None,
     "302  422  422  404  404  422   422   422   422  422  403   403   403"),
    "POST /tasks/{t_north}/notes": (None,
     "302  422  422  404  404  404   404   404   404  422  403   403   403"),
    "GET /notes/{note}/edit": (None,
     "302  200  302  404  404  302   302   302   302  302  403   302   403"),
    "POST /notes/999999/edit": (None,
     "302  404  404  404  404  404   404   404   404  404  403   403   403"),
    "POST /children/{north}/attachments": (None,
     "302  422  422  404  404  422   422   422   422  422  403   403   403"),
    "POST /tasks/{t_north}/attachments": (None,
     "302  422  422  404  404  404   404   404   404  422  403   403   403"),
    "GET /attachments/{attachment}": (None,
     "302  200  200  404  404  200   200   200   200  200  403   200   403"),
    "GET /attachments/999999": (None,
     "302  404  404  404  404  404   404   404   404  404  403   404   403"),
    # generated documents (web/pages/documents.py): read by all who see the child, made
    # again by the lane roles among them (not auditors); a draft's Word templates: owners
    # (draft 999999 does not exist: 404 for them, 403 for every other role)
    "POST /work-items/{t_done}/document": (None,
     "302  302  302  404  404  302   302   302   302  302  403   403   403"),
    "GET /documents/{document}": (None,
     "302  200  200  404  404  200   200   200   200  200  403   200   403"),
    "GET /documents/{document}/read": (None,
     "302  200  200  404  404  200   200   200   200  200  403   200   403"),
    "GET /documents/999999": (None,
     "302  404  404  404  404  404   404   404   404  404  403   404   403"),
    "GET /models/drafts/999999/documents": (None,
     "302  403  403  403  403  403   403   403   403  403  404   403   403"),
    "GET /models/drafts/999999/documents/minute.docx/preview": (None,
     "302  403  403  403  403  403   403   403   403  403  404   403   403"),
    "POST /models/drafts/999999/documents/minute.docx/remove": (None,
     "302  403  403  403  403  403   403   403   403  403  404   403   403"),
    "GET /overview": (None,
     "302  403  200  403  200  403   403   403   403  200  403   403   403"),
    # "My team's work" (web/pages/team_work.py): every open task of the teams a manager oversees
    "GET /team-work": (None,
     "302  403  200  403  200  403   403   403   403  200  403   403   403"),
    # the child's allocated worker (web/pages/allocation.py): their team's managers; the
    # empty POST changes nothing (422: choose a worker)
    "GET /children/{north}/allocated-worker": (None,
     "302  403  200  403  404  403   403   403   403  200  403   403   403"),
    "POST /children/{north}/allocated-worker": (None,
     "302  403  422  403  404  403   403   403   403  422  403   403   403"),
    # ending a child's journey early (web/pages/journey_endings.py): their team's managers;
    # the empty POST ends nothing (422: choose a reason, enter the date)
    "GET /children/{north}/end-early": (None,
     "302  403  200  403  404  403   403   403   403  200  403   403   403"),
    "POST /children/{north}/end-early": (None,
     "302  403  422  403  404  403   403   403   403  422  403   403   403"),
    "GET /tasks/{t_north}": (None,
     "302  200  200  404  404  404   404   404   404  200  403   403   403"),
    "GET /tasks/{t_south}": (None,
     "302  404  404  200  200  404   404   404   404  200  403   403   403"),
    "GET /tasks/{t_north_legal}": (None,
     "302  404  200  404  404  404   200   404   404  200  403   403   403"),
    "GET /tasks/999999": (None,
     "302  404  404  404  404  404   404   404   404  404  403   403   403"),
    "POST /tasks/{t_north}/claim": (None,
     "302  302  403  404  404  404   404   404   404  403  403   403   403"),
    "POST /tasks/{t_north}/release": ("sw2.north",
     "302  403  302  404  404  404   404   404   404  302  403   403   403"),
    "POST /tasks/{t_north}/reassign": (None,
     "302  403  302  404  404  404   404   404   404  302  403   403   403"),
    "POST /tasks/{t_north}": (None,  # save a draft
     "302  302  403  404  404  404   404   404   404  403  403   403   403"),
    # notification centre (web/pages/notifications.py); {t_north} stands in for a notification id
    # or outbox row that is not the user's: nothing changes, the user is sent back.
    "GET /notifications": (None,
     "302  200  200  200  200  200   200   200   200  200  200   200   200"),
    "GET /notifications/preferences": (None,
     "302  200  200  200  200  200   200   200   200  200  200   200   200"),
    "POST /notifications/preferences": (None,
     "302  302  302  302  302  302   302   302   302  302  302   302   302"),
    "POST /notifications/{t_north}/read": (None,
     "302  302  302  302  302  302   302   302   302  302  302   302   302"),
    "POST /notifications/read-all": (None,
     "302  302  302  302  302  302   302   302   302  302  302   302   302"),
    "GET /notifications/outbox": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "POST /notifications/outbox/{t_north}/retry": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   302"),
    # auditor pages (web/pages/audit.py): read-only, for the auditor alone; each view audited
    "GET /audit": (None,
     "302  403  403  403  403  403   403   403   403  403  403   200   403"),
    "GET /audit/verify": (None,
     "302  403  403  403  403  403   403   403   403  403  403   200   403"),
    "GET /audit/export": (None,
     "302  403  403  403  403  403   403   403   403  403  403   200   403"),
    "GET /audit/children/{north}": (None,
     "302  403  403  403  403  403   403   403   403  403  403   200   403"),
    "GET /audit/children/{south}": (None,
     "302  403  403  403  403  403   403   403   403  403  403   200   403"),
    "GET /audit/children/{north}/diagram": (None,
     "302  403  403  403  403  403   403   403   403  403  403   200   403"),
    "GET /audit/children/{north}/export": (None,
     "302  403  403  403  403  403   403   403   403  403  403   200   403"),
    "GET /audit/children/999999": (None,
     "302  403  403  403  403  403   403   403   403  403  403   404   403"),
    # process models (web/pages/process_models.py): managers, auditors and admins read; owners change
    "GET /models": (None,
     "302  403  403  403  403  403   403   403   403  200  200   200   200"),
    "GET /models/permanence_journey": (None,
     "302  403  403  403  403  403   403   403   403  200  200   200   200"),
    "GET /models/permanence_journey/versions/1": (None,
     "302  403  403  403  403  403   403   403   403  200  200   200   200"),
    "GET /models/permanence_journey/versions/1.zip": (None,
     "302  403  403  403  403  403   403   403   403  200  200   200   200"),
    "GET /models/no_such_process": (None,
     "302  403  403  403  403  403   403   403   403  404  404   404   404"),
    "GET /models/upload": (None,
     "302  403  403  403  403  403   403   403   403  403  200   403   403"),
    "GET /models/permanence_journey/versions/1/migrate": (None,
     "302  403  403  403  403  403   403   403   403  403  200   403   403"),
    "GET /models/permanence_journey/versions/1/migrate.csv": (None,
     "302  403  403  403  403  403   403   403   403  403  200   403   403"),
    "GET /models/permanence_journey/compare": (None,
     "302  403  403  403  403  403   403   403   403  200  200   200   200"),
    "POST /models/permanence_journey/drafts": (None,  # starts a draft: nothing deployed
     "302  403  403  403  403  403   403   403   403  403  302   403   403"),
    # teams and people (web/pages/people.py): administrators only. The POSTs change nothing:
    # an empty form (422) or a team or person that does not exist (404).
    "GET /teams": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "GET /teams/new": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "POST /teams/new": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   422"),
    "GET /teams/north/rename": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "POST /teams/nowhere/rename": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   404"),
    "GET /teams/north/close": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "POST /teams/nowhere/close": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   404"),
    "GET /people": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "GET /people/new": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "POST /people/new": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   422"),
    "GET /people/sw.north": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "GET /people/nobody": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   404"),
    "GET /people/sw.north/edit": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "POST /people/nobody/edit": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   404"),
    "GET /people/sw.north/password": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "POST /people/nobody/password": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   404"),
    "GET /people/sw.north/deactivate": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    "POST /people/nobody/deactivate": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   404"),
    "POST /people/nobody/reactivate": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   404"),
    "GET /roles": (None,
     "302  403  403  403  403  403   403   403   403  403  403   403   200"),
    # sign-in through the council's provider (web/security/oidc_views.py): not there without
    # one, as in this world (tests/oidc signs in through real providers); the page the
    # provider sends the browser to after its sign-out is open to everyone
    "GET /sign-in/oidc": (None,
     "404  404  404  404  404  404   404   404   404  404  404   404   404"),
    "GET /sign-in/oidc/callback": (None,
     "404  404  404  404  404  404   404   404   404  404  404   404   404"),
    "GET /signed-out": (None,
     "200  200  200  200  200  200   200   200   200  200  200   200   200"),
}
CASES = [(route, user, int(statuses.split()[index]))
         for route, (_, statuses) in MATRIX.items() for index, user in enumerate(USERS)]


@pytest.fixture
def shared(shared_world):
    return shared_world


def client(world, user: str):
    return cached_client(world, user)


def url(world, template: str) -> str:
    values = {**world.children, **{f"t_{k}": v for k, v in world.tasks.items()},
              **case_file_records.values(world, template),
              **document_records.values(world, template)}
    return template.format(**values)


@pytest.mark.xdist_group("rbac")
@pytest.mark.parametrize("route,user,expected", CASES,
                         ids=[f"{user}-{route}" for route, user, _ in CASES])
def test_status(shared, route, user, expected):
    method, template = route.split(" ", 1)
    holder = MATRIX[route][0]
    hold(shared, holder)
    test_client = client(shared, user)
    try:
        if method == "GET":
            response = test_client.get(url(shared, template))
        else:
            data = {"csrf_token": csrf_token(test_client)}
            if template.endswith("/reassign"):
                data["assignee"] = str(shared.users["sw2.north"])
                data["reason"] = "Covering a colleague's leave"
            if template.count("/") == 2:  # the task form itself
                data.update({"action": "draft", "questions": "What are the options?"})
            response = test_client.post(url(shared, template), data=data)
    finally:
        hold(shared, None)
    assert response.status_code == expected, (
        f"{user} {route}: expected {expected}, got {response.status_code}")
    if user == "anonymous" and expected == 302:
        assert response.headers["Location"].startswith("/sign-in")


@pytest.mark.xdist_group("rbac")
@pytest.mark.parametrize("user", USERS)
def test_sign_out_ends_the_session(shared, user):
    test_client = shared.app.test_client()
    if user != "anonymous":
        sign_in(test_client, user)
    response = test_client.post("/sign-out", data={"csrf_token": csrf_token(test_client)})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    after = test_client.get("/my-work")
    assert after.status_code == 302 and after.headers["Location"].startswith("/sign-in")


MATRIX_BLUEPRINTS = {"auth", "queue", "tasks", "children", "overview",  # the worker UI
                     "team_work", "allocation",  # oversight: team's work, allocated worker
                     "journey_endings",  # and ending a journey early
                     "audit",  # the auditor pages
                     "people_admin",  # and the administrators' teams and people
                     "oidc",  # and sign-in through the council's provider
                     "case_file",  # and case notes and attachments
                     "documents"}  # and generated documents, a draft's Word templates


def test_matrix_covers_every_worker_ui_route(shared):
    """A new worker-UI route must be added to the matrix, so it gets a decision per role.
    (Other features' blueprints keep their own role tables.)"""
    covered = {route.split(" ", 1)[1] for route in MATRIX} | {"/sign-out"}
    placeholders = {"{north}": "<int:subject_id>", "{south}": "<int:subject_id>",
                    "/children/999999": "/children/<int:subject_id>",
                    "/tasks/999999": "/tasks/<int:item_id>", "{t_north}": "<int:item_id>",
                    "{t_south}": "<int:item_id>", "{t_north_legal}": "<int:item_id>",
                    "/children/new/scotland": "/children/new/<profile>",
                    "/children/new/england": "/children/new/<profile>",
                    "/teams/north/": "/teams/<code>/", "/teams/nowhere/": "/teams/<code>/",
                    "/people/sw.north": "/people/<username>",
                    "/people/nobody": "/people/<username>",
                    "{note}": "<int:note_id>", "/notes/999999": "/notes/<int:note_id>",
                    "{attachment}": "<int:attachment_id>",
                    "/attachments/999999": "/attachments/<int:attachment_id>",
                    "{t_done}": "<int:item_id>", "{document}": "<int:document_id>",
                    "/documents/999999": "/documents/<int:document_id>",
                    "/drafts/999999/": "/drafts/<int:draft_id>/",
                    "/minute.docx/": "/<name>/"}
    normalised = set()
    for path in covered:
        for old, new in placeholders.items():
            path = path.replace(old, new)
        normalised.add(path)
    routes = {rule.rule for rule in shared.app.url_map.iter_rules()
              if rule.endpoint.split(".")[0] in MATRIX_BLUEPRINTS}
    assert routes <= normalised, f"routes missing from the RBAC matrix: {routes - normalised}"


# Routes a page's script calls (drafts saved while typing, "Stay signed in"): signed out,
# they answer 401 with a message and the script sends the worker to the sign-in page.
SCRIPT_ENDPOINTS = {"task_drafts.autosave", "session_timeout.keep_alive"}


@pytest.mark.xdist_group("rbac")
def test_anonymous_is_sent_to_sign_in_from_every_route(shared):
    """Every route of every blueprint, not only the worker UI's."""
    anonymous = shared.app.test_client()
    token = csrf_token(anonymous)
    wrong = []
    for rule in shared.app.url_map.iter_rules():
        if rule.endpoint in ("static", "auth.sign_in", "auth.sign_in_post", "auth.sign_out",
                             "oidc.start", "oidc.callback", "oidc.signed_out"):
            continue
        if rule.rule.startswith("/api/"):  # JSON API: 401 without a token (test_api_rbac.py)
            continue
        path = "/".join("1" if part.startswith("<") else part for part in rule.rule.split("/"))
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = anonymous.open(path, method=method, data={"csrf_token": token}
                                      if method == "POST" else None)
            if rule.endpoint in SCRIPT_ENDPOINTS and response.status_code == 401:
                continue  # called by a page's script, which then shows the sign-in page
            if response.status_code not in (302, 303) or \
                    not response.headers["Location"].startswith("/sign-in"):
                wrong.append(f"{method} {path}: {response.status_code}")
    assert not wrong, wrong


@pytest.mark.xdist_group("rbac")
def test_social_worker_never_sees_another_teams_children(shared):
    north = client(shared, "sw.north")
    south_child = url(shared, "/children/{south}")
    listing = north.get("/children").get_data(as_text=True)
    assert "South Child" not in listing and "North Child" in listing
    for path in ("/my-work", "/team-queue", "/children?q=south", "/team-queue?child=south",
                 "/children?q=S0001"):
        page = north.get(path).get_data(as_text=True)
        assert "South Child" not in page and f'/children/{shared.children["south"]}"' \
            not in page, path
    assert north.get(south_child).status_code == 404
    assert north.get(url(shared, "/tasks/{t_south}")).status_code == 404
    assert "North Child" not in client(shared, "sw.south").get("/children").get_data(as_text=True)
