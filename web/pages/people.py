"""Teams and people, for administrators: the pages over ``workflows.services.teams`` and
``.people`` (the same services as ``/api/v1/teams``, ``/api/v1/people`` and ``pace team``,
``pace user``).

Teams: list, add, rename, close (a confirmation page says why a team with open children
cannot be closed). People: list filtered by role, team and state, add, change, set or
remove the local password, deactivate (the confirmation lists the tasks going back to the
queue), reactivate. Roles: who holds each. A refused form is shown again with what was
typed and the GOV.UK error summary; passwords are never shown again.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine.errors import Conflict, InvalidData
from workflows import accounts, profiles
from workflows.policy import PEOPLE_ROLES
from workflows.services import people, teams

from web.security.access import require_roles
from web.shared.database import db

bp = Blueprint("people_admin", __name__)
NAV = "people_admin.index"
STATES = {"active": True, "deactivated": False, "all": None}
SERVICE_WIDE = "-"  # the team filter's value for people with no team


def _form(template: str, status: int = 200, *, values=None, errors=None, order=(), **context):
    """A form page: ``errors`` field -> message, summarised in ``order`` (the fields'
    order on the page), each linking to its field."""
    errors = errors or {}
    summary = [(field, errors[field]) for field in (*order, *errors) if field in errors]
    summary = list(dict.fromkeys(summary))
    return render_template(template, values=values or {}, errors=errors, summary=summary,
                           page_has_errors=bool(errors), active_nav=NAV, **context), status


def _field_errors(exc: InvalidData) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in exc.errors:
        found.setdefault(error.field or "form", error.message)
    return found


# -- teams ----------------------------------------------------------------------------------
@bp.get("/teams")
@require_roles(PEOPLE_ROLES)
def teams_index():
    with db().transaction(read_only=True) as session:
        rows = teams.list_teams(session, current_user)
    return render_template("people/teams.html", teams=rows, active_nav=NAV)


TEAM_FIELDS = ("code", "name")


@bp.route("/teams/new", methods=["GET", "POST"])
@require_roles(PEOPLE_ROLES)
def team_new():
    if request.method == "GET":
        return _form("people/team_form.html", order=TEAM_FIELDS, team=None)
    values = {k: request.form.get(k, "") for k in TEAM_FIELDS}
    try:
        with db().transaction() as session:
            team = teams.create_team(session, current_user, values["code"], values["name"])
            code, name = team.code, team.name
    except InvalidData as exc:
        return _form("people/team_form.html", 422, values=values, errors=_field_errors(exc),
                     order=TEAM_FIELDS, team=None)
    flash(f"Team {name} ({code}) is added. People and children can now join it.", "success")
    return redirect(url_for("people_admin.teams_index"))


@bp.route("/teams/<code>/rename", methods=["GET", "POST"])
@require_roles(PEOPLE_ROLES)
def team_rename(code: str):
    with db().transaction(read_only=True) as session:
        team = teams.get_team(session, current_user, code)
    if request.method == "GET":
        return _form("people/team_form.html", values={"name": team.name}, order=TEAM_FIELDS,
                     team=team)
    values = {"name": request.form.get("name", "")}
    try:
        with db().transaction() as session:
            name = teams.rename_team(session, current_user, code, values["name"]).name
    except InvalidData as exc:
        return _form("people/team_form.html", 422, values=values, errors=_field_errors(exc),
                     order=TEAM_FIELDS, team=team)
    flash(f"Team {code} is now called {name}.", "success")
    return redirect(url_for("people_admin.teams_index"))


@bp.route("/teams/<code>/close", methods=["GET", "POST"])
@require_roles(PEOPLE_ROLES)
def team_close(code: str):
    with db().transaction(read_only=True) as session:
        summary = next((t for t in teams.list_teams(session, current_user) if t.code == code),
                       None)
        teams.get_team(session, current_user, code)  # 404 for an unknown code
    if request.method == "GET":
        return _form("people/team_close.html", team=summary)
    try:
        with db().transaction() as session:
            teams.close_team(session, current_user, code)
    except Conflict as exc:
        return _form("people/team_close.html", 409, errors={"close": str(exc)}, team=summary)
    flash(f"Team {summary.name} is closed. It is offered for no new child or person.", "success")
    return redirect(url_for("people_admin.teams_index"))


# -- people ---------------------------------------------------------------------------------
def _choices(session, person=None) -> dict:
    """Roles and teams the form offers: open teams, and a person's own team even if closed."""
    open_teams = teams.open_teams(session)
    if person is not None and person.team and person.team not in dict(open_teams):
        open_teams.append((person.team, f"{person.team} (closed)"))
    return {"roles": people.roles_to_choose(), "teams": open_teams}


@bp.get("/people")
@require_roles(PEOPLE_ROLES)
def index():
    role = request.args.get("role") or None
    team = request.args.get("team") or None
    state = request.args.get("state") if request.args.get("state") in STATES else "active"
    with db().transaction(read_only=True) as session:
        found = people.list_people(session, current_user, role=role,
                                   team=None if team == SERVICE_WIDE else team,
                                   service_wide=team == SERVICE_WIDE, active=STATES[state])
        all_teams = [(t.code, t.name) for t in teams.list_teams(session, current_user)]
    return render_template("people/people.html", people=found, role=role, team=team,
                           state=state, roles=people.roles_to_choose(), teams=all_teams,
                           service_wide=SERVICE_WIDE, active_nav=NAV)


PERSON_FIELDS = ("username", "display_name", "email", "roles", "team", "sign_in", "password")


def _person_values() -> dict:
    return {"username": request.form.get("username", ""),
            "display_name": request.form.get("display_name", ""),
            "email": request.form.get("email", ""), "roles": request.form.getlist("roles"),
            "team": request.form.get("team", ""), "sign_in": request.form.get("sign_in", "")}


@bp.route("/people/new", methods=["GET", "POST"])
@require_roles(PEOPLE_ROLES)
def person_new():
    with db().transaction(read_only=True) as session:
        choices = _choices(session)
    if request.method == "GET":
        return _form("people/person_form.html", values={"roles": [], "sign_in": ""},
                     order=PERSON_FIELDS, person=None, **choices)
    values = _person_values()
    password = request.form.get("password", "")
    errors = {}
    if values["sign_in"] not in ("password", "council"):
        errors["sign_in"] = "Choose how they sign in"
    elif values["sign_in"] == "password" and not password:
        errors["password"] = "Enter a first password, or choose the council's sign-in"
    try:
        with db().transaction() as session:
            person = people.add_person(
                session, current_user, username=values["username"],
                display_name=values["display_name"], email=values["email"],
                roles=values["roles"], team=values["team"],
                password=password if values["sign_in"] == "password" else None)
            if errors:  # the page's own checks, shown with the service's
                raise InvalidData([])
            username, name = person.username, person.display_name
    except InvalidData as exc:
        return _form("people/person_form.html", 422, values=values,
                     errors={**_field_errors(exc), **errors}, order=PERSON_FIELDS, person=None,
                     **choices)
    flash(f"{name} is added as {username}.", "success")
    return redirect(url_for("people_admin.person", username=username))


@bp.get("/people/<username>")
@require_roles(PEOPLE_ROLES)
def person(username: str):
    with db().transaction(read_only=True) as session:
        found = people.get_person(session, current_user, username)
        held = people.held_tasks(session, current_user, username)
        team = teams.get_team(session, current_user, found.team) if found.team else None
    return render_template("people/person.html", person=found, held=held, team=team,
                           local=accounts.signs_in_locally(found), active_nav=NAV,
                           role_label=profiles.role_label)


EDIT_FIELDS = ("display_name", "email", "roles", "team")


@bp.route("/people/<username>/edit", methods=["GET", "POST"])
@require_roles(PEOPLE_ROLES)
def person_edit(username: str):
    with db().transaction(read_only=True) as session:
        found = people.get_person(session, current_user, username)
        choices = _choices(session, found)
    if request.method == "GET":
        values = {"display_name": found.display_name, "email": found.email or "",
                  "roles": list(found.roles or []), "team": found.team or ""}
        return _form("people/person_form.html", values=values, order=EDIT_FIELDS, person=found,
                     **choices)
    values = {k: v for k, v in _person_values().items() if k in EDIT_FIELDS}
    try:
        with db().transaction() as session:
            result = people.update_person(session, current_user, username, **values)
    except InvalidData as exc:
        return _form("people/person_form.html", 422, values=values, errors=_field_errors(exc),
                     order=EDIT_FIELDS, person=found, **choices)
    except Conflict as exc:
        return _form("people/person_form.html", 409, values=values, errors={"roles": str(exc)},
                     order=EDIT_FIELDS, person=found, **choices)
    message = "Saved." if result.changes else "Nothing was changed."
    if result.returned:
        message += (f" {len(result.returned)} task{'s' if len(result.returned) != 1 else ''} "
                    "they can no longer work went back to the team queue.")
    flash(message, "success")
    return redirect(url_for("people_admin.person", username=username))


@bp.route("/people/<username>/password", methods=["GET", "POST"])
@require_roles(PEOPLE_ROLES)
def person_password(username: str):
    with db().transaction(read_only=True) as session:
        found = people.get_person(session, current_user, username)
    if request.method == "GET":
        return _form("people/password.html", order=("sign_in", "password"), person=found)
    choice, password = request.form.get("sign_in", ""), request.form.get("password", "")
    values = {"sign_in": choice}
    if choice not in ("password", "council"):
        errors = {"sign_in": "Choose how they sign in"}
    elif choice == "password" and not password:
        errors = {"password": "Enter the new password"}
    else:
        try:
            with db().transaction() as session:
                people.set_password(session, current_user, username,
                                    password if choice == "password" else None)
        except InvalidData as exc:
            errors = _field_errors(exc)
        else:
            flash("The new password is set: tell them it in person or by phone, not by e-mail."
                  if choice == "password" else
                  "They no longer have a local password and sign in through the council's "
                  "sign-in.", "success")
            return redirect(url_for("people_admin.person", username=username))
    return _form("people/password.html", 422, values=values, errors=errors,
                 order=("sign_in", "password"), person=found)


@bp.route("/people/<username>/deactivate", methods=["GET", "POST"])
@require_roles(PEOPLE_ROLES)
def person_deactivate(username: str):
    with db().transaction(read_only=True) as session:
        found = people.get_person(session, current_user, username)
        held = people.held_tasks(session, current_user, username)
    if request.method == "GET":
        return _form("people/deactivate.html", person=found, held=held)
    try:
        with db().transaction() as session:
            result = people.deactivate_person(session, current_user, username)
            told = [u.display_name for u in result.told]
    except Conflict as exc:
        return _form("people/deactivate.html", 409, errors={"deactivate": str(exc)},
                     person=found, held=held)
    count = len(result.returned)
    flash(f"{found.display_name} is deactivated. {count} task{'s' if count != 1 else ''} went "
          f"back to the team queue" + (f"; {', '.join(told)} told." if told else "."), "success")
    return redirect(url_for("people_admin.person", username=username))


@bp.post("/people/<username>/reactivate")
@require_roles(PEOPLE_ROLES)
def person_reactivate(username: str):
    try:
        with db().transaction() as session:
            name = people.reactivate_person(session, current_user, username).display_name
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("people_admin.person", username=username))
    flash(f"{name} is active again and can sign in.", "success")
    return redirect(url_for("people_admin.person", username=username))


# -- roles ----------------------------------------------------------------------------------
@bp.get("/roles")
@require_roles(PEOPLE_ROLES)
def roles():
    with db().transaction(read_only=True) as session:
        holders = people.role_holders(session, current_user)
    return render_template("people/roles.html", holders=holders, active_nav=NAV)
