"""Children and process instances, scoped to the caller's team as on the children pages.

A child or instance outside the caller's team is a 404 with the same body as one that does
not exist. An auditor's reading of a record is recorded, as on the child page.
"""
from __future__ import annotations

from datetime import date

from flask_smorest import Blueprint
from sqlalchemy import func, select

from engine import audit, clock
from engine.models import OPEN, AuditEvent, ProcessInstance, Subject, Timer, WorkItem
from web.shared.database import db
from web.security.access import child_or_404, children_clause
from web.shared.read_models import child_page, children_list
from workflows.policy import ADD_CHILD_ROLES, ALLOCATE_ROLES, CHILD_ROLES
from workflows.services import allocation as allocation_service, child_record, \
    children as child_service

from . import auth, present
from .errors import documented, fail
from .schemas import (AllocationResultSchema, AllocationSchema, ChildArgs, ChildDetailSchema,
                      ChildPageSchema, HistoryArgs, HistoryPageSchema, InstanceStateSchema,
                      NewChildSchema)

bp = Blueprint("records", __name__, url_prefix="/api/v1",
               description="Children (team-scoped), registering a child onto a process, and "
                           "process instances: state and history.")
ID = "<int(max=2147483647):{}>"
auth.protect(bp)


def _viewed(session, caller, child: Subject, page: str) -> None:
    if "auditor" in caller.roles:
        audit.record(session, "record_viewed", caller.username, subject_id=child.id,
                     data={"page": page, "via": "api"})


@bp.get("/children")
@documented(bp, 403)
@auth.roles(CHILD_ROLES)
@bp.arguments(ChildArgs, location="query")
@bp.response(200, ChildPageSchema)
def list_children(args):
    """Children in the caller's scope (their team; service-wide roles: every team)."""
    caller = auth.principal()
    with db().transaction() as session:
        found, total, open_counts, overdue_counts = children_list(
            session, children_clause(caller), args.get("q"), clock.today(), args["page"],
            args["per_page"])
        workers = present.user_refs(session, [c.allocated_worker_id for c in found])
        items = [_summary(c, workers, open_counts[c.id], overdue_counts[c.id]) for c in found]
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total,
            "pages": max(1, -(-total // args["per_page"]))}


def _summary(child: Subject, workers: dict, open_n: int, overdue_n: int) -> dict:
    return {**present.child_ref(child), "team": child.team, "date_of_birth": child.date_of_birth,
            "allocated_worker": workers.get(child.allocated_worker_id), "open_tasks": open_n,
            "overdue_tasks": overdue_n, "created_at": child.created_at}


def _detail(session, child: Subject, caller) -> dict:
    today = clock.today()
    page = child_page(session, child, today)
    instances = session.scalars(select(ProcessInstance).where(
        ProcessInstance.subject_id == child.id).order_by(ProcessInstance.started_at,
                                                         ProcessInstance.id)).all()
    items = [item for item, _due, _name in page.tasks]
    workers = present.user_refs(session, [child.allocated_worker_id])
    overdue = sum(1 for _item, due, _name in page.tasks if due == "overdue")
    return {**_summary(child, workers, len(items), overdue), "team_name": page.team_name,
            "instances": [present.instance_summary(i) for i in instances],
            "tasks": present.work_items(session, items, today),
            "milestones": [{"code": m.code, "label": m.label, "occurrence": m.occurrence,
                            "planned_date": m.planned, "actual_date": m.actual,
                            "status": m.status, "days_late": m.days_late}
                           for m in page.milestones],
            "recorded_steps": child_record.steps(session, db().runtime, caller, child.id)}


@bp.get(f"/children/{ID.format('subject_id')}")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.response(200, ChildDetailSchema)
def show_child(subject_id: int):
    """A child with their processes, open tasks and milestones (planned and actual dates)."""
    caller = auth.principal()
    with db().transaction() as session:
        child = child_or_404(session, caller, subject_id)
        _viewed(session, caller, child, "child")
        return _detail(session, child, caller)


@bp.post("/children")
@documented(bp, 403, 409, 422)
@auth.roles(ADD_CHILD_ROLES)
@bp.arguments(NewChildSchema)
@bp.response(201, ChildDetailSchema)
def create_child(body):
    """Register a child and start their process, as the "Add a child" page does.

    The fields are the profile's entry form (`GET /api/v1/catalog` lists the profiles): in
    Scotland `accommodated` starts the permanence journey, `cso_home` the review loop for a
    Compulsory Supervision Order at home. 409 when the reference is already in use."""
    caller = auth.principal()
    choice = {key: body.pop(key, None) for key in ("profile", "team", "allocated_worker")}
    answers = {key: value.isoformat() if isinstance(value, date) else value
               for key, value in body.items() if value is not None}
    with db().transaction() as session:
        child = child_service.add_child(session, db().runtime, caller, answers, **choice)
        return _detail(session, child, caller)


@bp.put(f"/children/{ID.format('subject_id')}/allocated-worker")
@documented(bp, 403, 404, 422)
@auth.roles(ALLOCATE_ROLES)
@bp.arguments(AllocationSchema)
@bp.response(200, AllocationResultSchema)
def change_allocated_worker(body, subject_id: int):
    """Change the child's allocated worker (team leaders and service managers), as the
    child page's "Change" link does.

    The child's open tasks that the diagrams give the allocated worker (`assign`), held by
    the previous worker or by nobody, move to the new worker as reassignments (audited,
    and the new worker is told); one the new worker cannot hold goes back to the team
    queue. 422 when the worker is not an active social worker of the child's team."""
    caller = auth.principal()
    with db().transaction() as session:
        done = allocation_service.change_allocated_worker(
            session, db().runtime, caller, subject_id, body["worker"], body.get("reason"))
        today = clock.today()
        return {"child": _detail(session, done.child, caller), "changed": done.changed,
                "moved": present.work_items(session, done.moved, today),
                "returned": present.work_items(session, done.returned, today)}


# -- process instances ---------------------------------------------------------------------
def _instance_or_404(session, caller, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        fail(404)
    child_or_404(session, caller, instance.subject_id)
    return instance


@bp.get(f"/instances/{ID.format('instance_id')}")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.response(200, InstanceStateSchema)
def show_instance(instance_id: int):
    """A process instance's state.

    Status, model version, open tasks, milestones and waiting timers."""
    caller = auth.principal()
    today = clock.today()
    with db().transaction() as session:
        instance = _instance_or_404(session, caller, instance_id)
        _viewed(session, caller, instance.subject, "instance")
        items = session.scalars(select(WorkItem).where(
            WorkItem.instance_id == instance.id, WorkItem.status.in_(OPEN))
            .order_by(WorkItem.due_date, WorkItem.id)).unique().all()
        timers = session.scalars(select(Timer).where(Timer.instance_id == instance.id)
                                 .order_by(Timer.fire_at)).all()
        return {**present.instance_summary(instance), "child": present.child_ref(instance.subject),
                "open_tasks": present.work_items(session, items, today),
                "milestones": present.instance_milestones(session, instance.id, today),
                "timers": [{"name": t.name, "fire_at": t.fire_at} for t in timers]}


@bp.get(f"/instances/{ID.format('instance_id')}/history")
@documented(bp, 403, 404)
@auth.roles(CHILD_ROLES)
@bp.arguments(HistoryArgs, location="query")
@bp.response(200, HistoryPageSchema)
def instance_history(args, instance_id: int):
    """The instance's audit events, oldest first (the hash links the child's chain)."""
    caller = auth.principal()
    page, per_page = args["page"], args["per_page"]
    with db().transaction() as session:
        instance = _instance_or_404(session, caller, instance_id)
        query = select(AuditEvent).where(AuditEvent.instance_id == instance.id)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        events = session.scalars(query.order_by(AuditEvent.chain_seq, AuditEvent.id)
                                 .limit(per_page).offset((page - 1) * per_page)).all()
        _viewed(session, caller, instance.subject, "instance_history")
        items = [{"seq": e.chain_seq, "at": e.at, "event_type": e.event_type, "actor": e.actor,
                  "instance_id": e.instance_id, "task_id": e.task_id, "data": e.data or {},
                  "hash": e.hash} for e in events]
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": max(1, -(-total // per_page))}
