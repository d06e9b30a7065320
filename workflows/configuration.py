"""A deployment's settings from environment variables or one TOML file, declared once.

Why one catalogue: the settings are read in many places (the app factory, the mail sender,
the sign-in limits, the profiles), each from its ``PACE_*`` environment variable. A council
would rather keep them in one file under configuration management, so ``PACE_CONFIG`` may
name a TOML file whose keys are listed here (``OPTIONS``), each with the variable it stands
for. At start-up (``apply``) the file is read, every key checked (an unknown key or a value of
the wrong type stops start-up with the file, the key and what is expected), and each value
is put into the environment *unless the environment already has that variable*: the
environment wins over the file, the file over the defaults. So every reader keeps reading
its variable, and ``pace settings show`` can say where each value came from (``report``).

The aims' thresholds and targets are not here: process owners change them in the product,
so they are kept in the database (``workflows.services.settings``); a file value would undo
their change at every restart.
"""
from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from .setting_kinds import (HIDDEN, Choice, GroupMap, Names, Text, Url, Whole, Words, YesNo,
                            Zone)

CONFIG_VARIABLE = "PACE_CONFIG"
MAX_FILE_BYTES = 1_000_000  # a settings file is a few hundred bytes; anything near this is not one


class ConfigurationError(ValueError):
    """Settings that cannot be used; ``problems`` each name the file or variable and key."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Option:
    key: str               # in the TOML file: "smtp.port" is ``port`` in the ``[smtp]`` table
    variable: str          # the environment variable it stands for
    kind: object
    default: str           # as ``pace settings show`` shows it when neither sets it
    meaning: str
    secret: bool = False   # never shown: ``pace settings show`` says only whether it is set
    strict: bool = False   # also refused at start-up when the environment's value is wrong


_SMTP_TLS = ("starttls", "ssl", "none")
OPTIONS: tuple[Option, ...] = (
    Option("council", "PACE_COUNCIL", Text("\"midlothian\"", r"[a-z0-9][a-z0-9_-]{0,59}",
                                           "a council code: lower-case letters, digits, _ or -, "
                                           "at most 60 characters"),
           "default", "the council whose aims and PDSA cycles this deployment keeps"),
    Option("profiles", "PACE_PROFILES", Names(("scotland", "england")), "scotland",
           "whose statutory processes run: scotland, england or both"),
    Option("time_zone", "PACE_TIME_ZONE", Zone(), "Europe/London",
           "the clock times on pages are shown in", strict=True),
    Option("database_url", "PACE_DATABASE_URL",
           Url("\"postgresql+psycopg://pace@db.council.gov.uk/pace\"", r"[a-z][a-z0-9+]*://.*",
               "an SQLAlchemy database URL"),
           "SQLite file instance/pace.db", "the database (SQLAlchemy URL)", strict=True),
    Option("secret_key", "PACE_SECRET_KEY", Text(), "generated into instance/secret_key",
           "signs the session cookies: long, random, the same on every server", secret=True),
    Option("base_url", "PACE_BASE_URL", Text("\"https://pace.council.gov.uk\"",
                                             r"https?://[^\s]+", "an http(s):// address"),
           "http://127.0.0.1:5000", "the address links in e-mail point to"),
    Option("https", "PACE_HTTPS", YesNo(), "false",
           "users reach the service over HTTPS: cookies Secure, HSTS sent"),
    Option("trusted_proxies", "PACE_TRUSTED_PROXIES", Whole(0, 5, 1), "0",
           "how many reverse proxies stand in front of the app"),
    Option("demo", "PACE_DEMO", YesNo(), "false",
           "demo mode: lists demo sign-ins; never on a real installation"),
    Option("smtp.host", "PACE_SMTP_HOST", Text("\"smtp.council.gov.uk\""), "",
           "the mail server; e-mail is off without it"),
    Option("smtp.port", "PACE_SMTP_PORT", Whole(1, 65535, 587), "587",
           "the mail server's port"),
    Option("smtp.tls", "PACE_SMTP_TLS", Choice(_SMTP_TLS), "starttls",
           "how mail is encrypted: starttls, ssl or none"),
    Option("smtp.user", "PACE_SMTP_USER", Text(), "", "the mail server's user name"),
    Option("smtp.password", "PACE_SMTP_PASSWORD", Text(), "", "the mail server's password",
           secret=True),
    Option("smtp.from", "PACE_SMTP_FROM", Text("\"PACE Flow <pace@council.gov.uk>\""),
           "Workflow service <noreply@localhost>", "the sender of e-mail"),
    Option("sign_in.address_limit", "PACE_SIGN_IN_ADDRESS_LIMIT", Whole(1, 100_000, 10), "10",
           "failed sign-ins from one address before it is blocked"),
    Option("sign_in.account_limit", "PACE_SIGN_IN_ACCOUNT_LIMIT", Whole(1, 100_000, 5), "5",
           "failed sign-ins on one account before its failures weigh more"),
    Option("sign_in.window_minutes", "PACE_SIGN_IN_WINDOW_MINUTES", Whole(1, 1440, 15), "15",
           "the window failed sign-ins are counted in"),
    Option("sign_in.block_minutes", "PACE_SIGN_IN_BLOCK_MINUTES", Whole(1, 1440, 15), "15",
           "how long an address is first blocked"),
    Option("session.timeout_minutes", "PACE_SESSION_TIMEOUT_MINUTES", Whole(5, 480, 30), "30",
           "a sign-in ends after this many minutes idle", strict=True),
    Option("session.max_hours", "PACE_SESSION_MAX_HOURS", Whole(1, 24, 12), "12",
           "a sign-in ends after this many hours whatever the activity", strict=True),
    Option("oidc.issuer", "PACE_OIDC_ISSUER", Text("\"https://login.council.gov.uk/realms/staff\"",
                                                   r"https?://[^\s]+", "an http(s):// address"),
           "", "the council's OpenID Connect provider; sign-in through it when set"),
    Option("oidc.client_id", "PACE_OIDC_CLIENT_ID", Text(), "",
           "this service's client id at the provider"),
    Option("oidc.client_secret", "PACE_OIDC_CLIENT_SECRET", Text(), "",
           "this service's client secret at the provider", secret=True),
    Option("oidc.provider_name", "PACE_OIDC_PROVIDER_NAME", Text("\"your council account\""),
           "your council account", "what the sign-in button calls the provider"),
    Option("oidc.scopes", "PACE_OIDC_SCOPES", Words('["openid", "email", "profile"]'),
           "openid email profile", "the scopes asked of the provider"),
    Option("oidc.groups_claim", "PACE_OIDC_GROUPS_CLAIM", Text("\"groups\""), "groups",
           "the ID token claim that lists a person's groups"),
    Option("oidc.match", "PACE_OIDC_MATCH", Choice(("sub", "email")), "sub",
           "how a person is found: the provider's subject, or their e-mail address"),
    Option("oidc.create_people", "PACE_OIDC_CREATE_PEOPLE", YesNo(), "false",
           "add a person the provider vouches for at their first sign-in"),
    Option("oidc.role_map", "PACE_OIDC_ROLE_MAP",
           GroupMap('[oidc.role_map] "pace-social-workers" = "social_worker"'), "",
           "the roles each of the provider's groups gives"),
    Option("oidc.team_map", "PACE_OIDC_TEAM_MAP",
           GroupMap('[oidc.team_map] "cf-north" = "north"'), "",
           "the team each of the provider's groups gives"),
    Option("sign_in.local_passwords", "PACE_LOCAL_PASSWORDS", YesNo(), "true",
           "the sign-in page takes a username and password (off: the provider only)"),
    Option("measures.run_chart_few_children", "PACE_RUN_CHART_FEW_CHILDREN", Whole(1, 100, 5),
           "5", "a run chart marks each month resting on fewer children than this"),
    Option("cso_review.chair", "PACE_CSO_REVIEW_CHAIR",
           Choice(("independent_chair", "team_leader")), "independent_chair",
           "who chairs the Aim 1 review of a CSO at home: the independent chair or the team "
           "leader (workflows/rule_settings.py)"),
    Option("attachments.max_mb", "PACE_ATTACHMENT_MAX_MB", Whole(1, 500, 20), "20",
           "the largest file a worker may attach to a child or a task, in megabytes"),
    Option("attachments.clamd", "PACE_CLAMD", Text("\"unix:/run/clamav/clamd.ctl\"",
           r"(unix:/\S+|tcp://\S+:\d{1,5})", "unix:/path or tcp://host:port"), "",
           "the ClamAV daemon that scans every upload before it is stored (unset: not scanned)"),
)
BY_KEY: Mapping[str, Option] = {o.key: o for o in OPTIONS}
BY_VARIABLE: Mapping[str, Option] = {o.variable: o for o in OPTIONS}
TABLES = tuple(dict.fromkeys(o.key.split(".")[0] for o in OPTIONS if "." in o.key))


@dataclass(frozen=True)
class Loaded:
    """What ``apply`` did: the file read (None without ``PACE_CONFIG``), every value it holds
    by variable, and the variables it put into the environment (those the environment did
    not already set)."""
    path: Path | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    applied: frozenset[str] = frozenset()


# -- reading the file -------------------------------------------------------------------------
def read(path: Path) -> dict[str, str]:
    """The file's values by variable; ConfigurationError naming every problem."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigurationError([f"{path}: larger than {MAX_FILE_BYTES:,} bytes: is "
                                      f"{CONFIG_VARIABLE} naming the right file?"])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError([f"{CONFIG_VARIABLE}={path}: there is no such file; create it "
                                  "or unset the variable"]) from None
    except IsADirectoryError:
        raise ConfigurationError([f"{CONFIG_VARIABLE}={path}: this is a folder; name the "
                                  "settings file itself"]) from None
    except PermissionError:
        raise ConfigurationError([f"{CONFIG_VARIABLE}={path}: this user may not read it; let "
                                  "the service's user read the file"]) from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigurationError([f"{path}: not UTF-8 text; save it as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError([f"{path}: not valid TOML: {exc}"]) from None
    return values(document, str(path))


def values(document: Mapping, where: str) -> dict[str, str]:
    """A parsed TOML document's values by variable (pure); ConfigurationError listing every
    unknown key and every value of the wrong type, each with ``where`` and the key."""
    problems: list[str] = []
    found: dict[str, str] = {}
    for key, value in _flat(document, problems, where):
        option = BY_KEY.get(key)
        if option is None:
            problems.append(f"{where}: {key}: not a setting{_nearest(key)}")
            continue
        try:
            found[option.variable] = option.kind.from_toml(value)
        except ValueError as exc:  # a secret is never repeated, a URL without its password
            shown = HIDDEN if option.secret else _toml(
                option.kind.shown(value) if isinstance(option.kind, Url)
                and isinstance(value, str) else value)
            problems.append(f"{where}: {key}: {exc}, not {shown}")
    if problems:
        raise ConfigurationError(problems)
    return found


def _flat(document: Mapping, problems: list[str], where: str):
    for name, value in document.items():
        if isinstance(value, dict):
            if name not in TABLES:
                problems.append(f"{where}: [{name}]: not a table of settings{_nearest(name)}")
                continue
            for inner, inner_value in value.items():
                if isinstance(inner_value, dict) and not isinstance(
                        getattr(BY_KEY.get(f"{name}.{inner}"), "kind", None), GroupMap):
                    problems.append(f"{where}: {name}.{inner}: not a setting (tables do not "
                                    "nest)")
                else:
                    yield f"{name}.{inner}", inner_value
        else:
            yield name, value


def _nearest(key: str) -> str:
    close = difflib.get_close_matches(key, [*BY_KEY, *TABLES], n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    table, _, _ = key.rpartition(".")
    siblings = [o.key for o in OPTIONS if o.key.rpartition(".")[0] == table]
    where = f"the [{table}] settings" if table else "the settings outside tables"
    return f"{hint} ({where} are {', '.join(siblings)}; tables: {', '.join(TABLES)})"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 60 else f'"{value[:57]}..."'
    return repr(value)[:60]


# -- at start-up ------------------------------------------------------------------------------
def environment_problems(environ: Mapping[str, str]) -> list[str]:
    """The strict variables the environment sets to a value that cannot be used."""
    problems = []
    for option in OPTIONS:
        text = environ.get(option.variable)
        if option.strict and text is not None and text.strip():
            try:
                option.kind.check(text.strip())
            except ValueError as exc:
                shown = HIDDEN if option.secret else option.kind.shown(text)
                problems.append(f"{option.variable}={shown!r}: {exc}")
    return problems


def apply(environ: MutableMapping[str, str] | None = None) -> Loaded:
    """Read ``PACE_CONFIG``'s file, if named, into ``environ`` (default ``os.environ``)
    under the variables the environment does not set; check the strict variables. Run once
    at start-up, before anything reads a setting. ConfigurationError lists every problem."""
    environ = os.environ if environ is None else environ
    named = (environ.get(CONFIG_VARIABLE) or "").strip()
    loaded = Loaded()
    if named:
        path = Path(named)
        found = read(path)
        earlier = _applied_before.get(str(path), {})
        for variable, text in earlier.items():  # read again (gunicorn's reload): a key taken
            if variable not in found and environ.get(variable) == text:  # out of the file
                del environ[variable]                                     # is unset again
        applied = {v for v, text in found.items()
                   if v not in environ or (v in earlier and environ[v] == earlier[v])}
        for variable in applied:
            environ[variable] = found[variable]
        _applied_before[str(path)] = {v: found[v] for v in applied}
        loaded = Loaded(path, found, frozenset(applied))
    problems = environment_problems(environ)
    if problems:
        where = f" (from {loaded.path} or the environment)" if loaded.path else ""
        raise ConfigurationError([p + where for p in problems])
    return loaded


# What an earlier ``apply`` in this process put into the environment, so a second app built in
# the same process (a test, the CLI's app) still reports those values as the file's.
_applied_before: dict[str, dict[str, str]] = {}


# -- where each value came from ---------------------------------------------------------------
@dataclass(frozen=True)
class Shown:
    key: str
    variable: str | None
    value: str
    source: str          # default | file | environment | database
    meaning: str = ""


def report(environ: Mapping[str, str], loaded: Loaded) -> list[Shown]:
    """Every setting of the catalogue, its value (secrets hidden) and where it came from."""
    rows = []
    for option in OPTIONS:
        text = environ.get(option.variable)
        if text is None or not text.strip():
            source, value = "default", option.default
        else:
            source = "file" if option.variable in loaded.applied else "environment"
            value = HIDDEN if option.secret else option.kind.shown(text)
        rows.append(Shown(option.key, option.variable, value, source, option.meaning))
    return rows


def configured(environ: Mapping[str, str], variable: str) -> str | None:
    """The variable's value, stripped, or None when unset or blank."""
    text = (environ.get(variable) or "").strip()
    return text or None
