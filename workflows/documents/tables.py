"""The ``generated_document`` table (migration 0017).

A generated document is kept with the child, as an attachment is (workflows/casework/tables.py:
in the database, written with its audit event in one transaction): the very bytes a worker
sent to the Reporter or to Legal Services can be downloaded again and matched by their SHA-256,
whatever later versions of the template say. The template's own SHA-256 and the process
version it came with are kept too, so an auditor can tell which wording made it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from engine import clock
from engine.models import Base


def _now() -> datetime:
    return clock.now()


class GeneratedDocument(Base):
    """A document made from a completed task's answers and its version's Word template."""
    __tablename__ = "generated_document"
    __table_args__ = (Index("ix_generated_document_subject", "subject_id", "made_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(255))
    template_name: Mapped[str] = mapped_column(String(120))
    template_sha256: Mapped[str] = mapped_column(String(64))
    process_id: Mapped[str] = mapped_column(String(100))
    process_version: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    made_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    reason: Mapped[str] = mapped_column(String(20))  # completed | on_demand
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
