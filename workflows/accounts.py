"""Teams and user accounts; passwords hashed with Werkzeug's scrypt/pbkdf2 helpers."""
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


def create_user(session: Session, username: str, display_name: str, password: str,
                roles: list[str], team: str | None, actor: str = "system",
                email: str | None = None, password_hash: str | None = None) -> UserAccount:
    """``password_hash`` lets a caller creating many accounts with one password (the demo)
    pay for the deliberately slow hash once."""
    known = profiles.role_labels(profiles.PROFILES.values())  # every profile's roles
    unknown = [r for r in roles if r not in known]
    if unknown:
        raise AccountError(f"unknown role(s) {', '.join(unknown)}; known roles: {', '.join(known)}")
    if not roles:
        raise AccountError("give the user at least one role")
    if len(password) < 10:
        raise AccountError("the password must be at least 10 characters long")
    if session.scalar(select(UserAccount).where(UserAccount.username == username)):
        raise AccountError(f"a user called {username!r} already exists")
    if team is not None and session.get(Team, team) is None:
        raise AccountError(f"there is no team {team!r}; create it first")
    user = UserAccount(username=username, display_name=display_name, email=email,
                       password_hash=password_hash or generate_password_hash(password), roles=list(roles),
                       team=team, active=True)
    session.add(user)
    session.flush()
    audit.record(session, "user_created", actor, data={"username": username, "roles": roles,
                                                       "team": team})
    return user


def find_user(session: Session, username: str) -> UserAccount | None:
    return session.scalar(select(UserAccount).where(UserAccount.username == username))


def check_password(user: UserAccount, password: str) -> bool:
    return check_password_hash(user.password_hash, password)
