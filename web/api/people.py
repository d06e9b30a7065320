"""Teams, people and who holds each role: administrators only, each action the service of
the administrators' pages and of ``pace team`` / ``pace user`` (``workflows.services.teams``
and ``.people``); this module only translates JSON in and out.
"""
from __future__ import annotations

from flask_smorest import Blueprint

from web.shared.database import db
from workflows import accounts
from workflows.policy import PEOPLE_ROLES
from workflows.services import people, teams

from . import auth
from .errors import documented
from .people_schemas import (HandoverSchema, NewPersonSchema, NewTeamSchema, PasswordSchema,
                             PeopleArgs, PersonChangeSchema, PersonListSchema, PersonSchema,
                             RoleListSchema, TeamListSchema, TeamRenameSchema, TeamSchema)

bp = Blueprint("people", __name__, url_prefix="/api/v1",
               description="Teams and people (administrators): create, rename and close teams; "
                           "add, change, deactivate and reactivate people; who holds each role.")
TEAM = "/teams/<string(maxlength=40):code>"
PERSON = "/people/<string(maxlength=80):username>"
auth.protect(bp)


def _team(session, code: str) -> dict:
    found = next(t for t in teams.list_teams(session, auth.principal()) if t.code == code)
    return {"code": found.code, "name": found.name, "closed": found.closed,
            "closed_at": found.closed_at, "people": found.people,
            "open_children": found.open_children}


def _person(person) -> dict:
    return {"id": person.id, "username": person.username, "display_name": person.display_name,
            "email": person.email, "roles": list(person.roles or []), "team": person.team,
            "active": person.active, "local_sign_in": accounts.signs_in_locally(person),
            "created_at": person.created_at}


def _handover(result: people.Handover) -> dict:
    return {"person": _person(result.person), "changed": sorted(result.changes),
            "returned_tasks": [i.id for i in result.returned],
            "told": [u.username for u in result.told]}


# -- teams ------------------------------------------------------------------------------------
@bp.get("/teams")
@documented(bp, 403)
@auth.roles(PEOPLE_ROLES)
@bp.response(200, TeamListSchema)
def list_teams():
    """Every team (open ones first) with its active people and open children."""
    with db().transaction(read_only=True) as session:
        rows = teams.list_teams(session, auth.principal())
    return {"items": [{"code": t.code, "name": t.name, "closed": t.closed,
                       "closed_at": t.closed_at, "people": t.people,
                       "open_children": t.open_children} for t in rows]}


@bp.post("/teams")
@documented(bp, 403, 422)
@auth.roles(PEOPLE_ROLES)
@bp.arguments(NewTeamSchema)
@bp.response(201, TeamSchema)
def create_team(body):
    """Create a team. 422 when the code is malformed or taken, or the name is in use."""
    with db().transaction() as session:
        team = teams.create_team(session, auth.principal(), body["code"], body["name"])
        return _team(session, team.code)


@bp.get(TEAM)
@documented(bp, 403, 404)
@auth.roles(PEOPLE_ROLES)
@bp.response(200, TeamSchema)
def show_team(code: str):
    with db().transaction(read_only=True) as session:
        teams.get_team(session, auth.principal(), code)
        return _team(session, code)


@bp.patch(TEAM)
@documented(bp, 403, 404, 422)
@auth.roles(PEOPLE_ROLES)
@bp.arguments(TeamRenameSchema)
@bp.response(200, TeamSchema)
def rename_team(body, code: str):
    """Rename the team (its code never changes)."""
    with db().transaction() as session:
        teams.rename_team(session, auth.principal(), code, body["name"])
        return _team(session, code)


@bp.post(f"{TEAM}/close")
@documented(bp, 403, 404, 409)
@auth.roles(PEOPLE_ROLES)
@bp.response(200, TeamSchema)
def close_team(code: str):
    """Close the team: no new children or people. 409 while children of the team have a
    running process (move them first)."""
    with db().transaction() as session:
        teams.close_team(session, auth.principal(), code)
        return _team(session, code)


# -- people -----------------------------------------------------------------------------------
@bp.get("/people")
@documented(bp, 403, 422)
@auth.roles(PEOPLE_ROLES)
@bp.arguments(PeopleArgs, location="query")
@bp.response(200, PersonListSchema)
def list_people(args):
    """People by name, filtered by role, team (or service-wide) and active state."""
    with db().transaction(read_only=True) as session:
        found = people.list_people(session, auth.principal(), role=args.get("role"),
                                   team=args.get("team"), service_wide=args["service_wide"],
                                   active=args["active"])
        return {"items": [_person(p) for p in found]}


@bp.post("/people")
@documented(bp, 403, 409, 422)
@auth.roles(PEOPLE_ROLES)
@bp.arguments(NewPersonSchema)
@bp.response(201, PersonSchema)
def add_person(body):
    """Add a person. With no `password` they cannot sign in locally (the council's sign-in)."""
    with db().transaction() as session:
        return _person(people.add_person(session, auth.principal(), **body))


@bp.get(PERSON)
@documented(bp, 403, 404)
@auth.roles(PEOPLE_ROLES)
@bp.response(200, PersonSchema)
def show_person(username: str):
    with db().transaction(read_only=True) as session:
        return _person(people.get_person(session, auth.principal(), username))


@bp.patch(PERSON)
@documented(bp, 403, 404, 409, 422)
@auth.roles(PEOPLE_ROLES)
@bp.arguments(PersonChangeSchema)
@bp.response(200, HandoverSchema)
def change_person(body, username: str):
    """Change name, e-mail, roles or team (only the fields sent). Tasks the person holds but
    can no longer work go back to the team queue. 409 when it would leave no active
    administrator."""
    with db().transaction() as session:
        return _handover(people.update_person(session, auth.principal(), username, **body))


@bp.put(f"{PERSON}/password")
@documented(bp, 403, 404, 422)
@auth.roles(PEOPLE_ROLES)
@bp.arguments(PasswordSchema)
@bp.response(200, PersonSchema)
def set_password(body, username: str):
    """Set the local password, or remove it (null): their browser sessions end."""
    with db().transaction() as session:
        return _person(people.set_password(session, auth.principal(), username,
                                           body["password"]))


@bp.post(f"{PERSON}/deactivate")
@documented(bp, 403, 404, 409)
@auth.roles(PEOPLE_ROLES)
@bp.response(200, HandoverSchema)
def deactivate_person(username: str):
    """Deactivate (never delete): the tasks they hold go back to the team queue and their
    team leaders are told. 409 for the last active administrator."""
    with db().transaction() as session:
        return _handover(people.deactivate_person(session, auth.principal(), username))


@bp.post(f"{PERSON}/reactivate")
@documented(bp, 403, 404, 409)
@auth.roles(PEOPLE_ROLES)
@bp.response(200, PersonSchema)
def reactivate_person(username: str):
    """Let them sign in again. 409 while their team is closed (change their team first)."""
    with db().transaction() as session:
        return _person(people.reactivate_person(session, auth.principal(), username))


# -- roles ------------------------------------------------------------------------------------
@bp.get("/roles")
@documented(bp, 403)
@auth.roles(PEOPLE_ROLES)
@bp.response(200, RoleListSchema)
def roles():
    """Every role a person may hold, with who holds it (active people first)."""
    with db().transaction(read_only=True) as session:
        holders = people.role_holders(session, auth.principal())
        return {"items": [{"code": r.code, "label": r.label, "in_use": r.in_use,
                           "people": [{"username": p.username, "display_name": p.display_name,
                                       "team": p.team, "active": p.active} for p in r.people]}
                          for r in holders]}
