"""Personal API tokens: created, listed, revoked and checked (no Flask here).

A token is ``pace_`` followed by 43 random URL-safe characters (256 bits), shown once. Only
its sha256 is stored: a token has far too much entropy to guess, so a slow password hash
buys nothing and a plain digest lets every request find its row by an indexed lookup.
Creating and revoking are audit events; using a token updates ``last_used_at`` (at most
once a minute, so reading the API does not write on every request). Every token expires:
after ``DEFAULT_DAYS`` unless its maker chose another lifetime (at most ``MAX_DAYS``).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.models import ApiToken, UserAccount

PREFIX = "pace_"
MAX_LENGTH = 200
TOUCH_EVERY = timedelta(minutes=1)
DEFAULT_DAYS = 90
MAX_DAYS = 3650
# Tokens for someone else are an administrator's act (for service users: accounts made for
# an integration with `pace user create`, holding only the roles it needs).
ISSUER_ROLE = "admin"


class TokenError(ValueError):
    """A token that cannot be made as asked; the message says why."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    return clock.aware(moment) if moment is not None else None


def is_active(token: ApiToken, now: datetime | None = None) -> bool:
    now = now or clock.now()
    expires = _aware(token.expires_at)
    return token.revoked_at is None and (expires is None or expires > now)


def create(session: Session, holder: UserAccount, name: str, actor: str,
           expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``holder``; returns the row and the secret (shown once). It expires
    after ``expires_in_days`` (default ``DEFAULT_DAYS``)."""
    name = (name or "").strip()
    if not name:
        raise TokenError("give the token a name that says what it is for")
    days = DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"a token lasts from 1 to {MAX_DAYS} days, not {days}")
    if not holder.active:
        raise TokenError(f"{holder.username} is not an active user")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(user_id=holder.id, name=name[:100], token_hash=digest(secret),
                     prefix=secret[:len(PREFIX) + 4], created_at=now, created_by=actor,
                     expires_at=now + timedelta(days=days))
    session.add(token)
    session.flush()
    audit.record(session, "api_token_created", actor,
                 data={"token_id": token.id, "user": holder.username, "name": token.name,
                       "expires_at": token.expires_at})
    return token, secret


def revoke(session: Session, token: ApiToken, actor: str) -> bool:
    """Revoke (idempotent): False when it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at, token.revoked_by = clock.now(), actor
    holder = session.get(UserAccount, token.user_id)
    audit.record(session, "api_token_revoked", actor,
                 data={"token_id": token.id, "user": holder.username if holder else None,
                       "name": token.name})
    return True


def for_user(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def authenticate(session: Session, secret: str) -> UserAccount | None:
    """The active user a presented token belongs to, or None (unknown, revoked, expired,
    or the user deactivated)."""
    if not secret.startswith(PREFIX) or len(secret) > MAX_LENGTH or not secret.isascii():
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    now = clock.now()
    if token is None or not is_active(token, now):
        return None
    user = session.get(UserAccount, token.user_id)
    if user is None or not user.active:
        return None
    last = _aware(token.last_used_at)
    if last is None or now - last >= TOUCH_EVERY:
        token.last_used_at = now
    return user
