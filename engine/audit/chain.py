"""Append-only, hash-chained audit events.

One chain per subject (a child's whole history, across process instances) plus a
``system`` chain. Each event stores sha256(previous hash + canonical event); the chain head
row is updated in the same transaction, so an edited, deleted or reordered row — including
the last one — breaks verification.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Select, String, cast, literal, select
from sqlalchemy.orm import Session

from .. import clock
from ..db import new_row
from ..models import AuditChain, AuditEvent
from ..session_memo import memo

GENESIS = "0" * 64


SUBJECT_CHAIN = "subject:"  # + the subject's id


def chain_for(subject_id: int | None) -> str:
    return f"{SUBJECT_CHAIN}{subject_id}" if subject_id is not None else "system"


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: AuditEvent) -> str:
    return json.dumps({
        "chain": event.chain, "seq": event.chain_seq, "at": _utc_text(event.at),
        "type": event.event_type, "actor": event.actor, "subject": event.subject_id,
        "instance": event.instance_id, "task": event.task_id, "data": event.data,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


def _json_safe(data: dict | None) -> dict:
    return json.loads(json.dumps(data or {}, default=str))


# The heads this transaction locked are remembered in the session's memo
# (engine/session_memo.py ``locked_heads``): a row lock lives as long as the transaction
# that took it, and a rolled-back savepoint may release locks taken inside it, so the memo
# forgets them at the transaction's end and on any rollback, and the next append locks again.


def _locked_head(session: Session, chain: str, *, skip_locked: bool = False) -> AuditChain | None:
    """Read the head row FOR UPDATE, freshly (a copy read before the lock may be stale)."""
    head = session.scalars(select(AuditChain).where(AuditChain.chain == chain)
                           .with_for_update(skip_locked=skip_locked)
                           .execution_options(populate_existing=True)).first()
    if head is not None:
        memo(session).locked_heads[chain] = head
    return head


def lock_chain(session: Session, subject_id: int | None, *, skip_locked: bool = False) -> bool:
    """Take the child's chain head lock; every write about a child takes it FIRST.

    One lock, always taken first, gives all writers about the same child a single order,
    so they queue instead of deadlocking, and each reads the others' committed work.
    Returns False when ``skip_locked`` and another transaction holds it. The locked head
    row stays in the session, so the events this transaction appends reuse it.
    """
    chain = chain_for(subject_id)
    if chain in memo(session).locked_heads:
        return True
    if _locked_head(session, chain, skip_locked=skip_locked) is not None:
        return True
    if skip_locked and session.scalar(select(AuditChain.chain).where(AuditChain.chain == chain)):
        return False
    return True  # no chain yet: the first event creates it


def lock_chains(session: Session, subject_ids) -> set:
    """``lock_chain(skip_locked=True)`` for many children in one statement: the ids of
    those this transaction now holds (or whose chain does not exist yet). Never waits, so
    taking many at once cannot deadlock; a busy child is left for the next sweep."""
    held = memo(session).locked_heads
    chains = {chain_for(subject_id): subject_id for subject_id in subject_ids}
    wanted = [chain for chain in chains if chain not in held]
    unborn: set[str] = set()
    if wanted:
        for head in session.scalars(select(AuditChain).where(AuditChain.chain.in_(wanted))
                                    .with_for_update(skip_locked=True)
                                    .execution_options(populate_existing=True)):
            held[head.chain] = head
        missing = [chain for chain in wanted if chain not in held]
        if missing:  # busy elsewhere, or no chain yet (the first event creates it)
            unborn = set(missing) - set(session.scalars(
                select(AuditChain.chain).where(AuditChain.chain.in_(missing))))
    return {subject_id for chain, subject_id in chains.items() if chain in held or chain in unborn}


def chain_of(subject_id):
    """The chain of the subject an SQL expression names, as chain_for() makes it."""
    return literal(SUBJECT_CHAIN) + cast(subject_id, String)


def chain_lock(subject_id) -> Select:
    """The statement ``lock_chain_of`` runs for the subject a scalar subquery names (e.g. a
    work item's). Build it once and keep it: a kept statement is not built, keyed for the
    compiled cache and coerced again on every request."""
    return (select(AuditChain).where(AuditChain.chain == chain_of(subject_id)).with_for_update()
            .execution_options(populate_existing=True))


def hold(session: Session, head: AuditChain) -> None:
    """Count ``head``, read freshly by a statement of the caller's, as locked by this
    transaction (SQLite: see work_items.get_open_with_instance)."""
    memo(session).locked_heads[head.chain] = head


def lock_chain_of(session: Session, statement: Select, params: dict) -> bool:
    """``lock_chain`` for the subject a ``chain_lock`` statement names, in one statement
    instead of a read then a lock. False when it finds no subject or the subject has no
    chain yet (the caller then reads and locks in two steps)."""
    head = session.scalars(statement, params).first()
    if head is None:
        return False
    hold(session, head)
    return True


def record(session: Session, event_type: str, actor: str, *, subject_id: int | None = None,
           instance_id: int | None = None, task_id: str | None = None,
           data: dict | None = None) -> AuditEvent:
    chain = chain_for(subject_id)
    head = memo(session).locked_heads.get(chain)  # locked earlier in this transaction
    if head is None:  # a chain begun earlier in this transaction, not yet flushed
        head = next((obj for obj in session.new
                     if isinstance(obj, AuditChain) and obj.chain == chain), None)
    if head is None:
        head = _locked_head(session, chain)
    if head is None:
        head = AuditChain(chain=chain, last_seq=0, last_hash=GENESIS)
        session.add(head)
    event = new_row(AuditEvent, chain=chain, chain_seq=head.last_seq + 1, at=clock.now(),
                    event_type=event_type, actor=actor or "system", subject_id=subject_id,
                    instance_id=instance_id, task_id=task_id, data=_json_safe(data),
                    prev_hash=head.last_hash)
    event.__dict__["hash"] = compute_hash(head.last_hash, event)
    head.last_seq, head.last_hash = event.chain_seq, event.hash
    session.add(event)
    return event


@dataclass(frozen=True)
class Break:
    chain: str
    event_id: int | None
    chain_seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event {self.event_id} (chain {self.chain}, #{self.chain_seq})" \
            if self.event_id is not None else f"chain {self.chain}"
        return f"{where}: {self.reason}"


def verify(session: Session, chains: list[str] | None = None) -> Break | None:
    """First broken link, or None when every chain is intact."""
    heads = {h.chain: h for h in session.scalars(select(AuditChain))}
    query = select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.chain_seq)
    if chains is not None:
        query = query.where(AuditEvent.chain.in_(chains))
    seen: dict[str, tuple[int, str]] = {}
    for event in session.scalars(query).yield_per(1000):
        seq, prev = seen.get(event.chain, (0, GENESIS))
        if event.chain_seq != seq + 1:
            return Break(event.chain, event.id, event.chain_seq,
                         f"expected event #{seq + 1} next; events are missing or reordered")
        if event.prev_hash != prev:
            return Break(event.chain, event.id, event.chain_seq,
                         "its link to the previous event does not match (an event was "
                         "removed, inserted or reordered)")
        if compute_hash(prev, event) != event.hash:
            return Break(event.chain, event.id, event.chain_seq,
                         "its content does not match its hash (the row was edited)")
        seen[event.chain] = (event.chain_seq, event.hash)
    for chain, head in heads.items():
        if chains is not None and chain not in chains:
            continue
        seq, last = seen.get(chain, (0, GENESIS))
        if (seq, last) != (head.last_seq, head.last_hash):
            return Break(chain, None, seq, f"the chain ends at #{seq} but {head.last_seq} "
                                           "events were written; the latest events were deleted")
    for chain in seen:
        if chain not in heads:
            return Break(chain, None, None, "the chain has no head record")
    return None
