"""How long a case note stays editable: pure rules, no database.

A note is part of the child's record, which colleagues, managers and auditors rely on. Its
author may correct a slip for a short while after writing it; after that it stands as
written (a later note can correct it). It is never deleted. Every version is kept in the
child's audit chain (``case_note_added``, ``case_note_edited``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

EDIT_WINDOW = timedelta(minutes=15)
MAX_NOTE_CHARS = 10_000  # several pages of typing; a report belongs in an attachment


def edit_refusal(author_id: int, written_at: datetime, actor_id: int,
                 now: datetime) -> str | None:
    """Why ``actor_id`` may not change a note written by ``author_id`` at ``written_at``
    (None when they may)."""
    if author_id != actor_id:
        return "Only the person who wrote a note can change it. Add a new note instead."
    if now - written_at > EDIT_WINDOW:
        return ("A note can be changed only in the 15 minutes after it was written, and "
                "this one is older. Add a new note to correct or add to it.")
    return None


def text_problem(text: str) -> str | None:
    """What is wrong with a note's text (None when it can be kept)."""
    if not text.strip():
        return "Enter the note."
    if len(text) > MAX_NOTE_CHARS:
        return (f"A note can be at most {MAX_NOTE_CHARS:,} characters; this one has "
                f"{len(text):,}. Shorten it, or attach a document instead.")
    return None


def editable_until(written_at: datetime) -> datetime:
    return written_at + EDIT_WINDOW
