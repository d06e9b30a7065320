"""How people sign in to this deployment: local passwords, the council's OpenID Connect
provider, or both. Read once from the environment (``PACE_LOCAL_PASSWORDS`` and
``PACE_OIDC_*``, see docs/sign-in.md) into ``SignInSettings``, part of
``workflows.app.Settings``.

Everything is checked when the settings are read, so a deployment with a mistake in them
does not start (``SettingsError`` names the variable and says what to write) rather than
failing at a worker's first sign-in. The group maps are parsed here too: which roles and
which team each of the provider's groups gives (``workflows.sign_in_claims`` applies them).
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import profiles

MATCH_BY = ("sub", "email")
_TEAM_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # fits team.code
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class SignInSettingsError(ValueError):
    """A sign-in setting that cannot be used; the message names the variable."""


def parse_group_map(text: str, variable: str) -> dict[str, tuple[str, ...]]:
    """``group=value,group=value`` (a group may appear more than once, giving several
    values), or, for group names holding ``,`` or ``=`` (directory paths such as
    ``CN=…,OU=…``), a JSON object ``{"group": "value"}`` or ``{"group": ["v1", "v2"]}``.
    Blank gives no map. Why both: the short form fits one line of a systemd unit; JSON
    takes any group name the provider sends."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise SignInSettingsError(f"{variable} is not valid JSON ({exc.msg}, character "
                                      f"{exc.pos}): write {{\"group\": \"value\"}}") from None
        pairs = []
        for group, values in loaded.items():
            values = [values] if isinstance(values, str) else values
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise SignInSettingsError(f"{variable}: the value for group {group!r} must be "
                                          "a text or a list of texts")
            pairs += [(group, v) for v in values]
    else:
        pairs = []
        for item in text.split(","):
            group, sep, value = item.partition("=")
            if not sep or not group.strip() or not value.strip():
                raise SignInSettingsError(
                    f"{variable}: {item.strip()!r} is not group=value; write it as "
                    "group=value,group=value (or as JSON for group names with , or =)")
            pairs.append((group, value))
    result: dict[str, tuple[str, ...]] = {}
    for group, value in pairs:
        group, value = group.strip(), value.strip()
        if not group or not value:
            raise SignInSettingsError(f"{variable}: a group or a value is blank")
        if value not in result.get(group, ()):
            result[group] = result.get(group, ()) + (value,)
    return result


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in _ON:
        return True
    if raw in _OFF:
        return False
    raise SignInSettingsError(f"{name}={raw!r}: write 1 (on) or 0 (off)")


@dataclass(frozen=True)
class OidcSettings:
    """The council's OpenID Connect provider (``PACE_OIDC_*``).

    ``match_by``: ``sub`` (the default) finds a person by the provider's issuer and subject,
    which never change; ``email`` by their e-mail address, for a council that moves between
    providers. ``create_people``: a person the provider vouches for but PACE Flow does not
    know yet is added at their first sign-in (else they are refused until an administrator
    adds them). ``role_map`` / ``team_map``: when given, the person's roles / team follow
    their groups at every sign-in; when empty, an administrator sets them in PACE Flow."""
    issuer: str
    client_id: str
    client_secret: str
    provider_name: str = "your council account"
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    groups_claim: str = "groups"
    match_by: str = "sub"
    create_people: bool = False
    role_map: dict[str, tuple[str, ...]] = field(default_factory=dict)
    team_map: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def __post_init__(self):
        parts = urlsplit(self.issuer)
        if parts.scheme != "https" and not (parts.scheme == "http"
                                            and parts.hostname in _LOOPBACK):
            raise SignInSettingsError(
                f"PACE_OIDC_ISSUER={self.issuer!r} must be the provider's https:// address "
                "(its issuer, as in its discovery document)")
        if not self.client_id:
            raise SignInSettingsError("PACE_OIDC_CLIENT_ID is missing: give the client id "
                                      "the provider gave PACE Flow when it was registered")
        if not self.client_secret:
            raise SignInSettingsError("PACE_OIDC_CLIENT_SECRET is missing: give the client "
                                      "secret the provider gave PACE Flow")
        if "openid" not in self.scopes:
            raise SignInSettingsError("PACE_OIDC_SCOPES must include openid")
        if self.match_by not in MATCH_BY:
            raise SignInSettingsError(f"PACE_OIDC_MATCH={self.match_by!r}: write sub or email")
        known = profiles.all_roles()
        for group, roles in self.role_map.items():
            if unknown := [r for r in roles if r not in known]:
                raise SignInSettingsError(
                    f"PACE_OIDC_ROLE_MAP: group {group!r} gives unknown role "
                    f"{', '.join(unknown)}; roles are {', '.join(sorted(known))}")
        for group, teams in self.team_map.items():
            if len(teams) > 1:
                raise SignInSettingsError(f"PACE_OIDC_TEAM_MAP: group {group!r} gives more "
                                          "than one team; a person belongs to one team")
            if not _TEAM_CODE.match(teams[0]):
                raise SignInSettingsError(f"PACE_OIDC_TEAM_MAP: {teams[0]!r} is not a team "
                                          "code (lower-case letters, digits, - or _)")
        if self.create_people and not self.role_map:
            raise SignInSettingsError(
                "PACE_OIDC_CREATE_PEOPLE=1 needs PACE_OIDC_ROLE_MAP: a person added at their "
                "first sign-in takes their roles from their groups")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "OidcSettings | None":
        """None when ``PACE_OIDC_ISSUER`` is not set (no provider)."""
        issuer = (environ.get("PACE_OIDC_ISSUER") or "").strip()
        if not issuer:
            return None
        scopes = tuple((environ.get("PACE_OIDC_SCOPES") or "openid email profile").split())
        return cls(
            issuer=issuer,
            client_id=(environ.get("PACE_OIDC_CLIENT_ID") or "").strip(),
            client_secret=(environ.get("PACE_OIDC_CLIENT_SECRET") or "").strip(),
            provider_name=(environ.get("PACE_OIDC_PROVIDER_NAME") or "").strip()
            or cls.provider_name,
            scopes=scopes,
            groups_claim=(environ.get("PACE_OIDC_GROUPS_CLAIM") or "").strip() or "groups",
            match_by=(environ.get("PACE_OIDC_MATCH") or "").strip().lower() or "sub",
            create_people=_flag(environ, "PACE_OIDC_CREATE_PEOPLE", False),
            role_map=parse_group_map(environ.get("PACE_OIDC_ROLE_MAP", ""), "PACE_OIDC_ROLE_MAP"),
            team_map=parse_group_map(environ.get("PACE_OIDC_TEAM_MAP", ""), "PACE_OIDC_TEAM_MAP"),
        )


@dataclass(frozen=True)
class SignInSettings:
    """``local_passwords``: whether the sign-in page takes a username and password
    (``PACE_LOCAL_PASSWORDS``, on by default); off needs a provider, or nobody could sign in.
    API tokens work either way."""
    oidc: OidcSettings | None = None
    local_passwords: bool = True

    def __post_init__(self):
        if not self.local_passwords and self.oidc is None:
            raise SignInSettingsError("PACE_LOCAL_PASSWORDS=0 needs PACE_OIDC_ISSUER: with "
                                      "neither, nobody could sign in")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> "SignInSettings":
        return cls(oidc=OidcSettings.from_environ(environ),
                   local_passwords=_flag(environ, "PACE_LOCAL_PASSWORDS", True))
