"""How many times a client may get a password wrong: limits per address and per account.

The aim is that nobody can keep a user out, and nobody can guess passwords or burn the
server's CPU quickly:

* **Per client address** (an IPv4 address, or an IPv6 address's /64, which one client
  usually holds whole): ``address_failures`` failed sign-ins in a ``window`` block the
  address for ``first_block``, doubled by each further block within ``memory`` (up to
  ``longest_block``). While blocked, every attempt from it is answered at once with 429 —
  no account is read and no password hashed — and only counted.
* **Per account**: never a refusal. An account's failures in its window make each further
  failure against it weigh more on the failing address (``weight``): two from the
  ``account_failures``-th, then doubling, up to a whole address limit. So a stream of
  guesses at one account, from one address or many, gets each address blocked after
  fewer guesses, while the account's owner, from an address not over its own limit, signs
  in with the right password as usual.
* **Audit**: a failure naming a real account is the ``sign_in_failed`` event of that
  account (at most the address limit per address and window). Failures naming no account
  are only counted; one ``sign_in_summary`` event per address and window gives the count
  (and the attempts refused while blocked), with the actor ``anonymous``. The typed names
  are not recorded at all: a name that is no account is often a password typed into the
  wrong box. A block is one ``sign_in_blocked`` event.

The counts are rows of ``sign_in_limit`` shared by every web worker; the times are wall
clock times, not the business clock. A window is closed (its summary written) by the next
attempt from the address or by ``pace worker`` (``close_windows``), which also forgets
rows quiet for ``memory``. The counts are only as good as the client address: behind a
proxy the app must be told how many proxies to trust, or every client is the proxy.
"""
from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.models import SignInLimit

ADDRESS, ACCOUNT = "address", "account"
ANONYMOUS = "anonymous"  # the actor of events about attempts that named no account

# Setting: (config key, environment variable, default)
SETTINGS = {
    "address_failures": ("SIGN_IN_ADDRESS_LIMIT", "PACE_SIGN_IN_ADDRESS_LIMIT", 10),
    "account_failures": ("SIGN_IN_ACCOUNT_LIMIT", "PACE_SIGN_IN_ACCOUNT_LIMIT", 5),
    "window_minutes": ("SIGN_IN_WINDOW_MINUTES", "PACE_SIGN_IN_WINDOW_MINUTES", 15),
    "block_minutes": ("SIGN_IN_BLOCK_MINUTES", "PACE_SIGN_IN_BLOCK_MINUTES", 15),
}


@dataclass(frozen=True)
class Limits:
    address_failures: int = 10
    account_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    first_block: timedelta = timedelta(minutes=15)
    longest_block: timedelta = timedelta(hours=24)
    memory: timedelta = timedelta(hours=24)  # blocks further back than this are forgiven

    @classmethod
    def from_config(cls, config: Mapping, environ: Mapping[str, str] = os.environ) -> "Limits":
        """From the app's config (``SIGN_IN_ADDRESS_LIMIT`` …), else the environment
        (``PACE_SIGN_IN_ADDRESS_LIMIT`` …), else the defaults."""
        found = {}
        for name, (key, variable, default) in SETTINGS.items():
            value = config.get(key)
            if value is None:
                text = environ.get(variable, "").strip()
                if text and not (text.isdigit() and int(text) > 0):
                    raise ValueError(f"{variable}={text!r} must be a whole number above 0")
                value = int(text) if text else default
            found[name] = int(value)
        return cls(address_failures=found["address_failures"],
                   account_failures=found["account_failures"],
                   window=timedelta(minutes=found["window_minutes"]),
                   first_block=timedelta(minutes=found["block_minutes"]))

    def block_for(self, strikes: int) -> timedelta:
        """The block after ``strikes`` earlier blocks: doubling each time, to a limit."""
        return min(self.first_block * 2 ** min(strikes, 20), self.longest_block)

    def weight(self, account_failures: int) -> int:
        """What one failure counts for against its address, when the account it named has
        failed ``account_failures`` times (this one included) in its window."""
        over = account_failures - self.account_failures
        if over < 0:
            return 1
        return min(self.address_failures, 2 ** (over // self.account_failures + 1))


def now() -> datetime:
    return datetime.now(timezone.utc)


def seconds_left(until: datetime) -> int:
    return max(1, math.ceil((until - now()).total_seconds()))


def try_again_text(until: datetime) -> str:
    """"Try again after 10:45 (in 15 minutes)." in the workers' clock (GMT/BST, or the
    deployment's ``PACE_TIME_ZONE``, as the pages show times)."""
    try:
        zone = os.environ.get("PACE_TIME_ZONE", "").strip() or "Europe/London"
        local = f"{until.astimezone(ZoneInfo(zone)):%H:%M}"
    except ZoneInfoNotFoundError:  # no tz database installed
        local = f"{until:%H:%M} UTC"
    minutes = math.ceil(seconds_left(until) / 60)
    return f"Try again after {local} (in {minutes} minute{'s' if minutes != 1 else ''})."


def address_key(remote_addr: str | None) -> str:
    """The address the limits count: IPv4 as it is, IPv6 by its /64 (one household or
    server holds a whole /64), an IPv4-mapped IPv6 address as its IPv4 address."""
    text = (remote_addr or "").strip()
    try:
        found = ipaddress.ip_address(text)
    except ValueError:
        return text[:64] or "unknown"
    if isinstance(found, ipaddress.IPv6Address):
        if found.ipv4_mapped is not None:
            return str(found.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{found}/64", strict=False))
    return str(found)


def _aware(moment: datetime | None) -> datetime | None:
    return clock.aware(moment) if moment is not None else None


def refused_until(session: Session, address: str, at: datetime) -> datetime | None:
    """When the address's block ends, if it is blocked at ``at``; else None. Reads only."""
    until = _aware(session.scalar(select(SignInLimit.blocked_until).where(
        SignInLimit.kind == ADDRESS, SignInLimit.key == address)))
    return until if until is not None and until > at else None


def count_refused(session: Session, address: str) -> None:
    """One more attempt refused from a blocked address (reported in its window's summary)."""
    session.execute(update(SignInLimit).where(SignInLimit.kind == ADDRESS,
                                              SignInLimit.key == address)
                    .values(refused=SignInLimit.refused + 1)
                    .execution_options(synchronize_session=False))


def record_failure(session: Session, limits: Limits, address: str, account_id: int | None,
                   at: datetime) -> datetime | None:
    """Count a failed sign-in from ``address`` naming ``account_id`` (None: no account).
    Returns when the address's block ends if this failure blocked it, else None.

    The address's row is locked first, then the account's, then the audit chain (every
    writer here takes them in that order)."""
    row = _locked(session, ADDRESS, address, at, limits)
    weight = 1
    if account_id is not None:
        account = _locked(session, ACCOUNT, str(account_id), at, limits)
        account.failures += 1
        weight = limits.weight(account.failures)
    else:
        row.unknown_names += 1
    row.failures += weight
    blocked = _aware(row.blocked_until)
    if row.failures < limits.address_failures or (blocked is not None and blocked > at):
        return None
    until = at + limits.block_for(row.strikes)
    row.blocked_until = row.window_ends = until
    row.strikes += 1
    audit.record(session, "sign_in_blocked", ANONYMOUS, data={
        "ip": address, "failures": row.failures, "unknown_names": row.unknown_names,
        "until": until.isoformat(timespec="seconds"), "blocks_in_a_row": row.strikes})
    return until


def _locked(session: Session, kind: str, key: str, at: datetime, limits: Limits) -> SignInLimit:
    """The (kind, key) row, made if missing, locked, with its window moved on if it ended."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(SignInLimit).values(
        kind=kind, key=key, failures=0, unknown_names=0, refused=0, strikes=0,
        window_started=at, window_ends=at + limits.window).on_conflict_do_nothing(
        index_elements=["kind", "key"]))
    row = session.scalars(select(SignInLimit).where(SignInLimit.kind == kind,
                                                    SignInLimit.key == key)
                          .with_for_update().execution_options(populate_existing=True)).one()
    if _aware(row.window_ends) <= at:
        _close(session, row)
        row.window_started, row.window_ends = at, at + limits.window
        blocked = _aware(row.blocked_until)
        if blocked is not None and at - blocked > limits.memory:
            row.strikes, row.blocked_until = 0, None
    return row


def _close(session: Session, row: SignInLimit) -> bool:
    """End the row's window: its summary event when it counted attempts that named no
    account or were refused; the counts start again. True when a summary was written."""
    wrote = False
    if row.kind == ADDRESS and (row.unknown_names or row.refused):
        audit.record(session, "sign_in_summary", ANONYMOUS, data={
            "ip": row.key, "unknown_names": row.unknown_names, "refused": row.refused,
            "from": _aware(row.window_started).isoformat(timespec="seconds"),
            "to": _aware(row.window_ends).isoformat(timespec="seconds")})
        wrote = True
    row.failures = row.unknown_names = row.refused = 0
    return wrote


def close_windows(session: Session, at: datetime, limits: Limits = Limits(),
                  batch: int = 500) -> int:
    """For ``pace worker``: write the summaries of windows that ended with nobody trying
    again since, then forget rows quiet for ``limits.memory``. Returns summaries written.

    Rows are taken with ``SKIP LOCKED``: a row a sign-in holds is left to that sign-in, so
    this never waits for a row, in particular not while it holds the audit chain that the
    sign-in will ask for next."""
    rows = session.scalars(select(SignInLimit).where(
        SignInLimit.window_ends <= at, or_(SignInLimit.unknown_names > 0,
                                           SignInLimit.refused > 0, SignInLimit.failures > 0))
        .order_by(SignInLimit.id).limit(batch).with_for_update(skip_locked=True)).all()
    written = sum(_close(session, row) for row in rows)
    session.flush()
    quiet = session.scalars(select(SignInLimit.id).where(
        SignInLimit.window_ends < at - limits.memory, SignInLimit.unknown_names == 0,
        SignInLimit.refused == 0).limit(batch).with_for_update(skip_locked=True)).all()
    if quiet:
        session.execute(delete(SignInLimit).where(SignInLimit.id.in_(quiet))
                        .execution_options(synchronize_session=False))
    return written


def blocked_now(session: Session, at: datetime) -> int:
    """How many addresses are blocked at ``at`` (for the administrators' status)."""
    return session.scalar(select(func.count()).select_from(SignInLimit).where(
        SignInLimit.kind == ADDRESS, SignInLimit.blocked_until > at)) or 0
