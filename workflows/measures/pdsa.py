"""PDSA cycle records and astronomical-point flags, and the run-chart annotations they give.

A PDSA cycle (DOMAIN.md) is {aim, change idea, cycle number, plan & prediction, start/end
dates, what happened, study, act (adopt/adapt/abandon), diagram version}. Every change is
audited. Annotations for an aim's run chart are its PDSA cycles plus the deployments of the
diagram the aim is measured on (the date each version went live).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import NotFound

from workflows import profiles
from workflows.measures.aims import AIMS, DEFAULT_COUNCIL, SettingError
from workflows.measures.data import Deployment
from workflows.measures.run_charts import Annotation
from workflows.measures.tables import PDSA_ACTS, PdsaCycle, RunChartFlag
from workflows.vocabulary import CSO_HOME, PERMANENCE

AIM_PROCESS = {1: CSO_HOME, 2: PERMANENCE, 3: PERMANENCE}
CHANGE_IDEA_MAX_LENGTH = 300  # as stored (pdsa_cycle.change_idea)
FIELDS = ("aim", "change_idea", "cycle_number", "plan", "prediction", "start_date", "end_date",
          "what_happened", "study", "act", "process_id", "model_version")


@dataclass(frozen=True)
class CycleInput:
    aim: int
    change_idea: str
    cycle_number: int
    start_date: date
    plan: str = ""
    prediction: str = ""
    end_date: date | None = None
    what_happened: str = ""
    study: str = ""
    act: str | None = None
    process_id: str | None = None
    model_version: int | None = None

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for each rule the cycle breaks."""
        found = []
        if self.aim not in AIMS:
            found.append(("aim", "choose Aim 1, 2 or 3"))
        if not self.change_idea.strip():
            found.append(("change_idea", "describe the change idea"))
        if len(self.change_idea) > CHANGE_IDEA_MAX_LENGTH:
            found.append(("change_idea", f"the change idea must be {CHANGE_IDEA_MAX_LENGTH} "
                                         "characters or fewer"))
        if self.cycle_number < 1:
            found.append(("cycle_number", "the cycle number must be 1 or more"))
        if self.end_date and self.end_date < self.start_date:
            found.append(("end_date", "the end date must be on or after the start date"))
        if self.act is not None and self.act not in PDSA_ACTS:
            found.append(("act", "act must be adopt, adapt or abandon"))
        if self.model_version is not None and not self.process_id:
            found.append(("model_version", "name the diagram the version belongs to"))
        return found

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise SettingError("; ".join(message for _field, message in problems))


def _values(cycle: PdsaCycle) -> dict:
    return {name: (value.isoformat() if isinstance(value, date) else value)
            for name in FIELDS for value in [getattr(cycle, name)]}


def record_cycle(session: Session, given: CycleInput, actor: str,
                 council: str = DEFAULT_COUNCIL) -> PdsaCycle:
    given.check()
    now = clock.now()
    cycle = PdsaCycle(council=council, created_by=actor, created_at=now, updated_at=now,
                      **{name: getattr(given, name) for name in FIELDS})
    session.add(cycle)
    session.flush()
    audit.record(session, "pdsa_cycle_recorded", actor, data={"id": cycle.id, **_values(cycle)})
    return cycle


def update_cycle(session: Session, cycle_id: int, given: CycleInput, actor: str,
                 council: str = DEFAULT_COUNCIL) -> PdsaCycle:
    given.check()
    cycle = session.get(PdsaCycle, cycle_id)
    if cycle is None or cycle.council != council:
        raise NotFound(f"there is no PDSA cycle {cycle_id}")
    before = _values(cycle)
    for name in FIELDS:
        setattr(cycle, name, getattr(given, name))
    cycle.updated_at = clock.now()
    session.flush()
    audit.record(session, "pdsa_cycle_updated", actor,
                 data={"id": cycle.id, "before": before, "after": _values(cycle)})
    return cycle


def cycles(session: Session, aim: int | None = None,
           council: str = DEFAULT_COUNCIL) -> list[PdsaCycle]:
    query = select(PdsaCycle).where(PdsaCycle.council == council)
    if aim is not None:
        query = query.where(PdsaCycle.aim == aim)
    return list(session.scalars(query.order_by(PdsaCycle.start_date, PdsaCycle.change_idea,
                                               PdsaCycle.cycle_number)))


def flag_month(session: Session, aim: int, month: date, note: str, actor: str,
               council: str = DEFAULT_COUNCIL) -> RunChartFlag:
    """Mark a month of an aim's run chart as an astronomical point."""
    month = month.replace(day=1)
    flag = session.scalars(select(RunChartFlag).where(
        RunChartFlag.council == council, RunChartFlag.aim == aim,
        RunChartFlag.month == month)).first()
    if flag is None:
        flag = RunChartFlag(council=council, aim=aim, month=month)
        session.add(flag)
    flag.note, flag.flagged_by, flag.flagged_at = note.strip(), actor, clock.now()
    session.flush()
    audit.record(session, "run_chart_point_flagged", actor,
                 data={"council": council, "aim": aim, "month": month.isoformat(), "note": note})
    return flag


def unflag_month(session: Session, aim: int, month: date, actor: str,
                 council: str = DEFAULT_COUNCIL) -> None:
    month = month.replace(day=1)
    flag = session.scalars(select(RunChartFlag).where(
        RunChartFlag.council == council, RunChartFlag.aim == aim,
        RunChartFlag.month == month)).first()
    if flag is not None:
        session.delete(flag)
        audit.record(session, "run_chart_flag_removed", actor,
                     data={"council": council, "aim": aim, "month": month.isoformat()})


def flagged_months(session: Session, aim: int, council: str = DEFAULT_COUNCIL) -> list[RunChartFlag]:
    return list(session.scalars(select(RunChartFlag).where(
        RunChartFlag.council == council, RunChartFlag.aim == aim).order_by(RunChartFlag.month)))


def annotations(cycles_: Iterable[PdsaCycle], deployments: Iterable[Deployment]) -> list[Annotation]:
    """PDSA cycle starts and diagram deployments, as run-chart annotations."""
    found = [Annotation(c.start_date, "pdsa",
                        f"PDSA: {c.change_idea} (cycle {c.cycle_number})"
                        + (f", {PDSA_ACTS[c.act].lower()}" if c.act else ""))
             for c in cycles_]
    found += [Annotation(d.deployed_on, "deployment",
                         f"{profiles.process_name(d.process_id)} version {d.version} live"
                         + (f": {d.reason}" if d.reason else ""))
              for d in deployments]
    return sorted(found, key=lambda a: (a.on, a.kind, a.label))
