"""Who may do what: every role set and permission rule, declared once.

The services consult these functions before they act; the pages, the API and the CLI read
the same sets to decide which routes a role opens, and the RBAC matrices in the tests are
built from them. A route the user's roles do not open is 403; a record outside the user's
team scope is 404, so the existence of another team's child is never disclosed. A user
with no team holds a service-wide role (chair, legal, panel, ADM, manager, auditor) and
sees every team.

The rules take any *actor* with ``id``, ``username``, ``roles`` and ``team``: the signed-in
browser user, an API token's user and a CLI operator alike.
"""
from __future__ import annotations

from typing import Protocol

from engine.models import WorkItem

from . import profiles


class Actor(Protocol):
    id: int
    username: str
    roles: tuple[str, ...]
    team: str | None


# Lane roles of every profile (PACE_PROFILES picks which are in use; a user holds only those).
QUEUE_ROLES = profiles.queue_roles(profiles.PROFILES.values())
# Roles whose holders work with children's records (the auditor reads them, read-only).
CHILD_ROLES = frozenset(QUEUE_ROLES | {"auditor"})
# First-line and service managers: those overdue work escalates to, in every profile.
MANAGER_ROLES = profiles.manager_roles(profiles.PROFILES.values())
OVERVIEW_ROLES = MANAGER_ROLES
# "My team's work": every open task of the teams a manager oversees, held or not.
TEAM_WORK_ROLES = MANAGER_ROLES
# Choosing a child's allocated worker: their team's first-line managers and service managers.
ALLOCATE_ROLES = MANAGER_ROLES
# Ending a child's journey early (removed from voluntary care, 18, moved council):
# their team's first-line managers and service managers, who answer for the caseload; a
# social worker asks their team leader (workflows/services/journey_endings.py).
END_JOURNEY_ROLES = MANAGER_ROLES
# Adding a newly looked-after child: the social worker, or a manager, of any profile.
ADD_CHILD_ROLES = frozenset({"social_worker"} | MANAGER_ROLES)
# The measures (Aims 1-3, stage delays, run charts) and who changes what they count.
MEASURE_ROLES = frozenset({"service_manager", "team_leader", "process_owner", "auditor", "admin"})
PDSA_ROLES = frozenset({"process_owner", "service_manager"})
SETTINGS_ROLES = frozenset({"process_owner", "admin"})
# The measures' lists that name children (an aim's drill-down, the breach forecast).
DRILL_DOWN_ROLES = CHILD_ROLES & MEASURE_ROLES
FORECAST_ROLES = DRILL_DOWN_ROLES
# Data quality (milestones out of order, in the future, missing): how many, for every
# measures role (a process owner sees where the records fail the measures); which children,
# for those who may open the children's records to correct them.
DATA_QUALITY_ROLES = MEASURE_ROLES
# Process models: process owners change them; these others may read them.
OWNER_ROLES = frozenset({"process_owner"})
MODEL_READ_ROLES = frozenset({"process_owner", "service_manager", "auditor", "admin"})
AUDIT_ROLES = frozenset({"auditor"})
ADMIN_ROLES = frozenset({"admin"})
IMPORT_ROLES = ADMIN_ROLES
# Teams and people (workflows/services/teams.py, people.py): administrators.
PEOPLE_ROLES = ADMIN_ROLES
# First-line managers (team leader, team manager): a team's first escalation level, told
# when a person of their team leaves and their tasks come back to the queue.
FIRST_LINE_MANAGER_ROLES = frozenset(p.escalation_roles[0] for p in profiles.PROFILES.values()
                                     if p.escalation_roles)
# Roles worked within one team: a person holding one must belong to a team (with no team a
# person sees every team's children).
TEAM_ROLES = frozenset({"social_worker"} | FIRST_LINE_MANAGER_ROLES)


def holds_any(actor: Actor, roles) -> bool:
    return any(role in roles for role in actor.roles)


def all_teams(actor: Actor) -> bool:
    return actor.team is None


def sees_team(actor: Actor, team: str | None) -> bool:
    return actor.team is None or team == actor.team


# -- children -------------------------------------------------------------------------
def can_view_children(actor: Actor) -> bool:
    return holds_any(actor, CHILD_ROLES)


def can_view_child(actor: Actor, team: str | None) -> bool:
    return can_view_children(actor) and sees_team(actor, team)


def can_add_child(actor: Actor) -> bool:
    return holds_any(actor, ADD_CHILD_ROLES)


# -- case notes and attachments (workflows/services/case_notes.py, attachments.py) -----------
def can_read_case_file(actor: Actor, team: str | None) -> bool:
    """A child's notes and attachments are read by everyone who may see the child."""
    return can_view_child(actor, team)


# Who writes notes and attaches files (with the child in view): those who work with children
# (a lane role); auditors read the record and never add to it.
CASE_FILE_ROLES = QUEUE_ROLES


def can_add_to_case_file(actor: Actor, team: str | None) -> bool:
    """Write a note or attach a file: everyone who may see the child and holds a
    ``CASE_FILE_ROLES`` role."""
    return can_view_child(actor, team) and holds_any(actor, CASE_FILE_ROLES)


def can_read_documents(actor: Actor, team: str | None) -> bool:
    """A child's generated documents (action minute, legal referral, review record) are
    part of the child's record: read, downloaded and printed by everyone who may see it."""
    return can_view_child(actor, team)


def can_make_document(actor: Actor, team: str | None) -> bool:
    """Make a completed task's document again (the child page): those who add to the
    child's file; auditors read documents and never make them."""
    return can_add_to_case_file(actor, team)


def can_preview_templates(actor: Actor) -> bool:
    """Preview a draft's Word template with a demo child: those who change models."""
    return can_change_models(actor)


# -- measures -------------------------------------------------------------------------
def can_view_measures(actor: Actor) -> bool:
    """The aims' figures, settings, run charts and PDSA cycles."""
    return holds_any(actor, MEASURE_ROLES)


def can_change_aim_settings(actor: Actor) -> bool:
    return holds_any(actor, SETTINGS_ROLES)


def can_export_aggregate(actor: Actor) -> bool:
    """The national programme's aggregate export covers the whole council, so it is for the
    measures roles that see every team (not a team leader, who sees one team's figures)."""
    return can_view_measures(actor) and all_teams(actor)


def can_view_data_quality(actor: Actor) -> bool:
    return holds_any(actor, DATA_QUALITY_ROLES)


def can_name_data_quality_children(actor: Actor) -> bool:
    """The children behind the data-quality counts, as an aim's drill-down names them."""
    return holds_any(actor, DRILL_DOWN_ROLES)


def can_record_pdsa(actor: Actor) -> bool:
    """Record and edit PDSA cycles, flag and unflag run-chart points."""
    return holds_any(actor, PDSA_ROLES)


# -- the deployment's settings ------------------------------------------------------------
def can_view_settings(actor: Actor) -> bool:
    """Every setting and where it came from (``pace settings show``, GET /api/v1/settings);
    secrets are never shown to anyone."""
    return holds_any(actor, SETTINGS_ROLES)


def can_change_settings(actor: Actor) -> bool:
    """The settings kept in the database (the aims'); the others are the configuration's."""
    return holds_any(actor, SETTINGS_ROLES)


# -- teams and people -------------------------------------------------------------------
def can_manage_people(actor: Actor) -> bool:
    """Create, rename and close teams; add, change, deactivate and list people."""
    return holds_any(actor, PEOPLE_ROLES)


# -- process models ---------------------------------------------------------------------
def can_read_models(actor: Actor) -> bool:
    """See the processes, their versions and diagrams, and download them."""
    return holds_any(actor, MODEL_READ_ROLES)


def can_change_models(actor: Actor) -> bool:
    """Drafts, checks, deployments, and moving children between versions."""
    return holds_any(actor, OWNER_ROLES)


# -- tasks ----------------------------------------------------------------------------
def manages(actor: Actor, item: WorkItem) -> bool:
    """Team leaders (of the child's team) and service managers oversee a team's tasks."""
    return holds_any(actor, MANAGER_ROLES) and sees_team(actor, item.team)


def can_work(actor: Actor, item: WorkItem) -> bool:
    return item.role in actor.roles and sees_team(actor, item.team)


def can_claim(actor: Actor, item: WorkItem) -> bool:
    return can_work(actor, item) and item.status == "ready"


def can_release(actor: Actor, item: WorkItem) -> bool:
    """Put a held task back in the team queue: its holder, or a manager."""
    return item.status == "claimed" and (item.assignee_id == actor.id or manages(actor, item))


def can_edit(actor: Actor, item: WorkItem) -> bool:
    """Save a draft or complete: the holder, or a worker with the role picking it up."""
    if not can_work(actor, item):
        return False
    return item.status == "ready" or item.assignee_id == actor.id


def holds(actor: Actor, item: WorkItem) -> bool:
    """The task is claimed by the actor: the only case a draft is saved in the background
    (while typing), which must never claim a task or write over someone else's draft."""
    return item.status == "claimed" and item.assignee_id == actor.id and can_work(actor, item)


def can_view_task(actor: Actor, item: WorkItem) -> bool:
    if not sees_team(actor, item.team):
        return False
    return item.role in actor.roles or item.assignee_id == actor.id or manages(actor, item)


def can_view_team_work(actor: Actor) -> bool:
    """Every open task of the actor's team (all teams, for a service manager)."""
    return holds_any(actor, TEAM_WORK_ROLES)


def can_allocate(actor: Actor, team: str | None) -> bool:
    """Change a child's allocated worker: a manager who oversees the child's team."""
    return holds_any(actor, ALLOCATE_ROLES) and sees_team(actor, team)


def can_end_journey(actor: Actor, team: str | None) -> bool:
    """End a child's journey early: a manager who oversees the child's team."""
    return holds_any(actor, END_JOURNEY_ROLES) and sees_team(actor, team)


def can_import(actor: Actor) -> bool:
    """Placing a caseload: an administrator's set-up task."""
    return holds_any(actor, IMPORT_ROLES)
