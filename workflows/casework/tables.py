"""The ``case_note`` and ``attachment`` tables (migration 0016).

Attachments are kept in the database, not in a folder: the file and the audit event that
records its upload are written in one transaction (no file without its record, no record
without its file after a crash or a rollback), the council's database backups already hold
them, and several web servers need no shared disk. The 20 MB default keeps rows to a size
both SQLite and PostgreSQL store comfortably; ``content`` is loaded only for a download.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine import clock
from engine.models import Base


def _now() -> datetime:
    return clock.now()


class CaseNote(Base):
    """A note or comment on a child (``work_item_id`` empty) or on one of its tasks. Never
    deleted; its author may change it for 15 minutes (workflows/casework/note_rules.py), each
    version in the child's audit chain."""
    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_subject", "subject_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_item.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attachment(Base):
    """A file on a child (``work_item_id`` empty) or on one of its tasks, with its type as read
    from its content and its SHA-256."""
    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_subject", "subject_id", "uploaded_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_item.id"), index=True)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    scanned: Mapped[bool] = mapped_column(default=False)  # by ClamAV (PACE_CLAMD) before storing
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
