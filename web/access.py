"""Who may see and do what: the one place role and team scoping is decided.

Every view asks here. A route the user's roles do not open is 403; a record outside the
user's team scope is 404, so the existence of another team's child is never disclosed.
A user with no team holds a service-wide role (chair, legal, panel, ADM, manager, auditor)
and sees every team.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import abort
from flask_login import UserMixin, current_user, login_required
from sqlalchemy import select, true
from sqlalchemy.orm import Session

from engine.models import Subject, UserAccount, WorkItem
from workflows import profiles

# Lane roles of every profile (PACE_PROFILES picks which are in use; a user holds only those).
QUEUE_ROLES = profiles.queue_roles(profiles.PROFILES.values())
# Roles whose holders work with children's records (the auditor reads them, read-only).
CHILD_ROLES = frozenset(QUEUE_ROLES | {"auditor"})
# First-line and service managers: those overdue work escalates to, in every profile.
OVERVIEW_ROLES = profiles.manager_roles(profiles.PROFILES.values())
MANAGER_ROLES = OVERVIEW_ROLES


@dataclass(frozen=True)
class Principal(UserMixin):
    """The signed-in user as a detached snapshot: no database session outlives a request."""
    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    team: str | None
    fingerprint: str
    session_token: str = ""  # this browser session's row in sign_in_session (web/auth.py)

    @classmethod
    def from_account(cls, account: UserAccount) -> "Principal":
        return cls(account.id, account.username, account.display_name,
                   tuple(account.roles or ()), account.team, fingerprint(account))

    def get_id(self) -> str:
        # A changed password (or deactivation) changes the fingerprint and ends old sessions;
        # signing out deletes the session token's row and ends this one.
        return f"{self.id}:{self.fingerprint}:{self.session_token}"

    def has_any(self, roles) -> bool:
        return any(role in roles for role in self.roles)

    @property
    def all_teams(self) -> bool:
        return self.team is None

    def sees_team(self, team: str | None) -> bool:
        return self.all_teams or team == self.team

    @property
    def queue_roles(self) -> tuple[str, ...]:
        enabled = profiles.queue_roles()  # the lanes of this deployment's profiles
        return tuple(r for r in self.roles if r in enabled)

    @property
    def team_scope(self) -> tuple[str, ...] | None:
        """Teams for a queue filter: None means every team."""
        return None if self.all_teams else (self.team,)

    @property
    def can_view_children(self) -> bool:
        return self.has_any(CHILD_ROLES)

    @property
    def can_view_overview(self) -> bool:
        return self.has_any(OVERVIEW_ROLES)

    @property
    def has_queue(self) -> bool:
        return bool(self.queue_roles)


def fingerprint(account: UserAccount) -> str:
    return account.password_hash[-16:]


def require_roles(roles):
    """Signed-in users holding one of ``roles``; anyone else signed in gets 403."""
    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_any(roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def account(session: Session, principal: Principal) -> UserAccount:
    """The principal's row, for engine calls that record who acted."""
    found = session.get(UserAccount, principal.id)
    if found is None or not found.active:
        abort(403)
    return found


# -- children -------------------------------------------------------------------------
def children_clause(principal: Principal):
    return true() if principal.all_teams else Subject.team == principal.team


def child_or_404(session: Session, principal: Principal, subject_id: int) -> Subject:
    child = session.get(Subject, subject_id)
    if child is None or not principal.can_view_children or not principal.sees_team(child.team):
        abort(404)
    return child


# -- tasks ----------------------------------------------------------------------------
def manages(principal: Principal, item: WorkItem) -> bool:
    """Team leaders (of the child's team) and service managers oversee a team's tasks."""
    return principal.has_any(MANAGER_ROLES) and principal.sees_team(item.team)


def can_work(principal: Principal, item: WorkItem) -> bool:
    return item.role in principal.roles and principal.sees_team(item.team)


def can_claim(principal: Principal, item: WorkItem) -> bool:
    return can_work(principal, item) and item.status == "ready"


def can_release(principal: Principal, item: WorkItem) -> bool:
    return item.status == "claimed" and (item.assignee_id == principal.id or manages(principal, item))


def can_edit(principal: Principal, item: WorkItem) -> bool:
    """Save a draft or complete: the holder, or a worker with the role picking it up."""
    if not can_work(principal, item):
        return False
    return item.status == "ready" or item.assignee_id == principal.id


def can_view_task(principal: Principal, item: WorkItem) -> bool:
    if not principal.sees_team(item.team):
        return False
    return item.role in principal.roles or item.assignee_id == principal.id or manages(principal, item)


def task_or_404(session: Session, principal: Principal, item_id: int) -> WorkItem:
    item = session.get(WorkItem, item_id)
    if item is None or not can_view_task(principal, item):
        abort(404)
    return item


def eligible_assignees(session: Session, item: WorkItem) -> list[UserAccount]:
    """Active users holding the task's role who see the child's team."""
    users = session.scalars(select(UserAccount).where(UserAccount.active.is_(True))
                            .order_by(UserAccount.display_name)).all()
    return [u for u in users if item.role in (u.roles or [])
            and (u.team is None or u.team == item.team)]
