"""E-mail addresses for the demo users, and the outbox rows a test reads back."""
from __future__ import annotations

from sqlalchemy import select

from engine.models import OutboxMessage, UserAccount


def give_emails(db) -> None:
    with db.transaction() as session:
        for user in session.scalars(select(UserAccount)):
            user.email = f"{user.username}@council.example"


def outbox_rows(db, **where):
    with db.transaction() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for key, value in where.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return list(session.scalars(query))
