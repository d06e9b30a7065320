"""Start, load, complete and save process instances, each inside the caller's transaction.

Every change is load → act → save-if-version-unchanged; the derived indexes (work items,
timers, milestones) and audit events are written in the same transaction, so a crash or a
lost race leaves nothing half-done.
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import (audit, choice_rules, clock, date_rules, form_schemas, milestones, notifications,
               registry, routing, serialization, spiff_fixes, step_limits, timers, work_items, writer)
from .notice_derivation import NoticeDerivation
from .db import STALE_MESSAGE
from .errors import Conflict, FieldError, InvalidData, NotFound
from .expressions import SandboxedScriptEngine
from .models import ProcessInstance, ProcessModel, Subject, UserAccount, WorkItem
from .rule_anchors import timer_problem
from .rules import RulePolicy


# An instance's status once it was ended from outside its diagram (Runtime.end_early).
ENDED_EARLY = "ended_early"


@dataclass
class EngineConfig:
    """What a domain plugs into the engine."""
    rules: RulePolicy
    roles: frozenset[str]
    escalation_roles: tuple[str, ...] = ()
    # Processes whose overdue work escalates along another chain than escalation_roles
    # (a deployment running several rule sets): process id -> chain.
    escalation_chains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    script_functions: Mapping[str, Callable[[dict], None]] = field(default_factory=dict)
    # Who hears about which events, with what wording (engine/notifications.py).
    notifications: notifications.NotificationPolicy | None = field(
        default_factory=notifications.NotificationPolicy)
    # Date rules of the forms (engine/date_rules.py): None applies none.
    date_rules: date_rules.Policy | None = None

    def escalation_chain(self, process_id: str | None) -> tuple[str, ...]:
        return tuple(self.escalation_chains.get(process_id, self.escalation_roles))

    def validation_context(self) -> registry.ValidationContext:
        return registry.ValidationContext(
            self.roles, self.rules, frozenset(self.script_functions),
            self.date_rules.milestones if self.date_rules else None)


@dataclass(frozen=True)
class Completion:
    work_item: WorkItem
    instance: ProcessInstance
    repeated: bool = False  # True when this was a repeat of an earlier identical submit


def digest(data: Mapping) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class Runtime:
    def __init__(self, config: EngineConfig):
        self.config = config
        spiff_fixes.apply()  # SpiffWorkflow's timers read engine/clock.py
        # Notices of audit events under the config's policy: derived here for the events
        # the save path writes itself (``flush``), and by the session factory's flush
        # listener for the others once the wiring attaches it (``notices.listen(factory)``,
        # workflows/app.py).
        self.notices = NoticeDerivation(config.notifications)
        self.script_engine = SandboxedScriptEngine(self._timer_date, config.script_functions)

    # -- timers resolve their due rules through the domain's policy ------------------
    def _timer_date(self, task, text: str):
        try:
            self.config.rules.check_rule(text)
        except ValueError:
            if problem := timer_problem(text, self.config.rules):
                raise step_limits.cannot_work_out(task, problem) from None
            return None  # a quoted ISO date or duration, which SpiffWorkflow reads itself
        when = self.config.rules.resolve(text, milestones.anchors(task))
        if when is None:
            raise step_limits.cannot_work_out(task, f"timer {text!r} counts from dates none of "
                                                    "which is known yet")
        return when

    # -- persistence ----------------------------------------------------------------
    def load_workflow(self, instance: ProcessInstance) -> BpmnWorkflow:
        loaded = registry.load(instance.model)
        wf = serialization.loads(instance.state, loaded.spec, loaded.subprocess_specs)
        wf.script_engine = self.script_engine  # not serialized: set again after every load
        # What the index rows were written from (every save writes them with the state, in
        # one transaction): save writes only what changed since, without reading the rows.
        wf.indexed_rows = {"milestones": milestones.wanted_rows(wf), "timers": timers.wanted_rows(wf),
                           "work_items": work_items.ready_ids(wf)}
        return wf

    def step(self, wf: BpmnWorkflow) -> None:
        # Milestones are recorded *before* a task runs: running it updates its successors,
        # and a successor's timer may be anchored on the milestone just reached.
        wf.refresh_timers()
        spiff_fixes.hold_later_interrupting(wf)
        with step_limits.bounded_expressions(wf):
            wf.do_engine_steps(will_complete_task=step_limits.counted(milestones.on_task_completed, wf),
                               did_complete_task=spiff_fixes.after_task)

    def save(self, session: Session, instance: ProcessInstance, wf: BpmnWorkflow, actor: str,
             *, flush: bool = True, milestone_rows: list | None = None,
             timer_rows: timers.DeferredRows | None = None) -> None:
        """Write indexes, then the state (version-checked), all in the caller's transaction.

        Everything is read first and written by one flush at the end (``flush=False``: by
        the caller's), so the version check, the index rows and the audit events go to the
        database together instead of a flush before every read. The changed milestone rows
        go with that flush too (on PostgreSQL in its statement): with ``flush=False`` only
        when the caller passes ``milestone_rows``, a list for its own ``flush`` to write;
        else they are written at once. ``timer_rows``: the timer rows' changes are kept
        there, for the caller to write with others' (the sweeper's batch).
        """
        if flush and milestone_rows is None:
            milestone_rows = []
        with session.no_autoflush:
            indexed = getattr(wf, "indexed_rows", None)  # None: rows unknown, read them
            work_items.sync(session, instance, wf, self.config.rules, actor,  # may plan milestones
                            indexed)
            milestones.sync_rows(session, instance, wf, indexed, milestone_rows)
            timers.sync(session, instance, wf, indexed, timer_rows)
            instance.state = serialization.dumps(wf)
            if wf.is_completed() and instance.status == "running":
                step_limits.check_really_completed(wf)  # or ProcessCannotRun: rolled back
                self._finish(session, instance, wf, actor)
        if flush:
            self.flush(session, milestone_rows)

    def flush(self, session: Session, milestone_rows: list | None = None) -> None:
        """The save path's flush (engine/writer.py), then the notices of the audit events
        it wrote by its own statements, in the same transaction."""
        try:
            events, inserted = writer.flush(session, milestone_rows)
        except StaleDataError:
            raise Conflict(STALE_MESSAGE) from None
        if events:
            self.notices.derive_written(session, events, inserted)

    def instance(self, session: Session, instance_id: int) -> ProcessInstance | None:
        """The instance with its model row, but not the model's diagram and forms: the
        parsed spec is cached by content hash (registry.load), so they are rarely needed."""
        return session.get(ProcessInstance, instance_id, options=INSTANCE_LOAD)

    def _finish(self, session: Session, instance: ProcessInstance, wf: BpmnWorkflow, actor: str):
        ends = [t for t in wf.get_tasks(state=TaskState.COMPLETED)
                if type(t.task_spec).__name__ == "EndEvent"]
        # The end reached last (a terminate end cancels branches that ended earlier).
        end = max(ends, key=lambda t: t.last_state_change) if ends else None
        instance.status, instance.completed_at = "completed", clock.now()
        instance.end_event = end.task_spec.bpmn_id if end else None
        audit.record(session, "instance_completed", actor, subject_id=instance.subject_id,
                     instance_id=instance.id, data={"end": instance.end_event,
                                                    "end_name": end.task_spec.bpmn_name if end else None})
        props = milestones.properties(end.task_spec) if end else {}
        if props.get("startsProcess"):
            data = {}
            for pair in props.get("startData", "").split():
                target, _, source = pair.partition("=")
                data[target] = end.data.get(source)
            self.start(session, props["startsProcess"], instance.subject, data, actor,
                       parent=instance)

    # -- commands -------------------------------------------------------------------
    def start(self, session: Session, process_id: str, subject: Subject, data: Mapping,
              actor: str, *, parent: ProcessInstance | None = None) -> ProcessInstance:
        model = registry.latest(session, process_id)
        if model is None:
            raise NotFound(f"No version of process {process_id!r} is deployed; run `pace init-db`.")
        chained_starts = step_limits.chained_depth(parent)
        loaded = registry.load(model)
        wf = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=self.script_engine)
        start_task = wf.get_tasks(state=TaskState.READY)[0]
        start_task.data.update(dict(data))
        # A new instance has no index rows yet: save writes them without looking for any.
        wf.indexed_rows = {"milestones": {}, "timers": {}, "work_items": set()}
        instance = ProcessInstance(subject=subject, subject_id=subject.id, process_id=process_id,
                                   model=model, model_id=model.id, status="running", state="{}",
                                   started_at=clock.now(),
                                   parent_instance_id=parent.id if parent else None)
        instance.chained_starts = chained_starts  # read by a process this one starts
        session.add(instance)
        session.flush()
        audit.record(session, "instance_started", actor, subject_id=subject.id,
                     instance_id=instance.id,
                     data={"process_id": process_id, "version": model.version,
                           "start_data": dict(data), "parent_instance": instance.parent_instance_id})
        self.step(wf)
        self.save(session, instance, wf, actor)
        return instance

    def form_for(self, instance: ProcessInstance, task_name: str) -> tuple[dict, dict]:
        loaded = registry.load(instance.model)
        spec = loaded.spec.task_specs.get(task_name)
        if spec is None:
            return {"type": "object", "properties": {}}, {}
        return loaded.form_schema(spec), loaded.ui_schema(spec)

    def assign_target(self, instance: ProcessInstance, task_name: str) -> str | None:
        """The diagram's ``assign`` property of the task (engine/routing.py), or None."""
        spec = registry.load(instance.model).spec.task_specs.get(task_name)
        return routing.assign_target(spec) if spec is not None else None

    def validate(self, schema: dict, data: Mapping, dates: date_rules.Facts | None = None,
                 *, imported: bool = False) -> None:
        """422 listing every field's problem: the form's JSON Schema, then (for fields it
        accepts) the form's date rules checked against ``dates``. Unless ``imported``, a
        choice only an import may record ("not recorded") is refused too."""
        errors = [] if imported else [
            FieldError(name, "This choice is recorded only by a caseload import; choose one "
                             "of the others.")
            for name in form_schemas.import_only_answers(schema, data)]
        for error in form_schemas.problems(schema, data):
            path = ".".join(str(p) for p in error.absolute_path)
            if error.validator == "required":
                missing = error.message.split("'")[1] if "'" in error.message else ""
                path = ".".join(filter(None, [path, missing]))
            errors.append(FieldError(path, error.message))
        if dates is not None:
            refused = {e.field for e in errors}
            errors += [e for e in date_rules.check(schema, data, dates) if e.field not in refused]
            errors += [e for e in choice_rules.check(schema, data, dates) if e.field not in refused]
        if errors:
            raise InvalidData(errors)

    def date_facts(self, instance: ProcessInstance, wf: BpmnWorkflow,
                   task=None) -> date_rules.Facts | None:
        """What a task's dates are checked against: today, the subject's date of birth and
        the milestones this instance has recorded (None: the domain applies no date rules);
        with the task, what its choice rules read too (engine/choice_rules.py)."""
        policy = self.config.date_rules
        if policy is None:
            return None
        subject = instance.subject
        return date_rules.Facts(
            today=clock.today(), born=subject.date_of_birth if subject is not None else None,
            milestones=milestones.latest(wf),
            milestone_date=functools.partial(policy.milestone_date, instance.process_id),
            anchors=milestones.anchors(task) if task is not None else {},
            data=dict(task.data) if task is not None else {}, resolve=self.config.rules.resolve)

    def complete(self, session: Session, work_item_id: int, data: Mapping,
                 user: UserAccount) -> Completion:
        item, instance = work_items.get_open_with_instance(session, work_item_id, INSTANCE_LOAD)
        submitted = digest(data)
        if item.status == "completed":
            if item.completion_digest == submitted:
                return Completion(item, instance, repeated=True)
            raise Conflict("This task was already completed (at "
                           f"{item.completed_at:%d %b %Y %H:%M}) with different details; "
                           "reload the child's page to see what was recorded.")
        if item.status == "cancelled":
            raise Conflict("This task is no longer open (the process moved on); reload the queue.")
        # A user with no account (``id`` None: a caseload import replaying history) records
        # what was done before PACE Flow, so a task the diagram gave a worker is no obstacle.
        if item.status == "claimed" and user.id is not None \
                and item.assignee_id not in (None, user.id):
            raise Conflict("Another worker holds this task; ask them or a team leader to release it.")
        wf = self.load_workflow(instance)
        task = wf.get_task_from_id(UUID(item.task_id))
        if task is None or task.state != TaskState.READY:
            raise Conflict("This task is no longer open; reload the queue.")
        schema, _ = self.form_for(instance, item.task_name)
        self.validate(schema, data, self.date_facts(instance, wf, task), imported=user.id is None)
        task.data.update(dict(data))
        with step_limits.bounded_expressions(wf):
            milestones.on_task_completed(task)
            task.run()
        self.step(wf)
        item.status, item.completed_at, item.completed_by = "completed", clock.now(), user.id
        item.completion_digest, item.draft = submitted, None
        work_items.close(wf, item.task_id)
        milestone_rows: list = []
        self.save(session, instance, wf, user.username, flush=False, milestone_rows=milestone_rows)
        audit.record(session, "task_completed", user.username, subject_id=instance.subject_id,
                     instance_id=instance.id, task_id=item.task_id,
                     data={"task": item.task_name, "title": item.title, "answers": dict(data)})
        self.flush(session, milestone_rows)
        return Completion(item, instance)

    def end_early(self, session: Session, instance: ProcessInstance, actor: str, *,
                  ended_on: date, milestone: str | None = None,
                  milestone_data: Mapping | None = None, audit_data: Mapping | None = None) -> None:
        """End a running instance before its diagram reaches an end: its subject left what
        the process is for (a child went home, moved away, turned 18) and no task of the
        diagram can say so. Every open task is cancelled and every waiting timer dropped
        (SpiffWorkflow's ``cancel``), so nothing reminds or escalates afterwards; the
        instance keeps its history and is marked ``ended_early`` on ``ended_on``, with
        ``milestone`` recorded on that date when given. The caller holds the subject's
        lock and has checked who may do it and why; the domain's words go in ``audit_data``.
        """
        if instance.status != "running":
            raise Conflict("This process has already ended; nothing was changed.")
        wf = self.load_workflow(instance)
        if milestone:
            milestones.record_ending(wf, milestone, ended_on, dict(milestone_data or {}))
        wf.cancel()
        # Midday UTC of the day (engine/clock.aware): the same day in any UK time, and never
        # later than now when the ending is recorded on the day itself.
        instance.status, instance.end_event = ENDED_EARLY, None
        instance.completed_at = min(clock.now(), clock.aware(ended_on))
        milestone_rows: list = []
        self.save(session, instance, wf, actor, flush=False, milestone_rows=milestone_rows)
        audit.record(session, "instance_ended_early", actor, subject_id=instance.subject_id,
                     instance_id=instance.id,
                     data={"process_id": instance.process_id, "ended_on": ended_on,
                           **dict(audit_data or {})})
        self.flush(session, milestone_rows)

    def fire_timers(self, session: Session, instance: ProcessInstance, actor: str = "timer",
                    *, flush: bool = True,
                    timer_rows: timers.DeferredRows | None = None) -> list[str]:
        """Refresh waiting timers of one instance; returns the names of those that fired.
        ``flush=False`` leaves the rows to the caller's flush and ``timer_rows`` the timer
        rows' changes to the caller's writing (the sweeper's, for a batch)."""
        wf = self.load_workflow(instance)
        waiting = wf.indexed_rows["timers"]  # task id -> (name, fire at), found by the load
        self.step(wf)
        fired = [name for tid, (name, _at) in waiting.items() if _ran(wf, tid)]
        for name in fired:
            audit.record(session, "timer_fired", actor, subject_id=instance.subject_id,
                         instance_id=instance.id, data={"timer": name})
        self.save(session, instance, wf, actor, flush=flush, timer_rows=timer_rows)
        return fired


def _ran(wf: BpmnWorkflow, task_id: str) -> bool:
    """Whether a timer that was waiting has fired: its task ran. One cancelled in the same
    step (an earlier interrupting timer of the same task fired, see
    spiff_fixes.hold_later_interrupting) did not, and an audit event saying so would mislead."""
    task = wf.get_task_from_id(UUID(task_id))
    return task is not None and task.has_state(TaskState.READY | TaskState.STARTED
                                               | TaskState.COMPLETED)


# The model row without its diagram and forms (see Runtime.instance).
INSTANCE_LOAD = (joinedload(ProcessInstance.model).defer(ProcessModel.bpmn_xml)
                 .defer(ProcessModel.forms),)

def subject_or_404(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"There is no child with id {subject_id}.")
    return subject
