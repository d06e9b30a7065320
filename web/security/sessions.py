"""The server's record of each signed-in browser session.

Flask keeps the session in a signed cookie, so without a record on the server a cookie
copied before sign-out would still work until it expired. Each sign-in stores the hash of
a random token here and puts the token in the cookie; the user loader accepts a cookie
only while its row exists. Sign-out deletes the row, so a replayed cookie is refused, and
a leaked SECRET_KEY alone cannot forge a session. Rows also end after ``SESSION_MAX_HOURS``
whatever the activity, which bounds how long one sign-in lasts and keeps the table small.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.orm import Session

# The table is declared with the others (tables are the schema's, not the web app's).
from engine.models import SignInSession, UserAccount


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _oldest(max_hours: float) -> datetime:
    # Wall-clock time, not the injectable business clock: this bounds a real browser session.
    return datetime.now(timezone.utc) - timedelta(hours=max_hours)


def start(session: Session, user_id: int, max_hours: float, id_token: str | None = None) -> str:
    """A new session for the user; returns the token for the cookie. Drops expired rows.
    ``id_token``: the provider's, for a sign-in through it (sent back at sign-out)."""
    session.execute(delete(SignInSession).where(SignInSession.created_at < _oldest(max_hours)))
    token = secrets.token_urlsafe(32)
    session.add(SignInSession(user_id=user_id, token_hash=_hash(token),
                              created_at=datetime.now(timezone.utc), id_token=id_token))
    return token


# Built once: the user loader runs this on every request.
_USER_AND_SESSION = select(UserAccount, SignInSession.id).outerjoin(SignInSession, and_(
    SignInSession.user_id == UserAccount.id, SignInSession.token_hash == bindparam("token_hash"),
    SignInSession.created_at >= bindparam("oldest"))).where(UserAccount.id == bindparam("user_id"))


def user_and_live(session: Session, user_id: int, token: str,
                  max_hours: float) -> tuple[UserAccount | None, bool]:
    """The user, and whether ``token`` is one of their live sessions, in one query."""
    row = session.execute(_USER_AND_SESSION, {"user_id": user_id, "token_hash": _hash(token),
                                              "oldest": _oldest(max_hours)}).first()
    return (row[0], row[1] is not None) if row else (None, False)


def end(session: Session, token: str) -> str | None:
    """Ends the session; returns its provider ID token, if it was a sign-in through one."""
    return session.scalar(delete(SignInSession).where(SignInSession.token_hash == _hash(token))
                          .returning(SignInSession.id_token))
