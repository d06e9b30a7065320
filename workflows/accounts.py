"""Teams and user accounts; passwords hashed with Werkzeug's scrypt/pbkdf2 helpers.

The rows only, with the checks every writer needs: the demo, the bench and the tests call
these directly. What an administrator does (add, change, deactivate a person; create,
rename, close a team) goes through ``workflows.services.people`` and ``.teams``, which
check the form's fields and who may act, then call these.

A person may have no local password (``password_hash`` None): they cannot sign in with a
password at all. This is the seam for the council's sign-in (OpenID Connect), which
matches people by a claim instead.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine import audit
from engine.models import Team, UserAccount

from . import profiles


class AccountError(ValueError):
    pass


def ensure_team(session: Session, code: str, name: str | None = None) -> Team:
    team = session.get(Team, code)
    if team is None:
        team = Team(code=code, name=name or code.replace("_", " ").title())
        session.add(team)
        session.flush()
    return team


MIN_PASSWORD_LENGTH = 10


def create_user(session: Session, username: str, display_name: str, password: str | None,
                roles: list[str], team: str | None, actor: str = "system",
                email: str | None = None, password_hash: str | None = None) -> UserAccount:
    """``password_hash`` lets a caller creating many accounts with one password (the demo)
    pay for the deliberately slow hash once. With neither a password nor a hash the person
    has no local password (see the module's docstring)."""
    known = profiles.role_labels(profiles.PROFILES.values())  # every profile's roles
    unknown = [r for r in roles if r not in known]
    if unknown:
        raise AccountError(f"unknown role(s) {', '.join(unknown)}; known roles: {', '.join(known)}")
    if not roles:
        raise AccountError("give the user at least one role")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if session.scalar(select(UserAccount).where(UserAccount.username == username)):
        raise AccountError(f"a user called {username!r} already exists")
    if team is not None and session.get(Team, team) is None:
        raise AccountError(f"there is no team {team!r}; create it first with "
                           f"`pace team create {team} --name \"…\"`")
    if password_hash is None and password is not None:
        password_hash = generate_password_hash(password)
    user = UserAccount(username=username, display_name=display_name, email=email,
                       password_hash=password_hash, roles=list(roles), team=team, active=True)
    session.add(user)
    session.flush()
    audit.record(session, "user_created", actor, data={
        "username": username, "roles": list(roles), "team": team,
        "local_sign_in": password_hash is not None})
    return user


def find_user(session: Session, username: str) -> UserAccount | None:
    return session.scalar(select(UserAccount).where(UserAccount.username == username))


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def signs_in_locally(user: UserAccount) -> bool:
    """Whether the person has a local password (else only the council's sign-in)."""
    return bool(user.password_hash)


def check_password(user: UserAccount, password: str) -> bool:
    return signs_in_locally(user) and check_password_hash(user.password_hash, password)
