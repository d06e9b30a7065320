"""The Data quality view: which children's milestones the measures cannot trust.

``report`` is what the Measures page and ``GET /api/v1/measures/data-quality`` both call,
so they show the same problems to the same people: the counts for every measures role,
the children named only for those who may open their records (``workflows.policy``). The
rules are ``workflows.measures.data_quality``'s.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from engine.errors import Forbidden
from workflows import policy
from workflows.measures import data_quality as rules
from workflows.measures.data import load_episodes
from workflows.policy import Actor


@dataclass(frozen=True)
class Report:
    today: date
    counts: Counter               # kind -> problems
    children: int                 # children with at least one problem
    problems: list[rules.Problem] | None  # None: this person may not see who they are


def report(session: Session, actor: Actor, teams: Sequence[str] | None,
           today: date) -> Report:
    """Every problem in the children of ``teams`` (None: every team; the caller has already
    narrowed a team-scoped person to their own team) as at ``today``."""
    if not policy.can_view_data_quality(actor):
        raise Forbidden("Data quality is for team leaders, service managers, process owners, "
                        "auditors and administrators.")
    found = [problem for process in rules.ORDERS
             for problem in rules.problems(load_episodes(session, process,
                                                         codes=rules.ORDERS[process],
                                                         teams=teams), today)]
    found.sort(key=lambda p: (p.child.reference, p.instance_id))
    named = found if policy.can_name_data_quality_children(actor) else None
    return Report(today, rules.tally(found), len({p.child.id for p in found}), named)
