"""The demo casts of the enabled profiles, for the sign-in page of a demo deployment.

Each profile's demo defines its own cast (``demo.SCOTTISH_CAST``, ``england_demo.CAST``);
this module sits above both and picks the ones whose profile is enabled, so neither demo
module imports the other's caller (``england_demo`` builds on ``demo``, never the reverse).
"""
from __future__ import annotations

from . import demo, england_demo, profiles


def enabled() -> list[demo.Cast]:
    """The casts of the enabled profiles, in the order the profiles are enabled."""
    by_profile = {profiles.SCOTLAND_PROFILE.name: demo.SCOTTISH_CAST,
                  profiles.ENGLAND_PROFILE.name: england_demo.CAST}
    return [by_profile[p.name] for p in profiles.enabled()]
