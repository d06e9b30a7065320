"""The improvement work on the run charts: PDSA cycles (record, edit, list) and the points a
user flags as astronomical. The PDSA pages (``/measures/pdsa/new``, ``/measures/pdsa/<id>``),
the flag form on an aim's page, ``/api/v1/pdsa-cycles`` and ``pace pdsa`` all come here,
so they refuse the same values naming the same fields; every change is audited by
``workflows.measures.pdsa`` (``pdsa_cycle_recorded``, ``pdsa_cycle_updated``,
``run_chart_point_flagged``, ``run_chart_flag_removed``).

A cycle's fields are ``CYCLE_FIELDS``, as text (a form, the command line) or typed (JSON);
an edit names only the fields it changes (the page sends them all). The diagram a
``model_version`` belongs to is the aim's own (``pdsa.AIM_PROCESS``), and the version must
have been deployed.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import FieldError, Forbidden, InvalidData, NotFound
from engine.models import ProcessModel

from workflows.measures import pdsa
from workflows import policy
from workflows.measures.aims import AIMS
from ..policy import Actor
from workflows.measures.tables import PdsaCycle, RunChartFlag
from . import inputs
from .actors import account

CYCLE_FIELDS = ("aim", "change_idea", "cycle_number", "plan", "prediction", "start_date",
                "end_date", "what_happened", "study", "act", "model_version")
TEXTS = ("plan", "prediction", "what_happened", "study")
TEXT_MAX_LENGTH = 10_000
NOTE_MAX_LENGTH = 500
MAX_CYCLE_NUMBER = 999
NOT_FOUND = "There is no such PDSA cycle."


def _may_read(actor: Actor | None) -> None:
    """``actor`` None: the operator at the command line, who holds the database already."""
    if actor is not None and not policy.can_view_measures(actor):
        raise Forbidden("Your roles do not include the measures.")


def _may_change(actor: Actor) -> None:
    if not policy.can_record_pdsa(actor):
        raise Forbidden("Only process owners and service managers record PDSA cycles and "
                        "flag run-chart points.")


def cycles(session: Session, actor: Actor | None, council: str,
           aim: int | None = None) -> list[PdsaCycle]:
    """The council's cycles (of one aim), by start date."""
    _may_read(actor)
    if aim is not None and aim not in AIMS:
        raise InvalidData([FieldError("aim", "choose Aim 1, 2 or 3")])
    return pdsa.cycles(session, aim, council)


def cycle(session: Session, actor: Actor | None, council: str, cycle_id: int) -> PdsaCycle:
    _may_read(actor)
    found = session.get(PdsaCycle, cycle_id)
    if found is None or found.council != council:
        raise NotFound(NOT_FOUND)
    return found


def record(session: Session, actor: Actor, council: str, values: Mapping) -> PdsaCycle:
    """A new cycle; ``cycle_number`` is 1 unless given."""
    _may_change(actor)
    given = cycle_input(session, {"cycle_number": 1, **values})
    return pdsa.record_cycle(session, given, account(session, actor).username, council)


def edit(session: Session, actor: Actor, council: str, cycle_id: int,
         changes: Mapping) -> PdsaCycle:
    """The cycle with ``changes`` made (the fields not named keep their values)."""
    _may_change(actor)
    current = cycle(session, actor, council, cycle_id)
    if not changes:
        raise InvalidData([FieldError("", "Name at least one field to change.")])
    stored = {name: getattr(current, name) for name in CYCLE_FIELDS}
    given = cycle_input(session, {**stored, **changes})
    return pdsa.update_cycle(session, current.id, given, account(session, actor).username,
                             council)


def cycle_input(session: Session, values: Mapping) -> pdsa.CycleInput:
    """The cycle's fields read and checked; InvalidData naming every field refused."""
    problems = [FieldError(str(key), "A PDSA cycle has no such field; its fields are "
                                     + ", ".join(CYCLE_FIELDS) + ".")
                for key in values if key not in CYCLE_FIELDS]
    aim = inputs.whole_number(values.get("aim"), "aim", problems, "choose Aim 1, 2 or 3",
                              low=min(AIMS), high=max(AIMS))
    if aim is None and not any(p.field == "aim" for p in problems):
        problems.append(FieldError("aim", "choose Aim 1, 2 or 3"))
    change_idea = inputs.text(values.get("change_idea"), "change_idea", problems,
                              max_length=TEXT_MAX_LENGTH, single_line=True).strip()
    number = inputs.whole_number(
        values.get("cycle_number"), "cycle_number", problems,
        f"the cycle number must be a whole number from 1 to {MAX_CYCLE_NUMBER}",
        low=1, high=MAX_CYCLE_NUMBER)
    if number is None and not any(p.field == "cycle_number" for p in problems):
        problems.append(FieldError("cycle_number", "the cycle number must be 1 or more"))
    start = inputs.day(values.get("start_date"), "start_date", problems)
    if start is None and inputs.blank(values.get("start_date")):
        problems.append(FieldError("start_date", "Enter the start date"))
    end = inputs.day(values.get("end_date"), "end_date", problems)
    texts = {name: inputs.text(values.get(name), name, problems, max_length=TEXT_MAX_LENGTH)
             for name in TEXTS}
    act = values.get("act")
    act = None if inputs.blank(act) else act
    if act is not None and not isinstance(act, str):
        problems.append(FieldError("act", "act must be adopt, adapt or abandon"))
        act = None
    version = inputs.whole_number(values.get("model_version"), "model_version", problems,
                                  "Enter the diagram version as a whole number, e.g. 2.",
                                  low=1, high=2**31 - 1)
    process_id = pdsa.AIM_PROCESS.get(aim) if version is not None else None
    if process_id and not session.scalar(select(ProcessModel.id).where(
            ProcessModel.process_id == process_id, ProcessModel.version == version)):
        problems.append(FieldError("model_version", f"There is no version {version} of the "
                                                    f"diagram Aim {aim} is measured on."))
    given = pdsa.CycleInput(aim=aim or 0, change_idea=change_idea, cycle_number=number or 1,
                            start_date=start or date.min, end_date=end, act=act,
                            process_id=process_id, model_version=version, **texts)
    named = {p.field for p in problems}
    # Rules that follow from a field already refused are not repeated: an end date against
    # no start date, a diagram version for no aim.
    named |= {"end_date"} if start is None else set()
    named |= {"model_version"} if aim is None else set()
    problems += [FieldError(field, message) for field, message in given.problems()
                 if field not in named]
    if problems:
        raise InvalidData(problems)
    return given


# -- run-chart points flagged as astronomical ----------------------------------------------------
def _aim(aim: int) -> int:
    if aim not in AIMS:
        raise NotFound(f"There is no Aim {aim}: PACE Flow measures Aims 1, 2 and 3.")
    return aim


def flag_point(session: Session, actor: Actor, council: str, aim: int, month,
               note: str = "") -> RunChartFlag:
    """Mark the month (a date, or YYYY-MM) of the aim's run chart as an astronomical point."""
    _may_change(actor)
    _aim(aim)
    problems: list[FieldError] = []
    first = inputs.month(month, "month", problems, "Choose the month to flag.")
    text = inputs.text(note, "note", problems, max_length=NOTE_MAX_LENGTH)
    if problems:
        raise InvalidData(problems)
    return pdsa.flag_month(session, aim, first, text, account(session, actor).username, council)


def unflag_point(session: Session, actor: Actor, council: str, aim: int, month) -> date:
    """Take the flag off the month (it need not be flagged); returns the month's first day."""
    _may_change(actor)
    _aim(aim)
    problems: list[FieldError] = []
    first = inputs.month(month, "month", problems, "Choose the month to flag.")
    if problems:
        raise InvalidData(problems)
    pdsa.unflag_month(session, aim, first, account(session, actor).username, council)
    return first
