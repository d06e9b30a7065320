"""The rules of signing in through the council's provider, as pure functions: which person
verified claims name, and which roles and team the person's groups give.

The claims reach these functions only after the web layer (web/security/oidc.py, with
Authlib) has checked the ID token's signature against the provider's keys, its issuer,
audience, expiry and nonce; the service ``workflows.services.sign_in`` applies the result
to the database. Every refusal is a ``Refusal`` whose text is shown to the worker as it
stands, so it says what is wrong and whom to ask.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_USERNAME_CHARS = re.compile(r"[^A-Za-z0-9._@-]+")
MAX_USERNAME = 80
MAX_NAME = 200
ASK = "Ask the PACE Flow administrator in your service"


class Refusal(ValueError):
    """Why a verified person may not sign in, in words for them."""


@dataclass(frozen=True)
class Identity:
    """Who the claims say signed in: the stable key (issuer and subject) and what helps to
    find or add them."""
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    username_hint: str
    display_name: str
    groups: tuple[str, ...]


def identity(claims: Mapping, groups_claim: str = "groups") -> Identity:
    """The verified ID token's claims as an ``Identity``; ``groups_claim`` names the claim
    holding the person's groups (``PACE_OIDC_GROUPS_CLAIM``)."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or not isinstance(subject, str) or not subject:
        raise Refusal("The council's sign-in did not say who you are. Try again; if it "
                      f"happens again, {ASK[0].lower()}{ASK[1:]}.")
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    email = email.strip() or None if email else None
    verified = claims.get("email_verified", True) not in (False, "false")
    hint = next((v for v in (claims.get("preferred_username"), email, subject)
                 if isinstance(v, str) and v.strip()), subject)
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get(k) for k in ("given_name", "family_name")]
        name = " ".join(p for p in parts if isinstance(p, str) and p.strip()) or hint
    return Identity(issuer, subject, email, verified, hint.strip(),
                    " ".join(name.split())[:MAX_NAME], groups_of(claims, groups_claim))


def groups_of(claims: Mapping, claim: str) -> tuple[str, ...]:
    """The groups claim as a tuple of texts: providers send a list, or one text (some
    send a space-separated text)."""
    value = claims.get(claim)
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def roles_from_groups(groups: Iterable[str], role_map: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Every role any of the groups gives, in the map's order (so the same groups always
    give the same list)."""
    held = set(groups)
    return list(dict.fromkeys(r for group, roles in role_map.items() if group in held
                              for r in roles))


def team_from_groups(groups: Iterable[str], team_map: Mapping[str, tuple[str, ...]]) -> str | None:
    """The one team the groups give, None for none; groups giving two teams are refused,
    as PACE Flow would otherwise pick one of them silently."""
    held = set(groups)
    teams = list(dict.fromkeys(t for group, ts in team_map.items() if group in held for t in ts))
    if len(teams) > 1:
        raise Refusal(f"Your groups at the council's sign-in give you more than one team "
                      f"({', '.join(teams)}); a person belongs to one team in PACE Flow. "
                      f"{ASK}, or the council's identity team, to remove one.")
    return teams[0] if teams else None


def username_for(identity_: Identity, taken: Iterable[str]) -> str:
    """A username for a person added at their first sign-in: from their provider username
    or e-mail address, made to fit PACE Flow's rules, with a number added when taken
    (usernames are never reused)."""
    base = _USERNAME_CHARS.sub("", identity_.username_hint).lstrip("._@-")[:MAX_USERNAME - 4]
    base = base or "user"
    taken = {t.lower() for t in taken}
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
