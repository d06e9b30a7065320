"""People: add, change, set a password, deactivate, reactivate; list them and who holds
each role.

Administrators only (``policy.can_manage_people``), with one exception: on a fresh
install, before any administrator exists, the operator at the server's command line
(``Operator``, ``os:<login>``) may add the first administrator and nothing else.

A person has one or more roles of any profile (``profiles.all_roles``), and one team or
none (service-wide roles: with no team a person sees every team, so a role worked within
a team, ``policy.TEAM_ROLES``, needs one). A first password for local sign-in is set by
the administrator, or none: then the person cannot sign in with a password (the seam for
the council's sign-in, see ``workflows.accounts``). People are never deleted: a leaver is
deactivated, their sign-in sessions end, the tasks they hold go back to the team queue and
their team leader is told (``handover``). The last active administrator cannot be
deactivated or lose the role. Every change is an audit event on the system chain.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import Conflict, FieldError, Forbidden, InvalidData, NotFound
from engine.models import SignInSession, Team, UserAccount, WorkItem
from engine.plain_text import single_line_problem

from .. import accounts, policy, profiles
from ..policy import Actor
from . import handover
from .actors import account
from .teams import check_may_manage

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,79}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
MAX_NAME = MAX_EMAIL = 200
ADMIN = "admin"
KEEP = object()  # update_person: leave this field as it is
LEFT = "has left: their account is deactivated"
MOVED = "has a new role or team"


@dataclass(frozen=True)
class Operator:
    """Whoever runs ``pace`` on the server before there is any administrator; the audit
    trail names their login (``os:<login>``). May add the first administrator only."""
    username: str
    id: None = None
    roles: tuple[str, ...] = ()
    team: None = None


@dataclass
class Handover:
    """What a change did besides itself: tasks put back in the queue, managers told."""
    person: UserAccount
    returned: list[WorkItem] = field(default_factory=list)
    told: list[UserAccount] = field(default_factory=list)
    changes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RoleHolders:
    code: str
    label: str
    in_use: bool                 # a role of an enabled profile (or shared)
    people: list[UserAccount]


# -- reading ------------------------------------------------------------------------------
def roles_to_choose() -> list[tuple[str, str, bool]]:
    """(code, label, in use here) of every role a person may hold: the enabled profiles'
    roles first, then other profiles' (accounts may be made ahead of go-live)."""
    here = profiles.role_labels()
    others = {c: l for c, l in profiles.role_labels(profiles.PROFILES.values()).items()
              if c not in here}
    return [(c, l, True) for c, l in here.items()] + [(c, l, False) for c, l in others.items()]


def list_people(session: Session, actor: Actor, *, role: str | None = None,
                team: str | None = None, service_wide: bool = False,
                active: bool | None = None) -> list[UserAccount]:
    """People by name; ``team`` a code, ``service_wide`` those with no team; ``active``
    True or False for one state, None for both."""
    check_may_manage(session, actor)
    query = select(UserAccount).order_by(func.lower(UserAccount.display_name), UserAccount.id)
    if service_wide:
        query = query.where(UserAccount.team.is_(None))
    elif team:
        query = query.where(UserAccount.team == team)
    if active is not None:
        query = query.where(UserAccount.active.is_(active))
    people = session.scalars(query).all()
    return [p for p in people if role is None or role in (p.roles or [])]


def get_person(session: Session, actor: Actor, username: str) -> UserAccount:
    check_may_manage(session, actor)
    return _person(session, username)


def role_holders(session: Session, actor: Actor) -> list[RoleHolders]:
    """Every role with the people holding it (active ones first), in the order of
    ``roles_to_choose``; a role nobody holds is listed with nobody."""
    people = list_people(session, actor)
    return [RoleHolders(code, label, in_use,
                        sorted((p for p in people if code in (p.roles or [])),
                               key=lambda p: not p.active))
            for code, label, in_use in roles_to_choose()]


def held_tasks(session: Session, actor: Actor, username: str) -> list[WorkItem]:
    """The tasks the person holds: what deactivating them puts back in the queue."""
    return handover.held(session, get_person(session, actor, username).id)


def has_administrator(session: Session) -> bool:
    return any(ADMIN in (u.roles or []) for u in session.scalars(
        select(UserAccount).where(UserAccount.active.is_(True))))


# -- adding and changing -------------------------------------------------------------------
def add_person(session: Session, actor: Actor, *, username: str, display_name: str,
               email: str | None, roles: Iterable[str], team: str | None,
               password: str | None = None) -> UserAccount:
    """Add a person; with no ``password`` they cannot sign in locally."""
    roles = _unique(roles)
    if isinstance(actor, Operator):
        if has_administrator(session):
            raise Forbidden("There is an administrator already: act as one (pace … --by "
                            "USERNAME) to add people.")
        if ADMIN not in roles:
            raise Forbidden("Before there is an administrator, only an administrator can be "
                            "added: give this person the admin role.")
    else:
        check_may_manage(session, actor)
    username, display_name = (username or "").strip(), (display_name or "").strip()
    email, team = _blank_to_none(email), _blank_to_none(team)
    problems = _username_problems(session, username) + _details_problems(
        session, display_name, email, roles, team, None)
    if password is not None:
        problems += _password_problems(password)
    if problems:
        raise InvalidData(problems)
    try:
        return accounts.create_user(session, username, display_name, password, roles, team,
                                    actor=actor.username, email=email)
    except accounts.AccountError as exc:  # checked above; a race with another admin
        raise Conflict(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None


def update_person(session: Session, actor: Actor, username: str, *, display_name=KEEP,
                  email=KEEP, roles=KEEP, team=KEEP) -> Handover:
    """Change what is given (``KEEP`` leaves a field). Tasks the person holds but may no
    longer work with their new roles or team go back to the queue, and their managers are
    told. 409 when it would leave no active administrator."""
    admin = _acting_admin(session, actor)
    person = _person(session, username)
    wanted = {"display_name": person.display_name if display_name is KEEP else (display_name or "").strip(),
              "email": person.email if email is KEEP else _blank_to_none(email),
              "roles": list(person.roles or []) if roles is KEEP else _unique(roles),
              "team": person.team if team is KEEP else _blank_to_none(team)}
    problems = _details_problems(session, wanted["display_name"], wanted["email"],
                                 wanted["roles"], wanted["team"], person)
    if problems:
        raise InvalidData(problems)
    changes = {name: [getattr(person, name) if name != "roles" else list(person.roles or []),
                      value] for name, value in wanted.items()
               if value != (list(person.roles or []) if name == "roles" else getattr(person, name))}
    if not changes:
        return Handover(person)
    if person.active and ADMIN in (person.roles or []) and ADMIN not in wanted["roles"]:
        _keep_an_administrator(session, person, "lose the administrator role")
    for name, (_old, value) in changes.items():
        setattr(person, name, value)
    session.flush()
    event = audit.record(session, "user_updated", actor.username,
                         data={"username": person.username, "changes": changes})
    result = Handover(person, changes=changes)
    if {"roles", "team"} & changes.keys():
        gone = [i for i in handover.held(session, person.id) if not policy.can_work(person, i)]
        result.returned = handover.release_all(session, gone, admin, f"{person.username}: "
                                               "role or team changed")
        if result.returned:
            result.told = handover.tell_managers(session, event, person, MOVED, result.returned,
                                                 own_team=False, actor_name=admin.display_name)
    return result


def set_password(session: Session, actor: Actor, username: str, password: str | None) -> UserAccount:
    """Set (or, with None, remove) the person's local password. Their browser sessions end
    (the session's fingerprint changes); API tokens go on working."""
    check_may_manage(session, actor)
    person = _person(session, username)
    if password is not None:
        problems = _password_problems(password)
        if problems:
            raise InvalidData(problems)
    person.password_hash = accounts.hash_password(password) if password is not None else None
    session.flush()
    audit.record(session, "user_password_set" if password is not None else "user_password_removed",
                 actor.username, data={"username": person.username})
    return person


# -- leaving and coming back ----------------------------------------------------------------
def deactivate_person(session: Session, actor: Actor, username: str) -> Handover:
    """Deactivate (never delete): their browser sessions end, their API tokens stop
    working, the tasks they hold go back to the team queue, their team's managers are told.
    409 for the last active administrator."""
    admin = _acting_admin(session, actor)
    person = _person(session, username)
    if not person.active:
        return Handover(person)
    if ADMIN in (person.roles or []):
        _keep_an_administrator(session, person, "be deactivated")
    person.active = False
    session.execute(delete(SignInSession).where(SignInSession.user_id == person.id))
    session.flush()
    tasks = handover.held(session, person.id)
    event = audit.record(session, "user_deactivated", actor.username, data={
        "username": person.username, "team": person.team,
        "returned_tasks": [i.id for i in tasks]})
    returned = handover.release_all(session, tasks, admin, f"{person.username} deactivated")
    told = handover.tell_managers(session, event, person, LEFT, returned, own_team=True,
                                  actor_name=admin.display_name)
    return Handover(person, returned, told)


def reactivate_person(session: Session, actor: Actor, username: str) -> UserAccount:
    check_may_manage(session, actor)
    person = _person(session, username)
    if person.active:
        return person
    if person.team is not None and session.get(Team, person.team).closed_at is not None:
        raise Conflict(f"{person.display_name}'s team ({person.team}) is closed: change their "
                       "team first, then reactivate them.")
    person.active = True
    session.flush()
    audit.record(session, "user_reactivated", actor.username, data={"username": person.username})
    return person


# -- checks ----------------------------------------------------------------------------------
def _acting_admin(session: Session, actor: Actor) -> UserAccount:
    check_may_manage(session, actor)
    return account(session, actor)


def _person(session: Session, username: str) -> UserAccount:
    person = session.scalar(select(UserAccount).where(UserAccount.username == username)) \
        if isinstance(username, str) and username else None
    if person is None:
        raise NotFound("There is no person with this username.")
    return person


def _keep_an_administrator(session: Session, person: UserAccount, what: str) -> None:
    """409 unless another active administrator remains. The active accounts are locked
    (in id order, so two administrators removing each other queue instead of both
    passing the check), so the answer holds until this transaction ends."""
    others = [u for u in session.scalars(select(UserAccount).where(UserAccount.active.is_(True))
                                         .order_by(UserAccount.id).with_for_update()
                                         .execution_options(populate_existing=True))
              if u.id != person.id and ADMIN in (u.roles or [])]
    if not others:
        raise Conflict(f"{person.display_name} is the last active administrator and cannot "
                       f"{what}. Make someone else an administrator first.")


def _username_problems(session: Session, username: str) -> list[FieldError]:
    if not username:
        return [FieldError("username", "Enter a username.")]
    if not USERNAME.fullmatch(username):
        return [FieldError("username", "Use up to 80 letters, digits, dots, hyphens, "
                                       "underscores or @, starting with a letter or digit.")]
    taken = session.scalar(select(UserAccount.username).where(
        func.lower(UserAccount.username) == username.lower()))
    if taken is not None:
        return [FieldError("username", f"The username {taken} is taken; usernames are never "
                                       "reused, even after someone leaves.")]
    return []


def _details_problems(session: Session, display_name: str, email: str | None, roles: list[str],
                      team: str | None, person: UserAccount | None) -> list[FieldError]:
    problems = []
    if not display_name:
        problems.append(FieldError("display_name", "Enter the person's full name."))
    elif len(display_name) > MAX_NAME or single_line_problem(display_name):
        problems.append(FieldError("display_name", f"The name must be one line of {MAX_NAME} "
                                                   "characters or fewer."))
    if email is not None and (person is None or email.lower() != (person.email or "").lower()):
        if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email) or single_line_problem(email):
            problems.append(FieldError("email", "Enter an e-mail address like "
                                                "name@council.gov.uk."))
        elif session.scalar(select(UserAccount.username).where(
                func.lower(UserAccount.email) == email.lower(),
                *([UserAccount.id != person.id] if person else []))) is not None:
            problems.append(FieldError("email", "Another person has this e-mail address."))
    known = profiles.all_roles()
    if not roles:
        problems.append(FieldError("roles", "Choose at least one role."))
    elif unknown := [r for r in roles if r not in known]:
        problems.append(FieldError("roles", f"Unknown role {', '.join(map(str, unknown))}; "
                                            f"choose from {', '.join(sorted(known))}."))
    if team is not None:
        found = session.get(Team, team) if isinstance(team, str) else None
        if found is None:
            problems.append(FieldError("team", "There is no team with this code; create it "
                                               "first."))
        elif found.closed_at is not None and (person is None or person.team != team):
            problems.append(FieldError("team", f"{found.name} is closed; choose an open team."))
    elif roles and (bound := [r for r in roles if r in policy.TEAM_ROLES]) and not (
            person is not None and person.team is None and set(roles) == set(person.roles or [])):
        labels = ", ".join(profiles.role_label(r).lower() for r in bound)
        problems.append(FieldError("team", f"Choose a team: a {labels} works within one team "
                                           "(with no team they would see every team's children)."))
    return problems


def _password_problems(password: str) -> list[FieldError]:
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        return [FieldError("password", f"The password must be at least "
                                       f"{accounts.MIN_PASSWORD_LENGTH} characters long.")]
    if "\x00" in password or len(password) > 200:
        return [FieldError("password", "The password must be 200 characters or fewer, "
                                       "with no NUL characters.")]
    return []


def _unique(roles) -> list[str]:
    if isinstance(roles, str):
        roles = [roles]
    return list(dict.fromkeys(r.strip() for r in (roles or []) if isinstance(r, str) and r.strip()))


def _blank_to_none(value):
    if isinstance(value, str):
        value = value.strip()
    return value or None
