"""The acting user's own row, for engine calls that record who acted."""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine.errors import Forbidden
from engine.models import UserAccount

from ..policy import Actor


def account(session: Session, actor: Actor) -> UserAccount:
    """The actor's active account; 403 when it was deactivated during the session."""
    found = session.get(UserAccount, actor.id)
    if found is None or not found.active:
        raise Forbidden("Your account is no longer active; ask an administrator.")
    return found
