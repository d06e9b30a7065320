"""What a session remembers between calls of the engine's modules: one documented object.

State is passed as parameters wherever a caller stands between the code that learns a fact
and the code that needs it. A few facts have no such caller: the audit chain heads a
transaction has locked (taken by ``audit.lock_chain`` in one command, reused by every
``audit.record`` after it), and what notice derivation, run from a flush listener, learnt
in earlier flushes of the same transaction. They live on one ``SessionMemo`` per session,
under the one ``session.info`` key ``KEY``; each field says how long it lives, and
``forget_at_transaction_ends`` attaches to a session factory the listeners that forget it
(engine/db.py ``make_session_factory``, so every session of the engine has them).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

KEY = "pace_memo"


@dataclass(eq=False)
class SessionMemo:
    # For the session's life.
    notices_off: bool = False
    """Its flushes derive no notices (``notice_derivation.switch_off``: a bulk import's
    historic steps are not news)."""

    # Until the transaction ends, or any rollback (a rolled-back savepoint may have
    # released locks taken inside it).
    locked_heads: dict = field(default_factory=dict)
    """Audit chain -> its head row, locked FOR UPDATE by this transaction (engine/audit/chain.py):
    an event appended later reuses the lock and the row instead of reading them again."""

    # Until commit or rollback.
    timers_fired: set = field(default_factory=set)
    """Instances a timer fired for in this transaction: notice rules ``after_timer`` apply
    to their later events (engine/notice_derivation.py)."""

    # Until the transaction or a savepoint ends, any rollback, or a write of the rows read
    # (engine/notice_derivation.py forgets them then).
    notice_reads: dict = field(default_factory=dict)
    """Role holders, display names and mail choices read while deriving notices: a timer
    batch notifies the same few people about many children."""


def memo(session: Session) -> SessionMemo:
    """The session's memo (made on first use)."""
    found = session.info.get(KEY)
    if found is None:
        found = session.info[KEY] = SessionMemo()
    return found


def forget_at_transaction_ends(factory: sessionmaker) -> None:
    """Make the sessions of ``factory`` forget each memo field when its life ends."""
    event.listen(factory, "after_transaction_end", _transaction_ended)
    event.listen(factory, "after_soft_rollback", _rolled_back)
    event.listen(factory, "after_commit", _finished)
    event.listen(factory, "after_rollback", _finished)


def forget_notice_reads(session: Session) -> None:
    found = session.info.get(KEY)
    if found is not None and found.notice_reads:
        found.notice_reads = {}


def _transaction_ended(session: Session, transaction) -> None:
    found = session.info.get(KEY)
    if found is None:
        return
    # The transaction's end, or a savepoint's; not the inner transaction every flush opens
    # and closes.
    if transaction.parent is None:
        found.locked_heads, found.notice_reads = {}, {}
    elif transaction.nested:
        found.notice_reads = {}


def _rolled_back(session: Session, _previous) -> None:
    found = session.info.get(KEY)
    if found is not None:
        found.locked_heads, found.notice_reads = {}, {}


def _finished(session: Session) -> None:
    found = session.info.get(KEY)
    if found is not None and found.timers_fired:
        found.timers_fired = set()
