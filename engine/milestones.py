"""Milestones inside a workflow (the truth) and their ``milestone`` index rows.

The workflow's own data keeps each milestone's occurrences, so due rules and timers can be
resolved while SpiffWorkflow runs engine steps, before anything is written to the database.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import clock
from .date_rules import as_date
from .expressions import evaluate_safely
from .models import Milestone, ProcessInstance

KEY = "_milestones"


def properties(task_spec) -> dict:
    return getattr(task_spec, "extensions", {}).get("properties", {}) or {}


def table(wf) -> dict:
    """Kept in the root task's internal data: SpiffWorkflow merges workflow *data* into task
    data and back at the end event, which would overwrite newer entries with stale copies."""
    return wf.top_workflow.task_tree.internal_data.setdefault(KEY, {})


def _entry(wf, code: str) -> dict:
    return table(wf).setdefault(code, {"actual": None, "planned": None, "history": []})


def on_task_completed(task) -> None:
    """Record the milestone and planned dates a completed task declares."""
    props = properties(task.task_spec)
    wf = task.workflow
    code = props.get("milestone")
    if code:
        when = props.get("milestoneWhen")
        if not when or evaluate_safely(when, task.data):
            field = props.get("milestoneDateField") or "date_held"
            actual = as_date(task.data.get(field)) or clock.today()
            entry = _entry(wf, code)
            occurrence = {"planned": entry["planned"], "actual": actual.isoformat(),
                          "task": task.task_spec.bpmn_id}
            data = _milestone_data(props, task.data)
            if data:
                occurrence["data"] = data
            entry["history"].append(occurrence)
            entry["actual"], entry["planned"] = actual.isoformat(), None
    plans = props.get("plans")
    if plans:
        target, _, fieldname = plans.partition("=")
        planned = as_date(task.data.get(fieldname.strip()))
        if planned:
            _entry(wf, target.strip())["planned"] = planned.isoformat()


def _milestone_data(props: dict, data: dict) -> dict:
    """Form fields a task names in ``milestoneData`` (space separated), kept with the
    occurrence so measures can read e.g. a review's recommendation from the index row."""
    names = (props.get("milestoneData") or "").split()
    return {name: data[name] for name in names if name in data}


def record_ending(wf, code: str, actual: date, data: dict) -> None:
    """Record ``code`` reached on ``actual`` by no task (the instance is ended from outside
    its diagram, Runtime.end_early), and drop every planned date: nothing is planned for an
    instance that has ended, and a planned row left behind would read as work still due."""
    for entry in table(wf).values():
        entry["planned"] = None
    entry = _entry(wf, code)
    occurrence = {"planned": None, "actual": actual.isoformat(), "task": None}
    if data:
        occurrence["data"] = dict(data)
    entry["history"].append(occurrence)
    entry["actual"] = actual.isoformat()


def plan(wf, code: str, planned: date) -> None:
    """Set the planned date of a milestone's next occurrence unless one is set already."""
    entry = _entry(wf, code)
    if entry["planned"] is None:
        entry["planned"] = planned.isoformat()


def anchors(task) -> dict[str, date]:
    """Dates a due rule may name: milestones, planned milestones, date fields of the task."""
    found: dict[str, date] = {}
    for key, value in task.data.items():
        day = as_date(value)
        if day is not None:
            found[key] = day
    for code, entry in table(task.workflow).items():
        if entry.get("actual"):
            found[code] = date.fromisoformat(entry["actual"])
        if entry.get("planned"):
            found[f"{code}_PLANNED"] = date.fromisoformat(entry["planned"])
    return found


def latest(wf) -> dict[str, date]:
    """Each milestone's latest recorded (actual) date in this workflow."""
    return {code: date.fromisoformat(entry["actual"])
            for code, entry in table(wf).items() if entry.get("actual")}


def wanted_rows(wf) -> dict[tuple[str, int], tuple[date | None, date | None, dict]]:
    """(code, occurrence) -> (planned, actual, data): the rows the milestone table implies."""
    wanted: dict[tuple[str, int], tuple[date | None, date | None, dict]] = {}
    for code, entry in table(wf).items():
        history = entry.get("history", [])
        for number, item in enumerate(history, start=1):
            wanted[(code, number)] = (as_date(item.get("planned")), as_date(item.get("actual")),
                                      dict(item.get("data") or {}))
        if entry.get("planned"):
            wanted[(code, len(history) + 1)] = (as_date(entry["planned"]), None, {})
    return wanted


def sync_rows(session: Session, instance: ProcessInstance, wf, indexed: dict | None = None,
              pending: list | None = None) -> None:
    """Make the instance's milestone rows match the workflow's milestone table.

    ``indexed`` (kept with a loaded workflow, see Runtime.load_workflow) remembers what the
    rows were made from, so the rows need not be read: only the entries that changed since
    are written, each by one statement (usually a planned date becoming actual, and the
    next occurrence planned). With ``pending`` the new and changed rows are added to it
    instead, for the caller's flush to write (engine/writer.py: on PostgreSQL with the
    state, in one statement).
    """
    wanted = wanted_rows(wf)
    if indexed is not None:
        before = indexed["milestones"]
        if before != wanted:
            _write_changes(session, instance, before, wanted, pending)
            indexed["milestones"] = wanted
        return
    rows = {(m.code, m.occurrence): m for m in session.scalars(
        select(Milestone).where(Milestone.instance_id == instance.id))}
    for key, row in rows.items():
        if key not in wanted:
            session.delete(row)
    for (code, number), (planned, actual, data) in wanted.items():
        row = rows.get((code, number))
        if row is None:
            session.add(Milestone(instance_id=instance.id, subject_id=instance.subject_id,
                                  process_id=instance.process_id,
                                  model_version=instance.model.version, code=code,
                                  occurrence=number, planned_date=planned, actual_date=actual,
                                  data=data))
        elif (row.planned_date, row.actual_date, row.data or {}) != (planned, actual, data):
            row.planned_date, row.actual_date, row.data = planned, actual, data


def _write_changes(session: Session, instance: ProcessInstance, before: dict, wanted: dict,
                   pending: list | None = None) -> None:
    """Rows from ``before`` (what the rows hold) to ``wanted``, by statements sent now, in
    the caller's transaction, instead of objects flushed later: the unit of work would
    cost more than the statements themselves. New and changed rows go in one upsert (a
    completion usually makes a planned date actual and plans the next occurrence)."""
    connection = session.connection()
    for code, number in before.keys() - wanted.keys():
        connection.execute(_DELETE, {"instance": instance.id, "which": code, "number": number})
    rows = [{"instance_id": instance.id, "subject_id": instance.subject_id,
             "process_id": instance.process_id, "model_version": instance.model.version,
             "code": code, "occurrence": number, "planned_date": planned, "actual_date": actual,
             "data": data}
            for (code, number), (planned, actual, data) in wanted.items()
            if before.get((code, number)) != (planned, actual, data)]
    if pending is not None:
        pending.extend(rows)
    elif rows:
        write_rows(connection, rows)


def write_rows(connection, rows: list[dict]) -> None:
    """Upsert milestone rows as ``_write_changes`` makes them."""
    connection.execute(_UPSERT[connection.dialect.name], rows)


def _upsert(insert_for_dialect):
    return upsert(insert_for_dialect(_ROWS))


def upsert(statement):
    """``statement`` (an INSERT into milestone of the dialect's own kind) made an upsert:
    on an existing (instance, code, occurrence) it sets the dates and data instead."""
    return statement.on_conflict_do_update(
        index_elements=[_ROWS.c.instance_id, _ROWS.c.code, _ROWS.c.occurrence],
        set_={"planned_date": statement.excluded.planned_date,
              "actual_date": statement.excluded.actual_date, "data": statement.excluded.data})


# Built once (see audit.chain_lock).
_ROWS = Milestone.__table__
_DELETE = delete(_ROWS).where(_ROWS.c.instance_id == bindparam("instance"),
                              _ROWS.c.code == bindparam("which"),
                              _ROWS.c.occurrence == bindparam("number"))
_UPSERT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}
