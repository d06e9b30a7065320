"""Who a ``pace`` command acts as: the user named by ``--by``, or the person at the shell.

Every command that changes something acts as a named, active user holding the role the
matching page asks for, so the audit trail names a person as it does for the pages; a
read-only command (or the very first administrator's creation) may act as the operator at
the server's shell, recorded as ``os:<login>``. One home for that rule, used by each
command module.
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass

import click
from sqlalchemy.orm import Session

from workflows import accounts


@dataclass(frozen=True)
class ActingUser:
    """An ``Actor`` (workflows.policy) for the services, detached from the session that
    read it, so it can be used across several units of work."""
    id: int
    username: str
    roles: tuple[str, ...]
    team: str | None


def shell_login() -> str:
    """The operator's login at the server, as the audit trail names them."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"


def shell_reader() -> ActingUser:
    """Whoever runs a read-only command at the server's shell: they hold its database
    settings, so they read as an administrator would; nothing is written under this name."""
    return ActingUser(0, shell_login(), ("admin",), None)


def by_user(session: Session, username: str, role: str | None = None,
            what: str = "user") -> ActingUser:
    """The active user named by ``--by`` (holding ``role`` when one is given); a usage
    error (exit 2) naming ``--by`` otherwise."""
    user = accounts.find_user(session, username)
    if user is None or not user.active or (role is not None and not user.has_role(role)):
        raise click.BadParameter(f"{username!r} is not an active PACE Flow {what}",
                                 param_hint="--by")
    return ActingUser(user.id, user.username, tuple(user.roles or ()), user.team)
