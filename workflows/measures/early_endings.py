"""Children whose journey ended early, as an aim counts them (issue 29).

A journey ended early (workflows/services/journey_endings.py: removed from voluntary care,
turned 18, moved council) is *censored* at its ending date, as the aims already treat any
episode that ends: ended before the deadline without the step, the child leaves the aim's
population (status ``ended``: neither on time nor overdue); ended after a deadline already
missed, the miss stands (``overdue``: the deadline passed while the child was still
waiting); a step done before the ending counts as it was done. Nothing here decides that:
the ended children's clocks go through the aim's own rules (``aim1_of``/``aim2_of``), so
this table can never disagree with the aim's figures. It only adds what the figures
cannot say: who ended early, why, and where the aim put them.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Milestone, ProcessInstance, Subject
from engine.runtime import ENDED_EARLY
from workflows import profiles
from workflows.measures import aim_results, disclosure, pdsa
from workflows.measures.aim_statuses import STATUS_LABELS, AimResult
from workflows.measures.disclosure import Group
from workflows.measures.records import Child

# The aims whose population is one child per episode (Aim 3 counts recommendations).
AIMS = (1, 2)
_RULES = {1: aim_results.aim1_of, 2: aim_results.aim2_of}
NOT_IN_AIM = "Not in the aim (its clock started before the aim, or never started)"


class EndedEarly(NamedTuple):
    child: Child
    instance_id: int
    ended_on: date
    reason: str             # the reason's code
    label: str              # the reason in plain words
    counted: str            # how the aim counts the child, in words


class EarlyEndings(NamedTuple):
    aim: int
    children: list[EndedEarly]

    def reasons(self) -> list[tuple[str, str, int]]:
        """(code, label, children) per reason, most first."""
        counts = Counter((e.reason, e.label) for e in self.children)
        return [(code, label, n) for (code, label), n in
                sorted(counts.items(), key=lambda item: (-item[1], item[0][1]))]

    @property
    def left_the_aim(self) -> int:
        return sum(1 for e in self.children if e.counted == STATUS_LABELS["ended"])


def _labels(process_id: str) -> dict[str, str]:
    """The reasons' words in the profile the aim's process belongs to."""
    profile = profiles.for_process(process_id) or profiles.SCOTLAND_PROFILE
    return {e.code: e.label for e in profile.early_endings}


def for_aim(session: Session, result: AimResult, teams: Sequence[str] | None) -> EarlyEndings:
    """The children of the aim's process whose journey ended early on or before the
    measurement date, in ``teams`` (None: every team), each with how ``result``'s rules
    count them."""
    aim, on = result.aim, result.measured_on
    if aim not in AIMS:
        return EarlyEndings(aim, [])
    anchor_code, done_code, detail = aim_results.AIM_CLOCKS[aim]
    endings = {p.ending_milestone for p in profiles.PROFILES.values()}
    query = (select(ProcessInstance.id, Subject.id, Subject.reference, Subject.display_name,
                    Subject.team, Subject.date_of_birth, Milestone.actual_date, Milestone.data)
             .join(Subject, Subject.id == ProcessInstance.subject_id)
             .join(Milestone, Milestone.instance_id == ProcessInstance.id)
             .where(ProcessInstance.process_id == pdsa.AIM_PROCESS[aim],
                    ProcessInstance.status == ENDED_EARLY, Milestone.code.in_(sorted(endings)),
                    Milestone.actual_date <= on)
             .order_by(Milestone.actual_date, ProcessInstance.id))
    if teams is not None:
        query = query.where(Subject.team.in_(list(teams)))
    rows = session.execute(query).all()
    if not rows:
        return EarlyEndings(aim, [])
    steps = _first_steps(session, [row[0] for row in rows], (anchor_code, done_code), on)
    labels = _labels(pdsa.AIM_PROCESS[aim])
    clocks, ended = [], []
    for instance_id, subject_id, reference, name, team, born, ended_on, data in rows:
        child = Child(subject_id, reference, name, team, born)
        code = (data or {}).get("ending") or ""
        ended.append((child, instance_id, ended_on, code, labels.get(code, "Ended early")))
        anchor = steps.get((instance_id, anchor_code))
        if anchor is not None:
            done = steps.get((instance_id, done_code))
            clocks.append(aim_results.Clock(child, instance_id, anchor[0],
                                            done[0] if done else None,
                                            (done[1] or {}).get(detail) if done else None,
                                            ended_on))
    counted = _ruled(_RULES[aim](clocks, result.settings, on, listed=True))
    return EarlyEndings(aim, [EndedEarly(child, instance_id, ended_on, code, label,
                                         counted.get(instance_id, NOT_IN_AIM))
                              for child, instance_id, ended_on, code, label in ended])


def _first_steps(session: Session, instance_ids: list[int], codes: tuple[str, str],
                 on: date) -> dict[tuple[int, str], tuple[date, dict]]:
    """(instance, code) -> (date, data) of the first occurrence on or before ``on``."""
    found: dict[tuple[int, str], tuple[int, date, dict]] = {}
    for instance_id, code, occurrence, actual, data in session.execute(
            select(Milestone.instance_id, Milestone.code, Milestone.occurrence,
                   Milestone.actual_date, Milestone.data)
            .where(Milestone.instance_id.in_(instance_ids), Milestone.code.in_(codes),
                   Milestone.actual_date.is_not(None), Milestone.actual_date <= on)):
        key = (instance_id, code)
        if key not in found or occurrence < found[key][0]:
            found[key] = (occurrence, actual, data or {})
    return {key: (actual, data) for key, (_n, actual, data) in found.items()}


def _ruled(result: AimResult) -> dict[int, str]:
    """instance -> how the aim's rules counted it, in words."""
    words = {e.instance_id: STATUS_LABELS[e.status] for e in result.total.entries}
    words.update({left.instance_id: f"Not in the aim: {left.reason}" for left in result.left_out})
    return words


class Published(NamedTuple):
    """The reason counts as a table prints them: None where a count is withheld."""
    reasons: list[tuple[str, str, int | None]]   # (code, label, children)
    total: int | None
    left_the_aim: int | None
    withheld: list[str]          # the reason codes, "total" and "left_the_aim" withheld


def published(endings: EarlyEndings, publication: bool) -> Published:
    """The reason counts, the total and how many left the aim, for the aim's CSV and the
    API; for publication, small numbers are withheld (with the counts that would give them
    away), as every published table is."""
    reasons = endings.reasons()
    total = len(endings.children)
    cells = {code: n for code, _label, n in reasons} | {"total": total}
    withheld = disclosure.protect(cells, [Group("total", tuple(c for c, *_ in reasons))]) \
        if publication and total else frozenset()
    left = endings.left_the_aim
    if publication and (disclosure.small(left) or "total" in withheld):
        withheld = withheld | {"left_the_aim"}
    shown = [code for code, *_ in reasons] + ["total", "left_the_aim"]
    return Published([(code, label, None if code in withheld else n)
                      for code, label, n in reasons],
                     None if "total" in withheld else total,
                     None if "left_the_aim" in withheld else left,
                     [key for key in shown if key in withheld])


def csv_rows(endings: EarlyEndings, publication: bool) -> list[list[str]]:
    """Reason counts for the aim's CSV (``published``). None ended early: no rows (the
    aim's own table stays the file's last)."""
    if not endings.children:
        return []
    table = published(endings, publication)
    rows = [[], ["Children whose journey ended early"],
            ["reason", "label", "children"]]
    rows += [[code, label, _cell(n)] for code, label, n in table.reasons]
    rows.append(["total", "Journeys ended early", _cell(table.total)])
    rows.append(["left_the_aim", STATUS_LABELS["ended"], _cell(table.left_the_aim)])
    return rows


def _cell(count: int | None) -> str:
    return disclosure.MARK if count is None else str(count)
