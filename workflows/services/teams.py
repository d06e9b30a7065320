"""Teams: create, rename, close; the list with who and what is in each.

Administrators only (``policy.can_manage_people``). A team's code is what the caseload
file, the CLI and the API name it by and never changes; its name is what people read.
A closed team keeps its row (children's history and audit events name it) and its people,
but is offered for no new child or person; a team with open children (a child with a
running process) cannot be closed until they move. Every change is an audit event on the
system chain.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import Conflict, FieldError, Forbidden, InvalidData, NotFound
from engine.models import ProcessInstance, Subject, Team, UserAccount
from engine.plain_text import single_line_problem

from .. import policy
from ..policy import Actor
from .actors import account

CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
CODE_RULE = ("Use 1 to 40 lower-case letters, digits, hyphens or underscores, starting with a "
             "letter or digit (for example north or fostering_east).")
MAX_NAME = 200


@dataclass(frozen=True)
class TeamSummary:
    code: str
    name: str
    closed_at: datetime | None
    people: int            # active people in the team
    open_children: int     # children of the team with a running process

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


def check_may_manage(session: Session, actor: Actor) -> None:
    """403 unless the actor is an administrator whose account is still active."""
    if not policy.can_manage_people(actor):
        raise Forbidden("Only an administrator can manage teams and people.")
    account(session, actor)


def list_teams(session: Session, actor: Actor) -> list[TeamSummary]:
    """Every team, open ones first, by name."""
    check_may_manage(session, actor)
    people = dict(session.execute(select(UserAccount.team, func.count()).where(
        UserAccount.active.is_(True), UserAccount.team.is_not(None)).group_by(UserAccount.team)).all())
    children = dict(session.execute(select(Subject.team, func.count()).where(
        _running(Subject.id)).group_by(Subject.team)).all())
    teams = session.scalars(select(Team).order_by(Team.closed_at.is_not(None), Team.name)).all()
    return [TeamSummary(t.code, t.name, t.closed_at, people.get(t.code, 0),
                        children.get(t.code, 0)) for t in teams]


def open_teams(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the teams a new child or person may join."""
    return [(t.code, t.name) for t in session.scalars(
        select(Team).where(Team.closed_at.is_(None)).order_by(Team.name))]


def get_team(session: Session, actor: Actor, code: str) -> Team:
    check_may_manage(session, actor)
    return _team(session, code)


def create_team(session: Session, actor: Actor, code: str, name: str) -> Team:
    check_may_manage(session, actor)
    code, name = (code or "").strip(), (name or "").strip()
    problems = []
    if not code:
        problems.append(FieldError("code", "Enter a code for the team."))
    elif not CODE.fullmatch(code):
        problems.append(FieldError("code", CODE_RULE))
    elif session.get(Team, code) is not None:
        problems.append(FieldError("code", f"There is already a team with the code {code}; "
                                           "codes are never reused, choose another."))
    problems += _name_problems(session, name)
    if problems:
        raise InvalidData(problems)
    team = Team(code=code, name=name)
    session.add(team)
    session.flush()
    audit.record(session, "team_created", actor.username, data={"team": code, "name": name})
    return team


def rename_team(session: Session, actor: Actor, code: str, name: str) -> Team:
    check_may_manage(session, actor)
    team = _team(session, code)
    name = (name or "").strip()
    if name == team.name:
        return team
    problems = _name_problems(session, name, but=team.code)
    if problems:
        raise InvalidData(problems)
    old, team.name = team.name, name
    session.flush()
    audit.record(session, "team_renamed", actor.username,
                 data={"team": team.code, "from": old, "to": name})
    return team


def close_team(session: Session, actor: Actor, code: str) -> Team:
    """Close the team: 409 while it has open children (move them to another team first)."""
    check_may_manage(session, actor)
    team = _team(session, code)
    if team.closed_at is not None:
        return team
    open_children = session.scalar(select(func.count()).select_from(Subject).where(
        Subject.team == team.code, _running(Subject.id))) or 0
    if open_children:
        raise Conflict(f"{team.name} has {open_children} child{'ren' if open_children != 1 else ''}"
                       " with a process still running, so it was not closed. Move them to "
                       "another team first.")
    team.closed_at = clock.now()
    session.flush()
    people = session.scalar(select(func.count()).select_from(UserAccount).where(
        UserAccount.team == team.code, UserAccount.active.is_(True))) or 0
    audit.record(session, "team_closed", actor.username,
                 data={"team": team.code, "name": team.name, "active_people": people})
    return team


def _team(session: Session, code: str) -> Team:
    team = session.get(Team, code) if isinstance(code, str) and code else None
    if team is None:
        raise NotFound("There is no team with this code.")
    return team


def _running(subject_id):
    return exists().where(ProcessInstance.subject_id == subject_id,
                          ProcessInstance.status == "running")


def _name_problems(session: Session, name: str, but: str | None = None) -> list[FieldError]:
    if not name:
        return [FieldError("name", "Enter the team's name.")]
    if len(name) > MAX_NAME:
        return [FieldError("name", f"The name must be {MAX_NAME} characters or fewer.")]
    if problem := single_line_problem(name):
        return [FieldError("name", f"The name {problem}.")]
    same = session.scalar(select(Team.code).where(
        func.lower(Team.name) == name.lower(), Team.closed_at.is_(None),
        *([Team.code != but] if but else [])))
    if same is not None:
        return [FieldError("name", f"The open team {same} already has this name.")]
    return []
