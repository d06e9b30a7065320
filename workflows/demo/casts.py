"""The demo casts of the enabled profiles, for the sign-in page of a demo deployment.

Each profile's demo defines its own cast (``demo.SCOTTISH_CAST``, ``england_demo.CAST``);
this module sits above both and picks the ones whose profile is enabled, so neither demo
module imports the other's caller (``england_demo`` builds on ``demo``, never the reverse).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import UserAccount

from workflows.demo import scotland as demo, england as england_demo
from workflows import profiles


def enabled() -> list[demo.Cast]:
    """The casts of the enabled profiles, in the order the profiles are enabled."""
    by_profile = {profiles.SCOTLAND_PROFILE.name: demo.SCOTTISH_CAST,
                  profiles.ENGLAND_PROFILE.name: england_demo.CAST}
    return [by_profile[p.name] for p in profiles.enabled()]


def real_users(session: Session) -> list[str]:
    """Usernames of the accounts no demo cast has: the people of a real installation, which
    ``pace demo`` will not add accounts with a published password to unless forced."""
    cast_names = {user[0] for cast in (demo.SCOTTISH_CAST, england_demo.CAST)
                  for user in cast.users}
    return sorted(name for name in session.scalars(select(UserAccount.username))
                  if name not in cast_names)
