"""The signed-in user and the web's gate on routes; the rules come from ``workflows.policy``.

Who may do what is declared once, in ``workflows.policy``, and the services consult it
before acting; this module only adapts it to Flask: ``Principal`` (the Flask-Login user,
an ``Actor`` to the services), ``require_roles`` (403 for a route the user's roles do not
open) and 404 for a record outside the user's team scope.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import abort
from flask_login import UserMixin, current_user, login_required
from sqlalchemy import true
from sqlalchemy.orm import Session

from engine.models import Subject, UserAccount
from workflows import policy, profiles
from workflows.policy import CHILD_ROLES, OVERVIEW_ROLES, QUEUE_ROLES  # noqa: F401 - for views


@dataclass(frozen=True)
class Principal(UserMixin):
    """The signed-in user as a detached snapshot: no database session outlives a request."""
    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    team: str | None
    fingerprint: str
    session_token: str = ""  # this browser session's row in sign_in_session (web/security/sign_in.py)

    @classmethod
    def from_account(cls, account: UserAccount) -> "Principal":
        return cls(account.id, account.username, account.display_name,
                   tuple(account.roles or ()), account.team, fingerprint(account))

    def get_id(self) -> str:
        # A changed password (or deactivation) changes the session epoch and ends old sessions;
        # signing out deletes the session token's row and ends this one.
        return f"{self.id}:{self.fingerprint}:{self.session_token}"

    def has_any(self, roles) -> bool:
        return policy.holds_any(self, roles)

    @property
    def all_teams(self) -> bool:
        return policy.all_teams(self)

    def sees_team(self, team: str | None) -> bool:
        return policy.sees_team(self, team)

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
        return policy.can_view_children(self)

    @property
    def can_view_overview(self) -> bool:
        return self.has_any(OVERVIEW_ROLES)

    @property
    def can_add_child(self) -> bool:
        return policy.can_add_child(self)

    @property
    def has_queue(self) -> bool:
        return bool(self.queue_roles)


def fingerprint(account: UserAccount) -> str:
    """What every session cookie of the account carries besides its id: the account's
    random session epoch, replaced when the password changes or the account is deactivated
    (engine/models.py), so those end every session. Nothing derived from the password."""
    return account.session_epoch or ""


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


# -- children -------------------------------------------------------------------------
def children_clause(principal: Principal):
    return true() if principal.all_teams else Subject.team == principal.team


def child_or_404(session: Session, principal: Principal, subject_id: int) -> Subject:
    child = session.get(Subject, subject_id)
    if child is None or not policy.can_view_child(principal, child.team):
        abort(404)
    return child
