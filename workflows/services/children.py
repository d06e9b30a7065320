"""Adding a newly looked-after child: the same checks and the same start for the page
(``/children/new``) and the API (``POST /api/v1/children``), on every enabled profile.

The child's details answer the profile's entry form (``workflows.children.entry``: a JSON
Schema, so the page and the API check the same fields); on top of the form, dates must be
possible (no start in the future or before the child was born, nothing decades back) and
the team and allocated worker must exist and be the actor's to choose.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Conflict, FieldError, Forbidden, InvalidData
from engine.models import Subject, Team, UserAccount
from engine.runtime import Runtime

from workflows.children import entry as child_entry
from workflows import policy, profiles
from ..policy import Actor

OLDEST_YEARS = 30  # a start date or date of birth further back is a typing mistake


def entry_profiles() -> tuple[profiles.Profile, ...]:
    """The profiles a child can be added on: every enabled one."""
    return profiles.enabled()


def entry_profile(name: str | None) -> profiles.Profile:
    """The named enabled profile; with no name, the only one enabled."""
    enabled = entry_profiles()
    if name is None and len(enabled) == 1:
        return enabled[0]
    found = next((p for p in enabled if p.name == name), None)
    if found is None:
        names = " or ".join(p.name for p in enabled)
        raise InvalidData([FieldError("profile", f"Choose which process the child is on: {names}.")])
    return found


def teams_to_choose(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(code, name) of the open teams the actor may add a child to."""
    return [(t.code, t.name) for t in session.scalars(
        select(Team).where(Team.closed_at.is_(None)).order_by(Team.name))
            if policy.sees_team(actor, t.code)]


def add_child(session: Session, runtime: Runtime, actor: Actor, data: Mapping, *,
              profile: str | None = None, team: str | None = None,
              allocated_worker: str | None = None) -> Subject:
    """Register the child and start their processes. ``data`` answers the profile's entry
    form (dates as ISO text); ``team`` defaults to the actor's own."""
    if not policy.can_add_child(actor):
        raise Forbidden("Your roles do not include adding a child.")
    chosen = entry_profile(profile)
    team = team or actor.team
    if team is not None and not policy.sees_team(actor, team):
        raise Forbidden("You can add children to your own team only.")
    schema, _ = child_entry.form(chosen)
    problems = _form_problems(runtime, schema, data)
    if team is None:
        problems.append(FieldError("team", "Choose the child's team: you work with every team."))
    elif (found := session.get(Team, team)) is None:
        problems.append(FieldError("team", "There is no team with this code."))
    elif found.closed_at is not None:
        problems.append(FieldError("team", f"{found.name} is closed; choose an open team."))
    worker_id = _allocated_worker(session, allocated_worker, team, problems)
    if not problems:
        problems += _date_problems(chosen, data, clock.today())
    if not problems:
        problems += _reference_problems(session, actor, data)
    if problems:
        raise InvalidData(problems)
    return child_entry.enter(session, runtime, chosen, data, team, actor.username,
                             allocated_worker_id=worker_id)


def _form_problems(runtime: Runtime, schema: dict, data: Mapping) -> list[FieldError]:
    problems = [FieldError(name, "Must not be blank.") for name in ("reference", "name")
                if isinstance(data.get(name), str) and not data[name].strip()]
    try:
        runtime.validate(schema, data)
    except InvalidData as exc:
        problems += [e for e in exc.errors if e.field not in {p.field for p in problems}]
    return problems


# A reference another team holds: saying "already exists" would let anyone who adds children
# probe other teams' references (the 404 policy: records outside the actor's scope are
# not disclosed). References are unique service-wide, so the add must fail; this says no
# more than that, and sends the worker to someone who can look.
REFERENCE_UNUSABLE = "This reference cannot be used. Check it with your team leader."


def _reference_problems(session: Session, actor: Actor, data: Mapping) -> list[FieldError]:
    """A reference in use: within the actor's scope a clear 409 naming it; outside it, a
    field problem that does not say whether, or where, a child has it."""
    reference = str(data.get("reference") or "").strip()
    holder = session.execute(select(Subject.id, Subject.team).where(
        Subject.reference == reference)).first()
    if holder is None:
        return []
    if policy.can_view_child(actor, holder.team):
        raise Conflict(f"a child with reference {reference!r} already exists")
    return [FieldError("reference", REFERENCE_UNUSABLE)]


def _allocated_worker(session: Session, username: str | None, team: str | None,
                      problems: list[FieldError]) -> int | None:
    if not username:
        return None
    worker = session.scalar(select(UserAccount).where(UserAccount.username == username))
    if worker is None or not worker.active or "social_worker" not in (worker.roles or []) \
            or worker.team not in (None, team):
        problems.append(FieldError("allocated_worker",
                                   "Choose an active social worker in the child's team."))
        return None
    return worker.id


def _date_problems(profile: profiles.Profile, data: Mapping, today: date) -> list[FieldError]:
    oldest = today - relativedelta(years=OLDEST_YEARS)
    start_field = child_entry.start_field(profile)
    start, born = _day(data.get(start_field)), _day(data.get("date_of_birth"))
    problems = []
    if start is not None and start > today:
        problems.append(FieldError(start_field, "Must not be in the future."))
    if start is not None and start < oldest:
        problems.append(FieldError(start_field, f"Must be within the last {OLDEST_YEARS} years."))
    if born is not None and (born > today or born < oldest):
        problems.append(FieldError("date_of_birth",
                                   f"Must be a past date within the last {OLDEST_YEARS} years."))
    elif born is not None and start is not None and start < born:
        problems.append(FieldError(start_field, "Must not be before the date of birth."))
    return problems


def _day(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None
