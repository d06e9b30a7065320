"""Children: the list of children in the user's scope, each child's page, and adding a child.

A child's page speaks its profile's words (milestones, roles, processes). Adding a child is
the service ``workflows.services.children.add_child``, as for the API; with several
profiles the worker first picks which one the child is on.
"""
from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine import audit
from engine.errors import Conflict, InvalidData
from workflows.children import entry as child_entry
from workflows import profiles
from workflows.children.records import ChildError
from workflows.due_words import council_today
from workflows.policy import ADD_CHILD_ROLES, CHILD_ROLES
from workflows.services import child_record, children as child_service

from web.pages import form_errors, schema_form
from web.shared import query_args
from web.shared.database import db
from web.security.access import child_or_404, children_clause, require_roles
from web.shared.read_models import child_page, children_list

bp = Blueprint("children", __name__, url_prefix="/children")
PER_PAGE = 50


def can_add() -> bool:
    return current_user.can_add_child


@bp.get("")
@require_roles(CHILD_ROLES)
def index():
    search = (request.args.get("q") or "").strip()[:80]
    number = query_args.page()
    with db().transaction() as session:
        children, total, open_counts, overdue_counts = children_list(
            session, children_clause(current_user), search, council_today(), number, PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    page = {"page": number, "pages": pages, "total": total}

    def page_link(n):
        return url_for("children.index", **({"q": search} if search else {}),
                       **({"page": n} if n > 1 else {}))
    return render_template("children/list.html", children=children, total=total, search=search,
                           open_counts=open_counts, overdue_counts=overdue_counts,
                           page=SimpleNamespace(**page), page_link=page_link, can_add=can_add())


def _in_profile_words(data, profile: profiles.Profile) -> None:
    """The read model labels milestones in the Scottish words it was written for; an English
    child's page must read in English ones, in the order the English cycle reaches them, and
    name each process as its profile does rather than by its diagram id."""
    order = {code: index for index, code in enumerate(profile.milestone_order)}
    for row in data.milestones:
        row.label = profile.milestones.get(row.code, row.label)
    data.milestones.sort(key=lambda row: (order.get(row.code, len(order)), row.occurrence))
    names = {pid: name for p in profiles.PROFILES.values() for pid, name in p.process_names.items()}
    data.journey = [(event, label, actor, names.get((event.data or {}).get("process_id"), detail)
                     if event.event_type == "instance_started" else detail)
                    for event, label, actor, detail in data.journey]


@bp.get("/<int:subject_id>")
@require_roles(CHILD_ROLES)
def show(subject_id: int):
    with db().transaction() as session:
        child = child_or_404(session, current_user, subject_id)
        data = child_page(session, child, council_today())
        profile = profiles.of_subject(child)
        _in_profile_words(data, profile)
        steps = child_record.steps(session, db().runtime, current_user, child.id)
        siblings = child_record.brothers_and_sisters(session, current_user, child)
        if "auditor" in current_user.roles:
            # Auditors' reading of a child's record is itself part of the record.
            audit.record(session, "record_viewed", current_user.username, subject_id=child.id,
                         data={"page": "child"})
    return render_template("children/child.html", page=data, child=data.child, profile=profile,
                           steps=steps, siblings=siblings, show_profile=len(profiles.enabled()) > 1, active_nav="children.index")


# -- adding a child -------------------------------------------------------------------------
@bp.get("/new")
@require_roles(ADD_CHILD_ROLES)
def new():
    choices = child_service.entry_profiles()
    wanted = request.args.get("profile")
    if len(choices) == 1 or wanted in {p.name for p in choices}:
        return redirect(url_for("children.new_on", profile=wanted or choices[0].name))
    error = "Select which process the child is on" if "profile" in request.args else None
    return render_template("children/choose.html", choices=choices, error=error,
                           summary=[("profile-0", error)] if error else [],
                           page_has_errors=bool(error), active_nav="children.index"), \
        422 if error else 200


def _entry_form(profile_name: str):
    profile = next((p for p in child_service.entry_profiles() if p.name == profile_name), None)
    if profile is None:
        abort(404)
    schema, ui = child_entry.form(profile)
    return profile, schema, ui


def _render_entry(profile, schema, ui, values, errors=None, teams=(), team="", status=200):
    errors = errors or {}
    fields = schema_form.build(schema, ui, values, errors)
    summary = [(f.anchor, f.error) for f in schema_form.all_fields(fields) if f.error]
    if errors.get("team"):
        summary.insert(0, ("team", errors["team"]))
    shown = {f.name for f in schema_form.all_fields(fields) if f.error} | {"team"}
    summary += [("entry-form", message) for path, message in errors.items() if path not in shown]
    return render_template("children/new.html", profile=profile, schema=schema, fields=fields,
                           summary=summary, teams=teams, team=team, team_error=errors.get("team"),
                           page_has_errors=bool(summary), active_nav="children.index"), status


@bp.route("/new/<profile>", methods=["GET", "POST"])
@require_roles(ADD_CHILD_ROLES)
def new_on(profile: str):
    profile, schema, ui = _entry_form(profile)
    with db().transaction() as session:
        teams = child_service.teams_to_choose(session, current_user) \
            if current_user.all_teams else []
    if request.method == "GET":
        return _render_entry(profile, schema, ui, {}, teams=teams)
    data, problems = schema_form.read(schema, request.form)
    team = current_user.team or (request.form.get("team") or None)
    try:
        if problems:  # what the form could not read (an impossible date) beside the rest
            errors = form_errors.messages(schema, data)
            errors.update(problems)
            if current_user.all_teams and team not in dict(teams):
                errors["team"] = "Select the child's team"
            return _render_entry(profile, schema, ui, data, errors, teams, team or "", 422)
        with db().transaction() as session:
            child = child_service.add_child(session, db().runtime, current_user, data,
                                            profile=profile.name, team=team)
            child_id, name, reference = child.id, child.display_name, child.reference
    except InvalidData as exc:
        errors = form_errors.for_field_errors(schema, data, exc.errors)
        return _render_entry(profile, schema, ui, data, errors, teams, team or "", 422)
    except (Conflict, ChildError) as exc:
        field = "reference" if "reference" in str(exc) else "entry-form"
        message = str(exc)
        return _render_entry(profile, schema, ui, data, {field: message[:1].upper() + message[1:]},
                             teams, team or "", 409 if isinstance(exc, Conflict) else 422)
    flash(f"{name} ({reference}) is added and on the {profile.title} profile. "
          "Their first tasks are in the team queue.", "success")
    return redirect(url_for("children.show", subject_id=child_id))
