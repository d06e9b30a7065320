"""The queue index: one ``work_item`` row per READY user task, plus who holds it.

Claiming, releasing and reassigning touch only this index (the workflow does not model
who holds a task), each as a conditional UPDATE so two people cannot both win.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, lazyload
from SpiffWorkflow.util.task import TaskState

from . import audit, clock, routing, step_limits
from .db import new_row
from .errors import Conflict, NotFound
from .milestones import anchors, plan, properties
from .models import OPEN, AuditChain, ProcessInstance, UserAccount, WorkItem
from .rules import RulePolicy
from .task_maps import every_task



def due_dates(task, rules: RulePolicy, fallback):
    """(due, remind, [escalation dates]) for a READY task from its diagram properties."""
    props = properties(task.task_spec)
    try:  # a rule the check refuses, in a diagram deployed before it did: a clear refusal
        due = rules.resolve(props["due"], anchors(task)) if props.get("due") else None
    except ValueError as exc:
        raise step_limits.cannot_work_out(task, f"due rule {exc}") from None
    if due is None and props.get("due"):
        due = fallback
    try:
        remind = rules.shift(due, props["remind"])[0] if due and props.get("remind") else None
        escalate = rules.shift(due, props["escalate"]) if due and props.get("escalate") else []
    except ValueError as exc:
        raise step_limits.cannot_work_out(task, f"reminder or escalation {exc}") from None
    return due, remind, escalate


def ready_ids(wf) -> set[str]:
    """The READY user tasks' ids: the open work item rows a saved workflow has."""
    return set(_ready(wf))


def _ready(wf) -> dict:
    """id -> task of the READY user tasks, in task-map order (see engine/task_maps.py)."""
    ready = TaskState.READY
    return {str(task.id): task for task in every_task(wf)
            if task.state == ready and task.task_spec.manual}


def sync(session: Session, instance: ProcessInstance, wf, rules: RulePolicy, actor: str,
         indexed: dict | None = None) -> list[WorkItem]:
    """Create rows for newly READY user tasks; cancel rows whose task is no longer READY.

    With ``indexed`` (see Runtime.load_workflow) the open rows are known without reading
    them: one per task that was READY when the workflow was loaded (less those this
    transaction closed, see Runtime.complete). Rows are read only to cancel them, which
    is rare; a completion that just opens the next task reads none.
    """
    ready = _ready(wf)
    if indexed is None:
        rows = _open_rows(session, instance)
        new = ready.keys() - rows.keys()
    else:
        known = indexed["work_items"]
        gone = known - ready.keys()
        rows = _open_rows(session, instance, gone) if gone else {}
        new = ready.keys() - known
        indexed["work_items"] = set(ready)
    if len(new) > 1:  # rows and their events made in the workflow's tree order, as ever
        ready = {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)}
    created = []
    today = clock.today()
    for task_id, task in ready.items():
        if task_id not in new:
            continue
        due, remind, escalate = due_dates(task, rules, today)
        code = properties(task.task_spec).get("milestone")
        if code and due:
            plan(wf, code, due)
        role, team = routing.queue_role(task.task_spec, rules), instance.subject.team
        # the diagram's assign property: straight to that person's work, else the queue
        holder = routing.holder_for(session, routing.assign_target(task.task_spec),
                                    instance.subject, role, team)
        item = new_row(WorkItem, instance_id=instance.id, subject_id=instance.subject_id,
                       task_id=task_id, task_name=task.task_spec.bpmn_id,
                       title=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                       role=role, team=team, status="claimed" if holder else "ready",
                       assignee_id=holder.id if holder else None,
                       created_at=clock.now(), due_date=due, remind_date=remind,
                       escalate_dates=[d.isoformat() for d in escalate],
                       next_escalation_date=escalate[0] if escalate else None)
        session.add(item)
        created.append(item)
        data = {"task": item.task_name, "title": item.title, "role": item.role, "due": due}
        if holder is not None:
            data["assignee"] = holder.username
        audit.record(session, "task_ready", actor, subject_id=instance.subject_id,
                     instance_id=instance.id, task_id=task_id, data=data)
    for task_id, row in rows.items():
        if task_id not in ready:
            row.status = "cancelled"
            audit.record(session, "task_cancelled", actor, subject_id=instance.subject_id,
                         instance_id=instance.id, task_id=task_id, data={"task": row.task_name})
    return created


def _open_rows(session: Session, instance: ProcessInstance, task_ids=None) -> dict[str, WorkItem]:
    """The instance's open rows (of ``task_ids`` only, when given), read without flushing
    first (the caller flushes once, at the end): a row this transaction already closed
    still reads as open in the database, so its status in the session decides."""
    query = select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.status.in_(OPEN))
    if task_ids is not None:
        query = query.where(WorkItem.task_id.in_(sorted(task_ids)))
    with session.no_autoflush:
        return {w.task_id: w for w in session.scalars(query) if w.status in OPEN}


def close(wf, task_id: str) -> None:
    """Tell a loaded workflow's index (Runtime.load_workflow) that this transaction closed
    the row of ``task_id`` (completed it), so saving need not read the row to find that."""
    indexed = getattr(wf, "indexed_rows", None)
    if indexed is not None:
        indexed["work_items"].discard(task_id)


def refresh(session: Session, instance: ProcessInstance, wf, rules: RulePolicy) -> None:
    """Recompute title, role and dates of open rows (after a migration to a new version)."""
    tasks = {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)}
    today = clock.today()
    for row in session.scalars(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                      WorkItem.status.in_(OPEN))):
        task = tasks.get(row.task_id)
        if task is None:
            continue
        due, remind, escalate = due_dates(task, rules, today)
        row.title = task.task_spec.bpmn_name or task.task_spec.bpmn_id
        row.task_name, row.role = task.task_spec.bpmn_id, routing.queue_role(task.task_spec, rules)
        row.due_date, row.remind_date = due, remind
        row.escalate_dates = [d.isoformat() for d in escalate]
        passed = [d for d in escalate[row.escalation_level:]]
        row.next_escalation_date = passed[0] if passed else None


# Statements of every request, built once (see audit.chain_lock).
_ITEM_ID = bindparam("work_item_id")
_SUBJECT_OF_ITEM = select(WorkItem.subject_id).where(WorkItem.id == _ITEM_ID)
_LOCK_CHILD_OF_ITEM = audit.chain_lock(_SUBJECT_OF_ITEM.scalar_subquery())
_ITEM = select(WorkItem).where(WorkItem.id == _ITEM_ID).execution_options(populate_existing=True)
_ITEM_WITH_INSTANCE: dict[tuple, object] = {}  # instance load options -> statement


def get_open(session: Session, work_item_id: int) -> WorkItem:
    """The work item, read after taking its child's lock (see audit.lock_chain)."""
    _lock_child_of(session, work_item_id)
    return session.scalars(_ITEM, {"work_item_id": work_item_id}).one()


def get_open_with_instance(session: Session, work_item_id: int,
                           instance_options: tuple = ()) -> tuple[WorkItem, ProcessInstance]:
    """``get_open`` and the item's process instance, in one statement when the session
    holds no instance yet (a request's usual case). An instance the session holds already
    is used as it stands, as session.get would, not overwritten by a fresh read."""
    if any(key[0] is ProcessInstance for key in session.identity_map.keys()):
        _lock_child_of(session, work_item_id)
        item = session.scalars(_ITEM, {"work_item_id": work_item_id}).one()
        return item, session.get(ProcessInstance, item.instance_id, options=instance_options)
    with_head = session.get_bind().dialect.name == "sqlite"
    if not with_head:
        _lock_child_of(session, work_item_id)
    statement = _ITEM_WITH_INSTANCE.get((instance_options, with_head))
    if statement is None:
        statement = _ITEM_WITH_INSTANCE[(instance_options, with_head)] = _item_with_instance(
            instance_options, with_head)
    row = session.execute(statement, {"work_item_id": work_item_id}).one_or_none()
    if row is None:
        raise NotFound(f"There is no task {work_item_id}.")
    if with_head and row[2] is not None:
        audit.hold(session, row[2])
    return row[0], row[1]


def _item_with_instance(instance_options: tuple, with_head: bool):
    """The item and its instance; on SQLite also the child's chain head, which there is
    as good as locked: every transaction that writes begins with ``BEGIN IMMEDIATE`` (see
    engine/db.py), so no other writer runs until it ends. (PostgreSQL must lock first and
    read after: a statement that waited for a row lock still returns the other rows as
    they were before it.)"""
    statement = (select(WorkItem, ProcessInstance)
                 .join(ProcessInstance, ProcessInstance.id == WorkItem.instance_id)
                 .where(WorkItem.id == _ITEM_ID)
                 # the child once, with the instance: the item's comes from the identity map
                 .options(lazyload(WorkItem.subject), *instance_options)
                 .execution_options(populate_existing=True))
    if with_head:
        statement = statement.add_columns(AuditChain).outerjoin(
            AuditChain, AuditChain.chain == audit.chain_of(WorkItem.subject_id))
    return statement


def _lock_child_of(session: Session, work_item_id: int) -> None:
    if not audit.lock_chain_of(session, _LOCK_CHILD_OF_ITEM, {"work_item_id": work_item_id}):
        subject_id = session.scalar(_SUBJECT_OF_ITEM, {"work_item_id": work_item_id})
        if subject_id is None:
            raise NotFound(f"There is no task {work_item_id}.")
        audit.lock_chain(session, subject_id)


def _conditional(session: Session, item: WorkItem, where, values) -> bool:
    result = session.execute(update(WorkItem).where(WorkItem.id == item.id, *where)
                             .values(**values).execution_options(synchronize_session=False))
    session.refresh(item)
    return result.rowcount == 1


def _holder(session: Session, item: WorkItem) -> str:
    if item.assignee_id is None:
        return "nobody"
    user = session.get(UserAccount, item.assignee_id)
    return user.display_name if user else f"user {item.assignee_id}"


def claim(session: Session, work_item_id: int, user: UserAccount) -> WorkItem:
    item = get_open(session, work_item_id)
    if item.status == "claimed" and item.assignee_id == user.id:
        return item  # a double click claims once
    won = _conditional(session, item, [WorkItem.status == "ready", WorkItem.assignee_id.is_(None)],
                       {"status": "claimed", "assignee_id": user.id})
    if not won:
        if item.status == "claimed":
            raise Conflict(f"{_holder(session, item)} claimed this task first; "
                           "ask them or a team leader to release it.")
        raise Conflict(f"This task is {item.status} and can no longer be claimed; reload the queue.")
    audit.record(session, "task_claimed", user.username, subject_id=item.subject_id,
                 instance_id=item.instance_id, task_id=item.task_id,
                 data={"task": item.task_name, "assignee": user.username})
    return item


def release(session: Session, work_item_id: int, user: UserAccount, *, as_manager: bool = False,
            reason: str | None = None) -> WorkItem:
    """Back to the queue; ``reason`` (e.g. the holder left) is kept in the audit event."""
    item = get_open(session, work_item_id)
    if item.status == "ready":
        return item
    if item.status != "claimed":
        raise Conflict(f"This task is {item.status}; there is nothing to release. Reload the page.")
    if item.assignee_id != user.id and not as_manager:
        raise Conflict(f"{_holder(session, item)} holds this task; only they or a team leader "
                       "can release it.")
    previous = item.assignee_id
    if not _conditional(session, item, [WorkItem.status == "claimed", WorkItem.assignee_id == previous],
                        {"status": "ready", "assignee_id": None}):
        raise Conflict("Someone changed this task just now; reload the page.")
    data = {"task": item.task_name, "previous_assignee": previous}
    if reason:
        data["reason"] = reason
    audit.record(session, "task_released", user.username, subject_id=item.subject_id,
                 instance_id=item.instance_id, task_id=item.task_id, data=data)
    return item


def reassign(session: Session, work_item_id: int, to_user: UserAccount, by: UserAccount, *,
             reason: str | None = None) -> WorkItem:
    """Give the task to ``to_user``; ``reason`` is kept in the audit event (and so reaches
    the new holder's notice and the child's history)."""
    item = get_open(session, work_item_id)
    if item.status not in OPEN:
        raise Conflict(f"This task is {item.status} and cannot be reassigned; reload the page.")
    if item.role not in (to_user.roles or []):
        raise Conflict(f"{to_user.display_name} does not have the role {item.role} this task needs.")
    previous = item.assignee_id
    if not _conditional(session, item, [WorkItem.status.in_(OPEN), WorkItem.assignee_id.is_(previous)
                                        if previous is None else WorkItem.assignee_id == previous],
                        {"status": "claimed", "assignee_id": to_user.id}):
        raise Conflict("Someone changed this task just now; reload the page.")
    data = {"task": item.task_name, "from": previous, "to": to_user.username}
    if reason:
        data["reason"] = reason
    audit.record(session, "task_reassigned", by.username, subject_id=item.subject_id,
                 instance_id=item.instance_id, task_id=item.task_id, data=data)
    return item


def save_draft(session: Session, work_item_id: int, data: dict, user: UserAccount) -> WorkItem:
    item = get_open(session, work_item_id)
    if item.status not in OPEN:
        raise Conflict(f"This task is {item.status}; the draft was not saved. Your entries are "
                       "shown below so you can copy them.")
    item.draft = dict(data)
    audit.record(session, "draft_saved", user.username, subject_id=item.subject_id,
                 instance_id=item.instance_id, task_id=item.task_id,
                 data={"task": item.task_name, "fields": sorted(data)})
    return item
