"""The audit trail: hash chains, their verification, exports and the path replay.

- ``chain`` (engine/audit/chain.py): append-only, hash-chained audit events, one chain per
  subject plus ``system``; ``record``, ``verify``, the chain-head locks (``lock_chain`` …).
  Its public names are re-exported here, so ``from engine import audit; audit.record(...)``.
- ``export`` (engine/audit/export.py): exports (JSON, CSV) that carry every hashed field, and
  their offline verification (``read_export``, ``verify_rows``).
- ``path`` (engine/audit/path.py): a process-model version read as a graph (element names,
  kinds, flows) and the replay of one instance's audit events through it: the elements
  done, passed and waiting, the flows taken, the time in each task.
"""
from __future__ import annotations

from .chain import (GENESIS, SUBJECT_CHAIN, Break, canonical, chain_for, chain_lock, chain_of,
                    compute_hash, hold, lock_chain, lock_chain_of, lock_chains, record, verify)

__all__ = ["GENESIS", "SUBJECT_CHAIN", "Break", "canonical", "chain_for", "chain_lock",
           "chain_of", "compute_hash", "hold", "lock_chain", "lock_chain_of", "lock_chains",
           "record", "verify"]
