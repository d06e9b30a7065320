"""Marshmallow schemas of /api/v1: request arguments and response bodies.

Every response is dumped through one of these, so the OpenAPI document (built from the
same classes) describes exactly what is sent. Fields that may be empty say so
(``allow_none``), times are always UTC with an offset, and every text input refuses NUL
characters and broken Unicode, which the databases would otherwise reject with an error.
"""
from __future__ import annotations

from datetime import datetime, timezone

import marshmallow as ma
from marshmallow import Schema, fields, validate

from engine.plain_text import single_line_problem, storable_problem
from engine.queues import SORTS
from web.shared.query_args import MAX_PAGE  # the pages' bounds, here too

WORK_STATUSES = ("ready", "claimed", "completed", "cancelled")
DUE_STATUSES = ("overdue", "this_week", "upcoming")
MILESTONE_STATUSES = ("done", "on_time", "late", "due", "overdue")
PATHWAYS = ("accommodated", "cso_home", "cso_kinship")


def _clean_text(value: str) -> None:
    if problem := storable_problem(value):
        raise ma.ValidationError(problem)


def _one_line(value: str) -> None:
    if problem := single_line_problem(value):
        raise ma.ValidationError(problem[0].upper() + problem[1:] + ".")


class Text(fields.String):
    """A string input with optional length limits that the databases can store;
    ``single_line`` refuses line breaks and other control characters (references, names)."""

    def __init__(self, *, min_length: int | None = None, max_length: int | None = None,
                 single_line: bool = False, **kw):
        checks = [_clean_text] + ([_one_line] if single_line else [])
        if min_length is not None or max_length is not None:
            checks.append(validate.Length(min=min_length, max=max_length))
        super().__init__(validate=checks, **kw)


class UtcDateTime(fields.DateTime):
    """ISO 8601 with a UTC offset (SQLite hands back naive times, stored as UTC)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


def _out(field: fields.Field) -> fields.Field:
    field.required = True  # documented as always present in responses
    return field


# -- errors ---------------------------------------------------------------------------------
class ErrorSchema(Schema):
    code = _out(fields.Integer(metadata={"description": "HTTP status code"}))
    status = _out(fields.String(metadata={"description": "HTTP status name"}))
    message = _out(fields.String(metadata={"description": "What went wrong and what to do"}))
    errors = _out(fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                              metadata={"description": "Messages by field path in the request "
                                                       "(e.g. data.referral_date); empty when no "
                                                       "field is to blame"}))


# -- shared pieces ----------------------------------------------------------------------------
class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class PageSchema(Schema):
    page = _out(fields.Integer())
    per_page = _out(fields.Integer())
    total = _out(fields.Integer())
    pages = _out(fields.Integer())


class UserRefSchema(Schema):
    username = _out(fields.String())
    display_name = _out(fields.String())


class ChildRefSchema(Schema):
    id = _out(fields.Integer())
    reference = _out(fields.String())
    name = _out(fields.String())


# -- me and tokens ------------------------------------------------------------------------------
class AbilitiesSchema(Schema):
    has_queue = _out(fields.Boolean())
    view_children = _out(fields.Boolean())
    create_children = _out(fields.Boolean())
    view_overview = _out(fields.Boolean())
    view_measures = _out(fields.Boolean())
    manage_tokens_of_others = _out(fields.Boolean())


class MeSchema(Schema):
    id = _out(fields.Integer())
    username = _out(fields.String())
    display_name = _out(fields.String())
    roles = _out(fields.List(fields.String()))
    team = _out(fields.String(allow_none=True))
    all_teams = _out(fields.Boolean())
    queue_roles = _out(fields.List(fields.String()))
    authenticated_by = _out(fields.String(validate=validate.OneOf(("token", "session"))))
    can = _out(fields.Nested(AbilitiesSchema))


class TokenSchema(Schema):
    id = _out(fields.Integer())
    name = _out(fields.String())
    prefix = _out(fields.String(metadata={"description": "The token's first characters"}))
    user = _out(fields.Nested(UserRefSchema))
    created_at = _out(UtcDateTime())
    created_by = _out(fields.String())
    expires_at = _out(UtcDateTime(allow_none=True))
    last_used_at = _out(UtcDateTime(allow_none=True))
    revoked_at = _out(UtcDateTime(allow_none=True))
    revoked_by = _out(fields.String(allow_none=True))
    active = _out(fields.Boolean())


class IssuedTokenSchema(TokenSchema):
    token = _out(fields.String(metadata={"description": "The token itself: shown this once "
                                                        "only, store it safely"}))


class TokenListSchema(Schema):
    items = _out(fields.List(fields.Nested(TokenSchema)))


class TokenArgs(Schema):
    username = Text(max_length=80, single_line=True, metadata={"description": "Administrators: another user's "
                                                            "tokens"})


class NewTokenSchema(Schema):
    name = Text(required=True, min_length=1, max_length=100,
                metadata={"description": "What the token is for, e.g. 'data warehouse'"})
    username = Text(max_length=80, load_default=None, allow_none=True,
                    metadata={"description": "Administrators: the (service) user the token "
                                             "is for; default yourself"})
    expires_in_days = fields.Integer(load_default=None, allow_none=True,
                                     validate=validate.Range(min=1, max=3650),
                                     metadata={"description": "Days until the token "
                                                              "expires; default 90"})


# -- queues and work items ----------------------------------------------------------------------
class QueueArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(DUE_STATUSES),
                           metadata={"description": "Due status"})
    child = Text(max_length=80, single_line=True,
                 metadata={"description": "Part of a child's reference or name"})
    task = Text(max_length=100, single_line=True,
                metadata={"description": "Task name (the diagram's id)"})
    sort = fields.String(load_default="due", validate=validate.OneOf(tuple(SORTS)))


class WorkItemSchema(Schema):
    id = _out(fields.Integer())
    instance_id = _out(fields.Integer())
    child = _out(fields.Nested(ChildRefSchema))
    task_name = _out(fields.String())
    title = _out(fields.String())
    role = _out(fields.String())
    team = _out(fields.String())
    status = _out(fields.String(validate=validate.OneOf(WORK_STATUSES)))
    assignee = _out(fields.Nested(UserRefSchema, allow_none=True))
    created_at = _out(UtcDateTime())
    due_date = _out(fields.Date(allow_none=True))
    remind_date = _out(fields.Date(allow_none=True))
    due_status = _out(fields.String(validate=validate.OneOf(DUE_STATUSES)))
    escalation_level = _out(fields.Integer())
    completed_at = _out(UtcDateTime(allow_none=True))
    completed_by = _out(fields.Nested(UserRefSchema, allow_none=True))


class WorkItemPageSchema(PageSchema):
    items = _out(fields.List(fields.Nested(WorkItemSchema)))


class FormSchema(Schema):
    schema = _out(fields.Dict(metadata={"description": "The task's JSON Schema (draft 2020-12)"}))
    ui_schema = _out(fields.Dict())


class PermissionsSchema(Schema):
    claim = _out(fields.Boolean())
    release = _out(fields.Boolean())
    edit = _out(fields.Boolean(metadata={"description": "Save a draft or complete"}))
    reassign = _out(fields.Boolean())


class WorkItemDetailSchema(WorkItemSchema):
    form = _out(fields.Nested(FormSchema))
    draft = _out(fields.Dict(allow_none=True))
    permissions = _out(fields.Nested(PermissionsSchema))
    assignees = _out(fields.List(fields.Nested(UserRefSchema),
                                 metadata={"description": "Who a team leader may give it to"}))


class TaskDataSchema(Schema):
    data = fields.Dict(keys=fields.String(), required=True,
                       metadata={"description": "The form's fields, valid against the task's "
                                                "JSON Schema"})


class ReassignSchema(Schema):
    assignee = Text(required=True, min_length=1, max_length=80,
                    metadata={"description": "Username of the worker to give the task to"})
    reason = Text(required=True, max_length=300, single_line=True,
                  metadata={"description": "Why the task moves (one line, at most 300 "
                                           "characters): kept in the child's history and "
                                           "told to the new holder"})


class InstanceRefSchema(Schema):
    id = _out(fields.Integer())
    process_id = _out(fields.String())
    status = _out(fields.String())


class CompletionSchema(Schema):
    work_item = _out(fields.Nested(WorkItemSchema))
    repeated = _out(fields.Boolean(metadata={"description": "True when this repeated an "
                                                            "earlier identical submission"}))
    instance = _out(fields.Nested(InstanceRefSchema))
    open_tasks = _out(fields.List(fields.Nested(WorkItemSchema)))


# -- children and instances ----------------------------------------------------------------------
class ChildArgs(PageArgs):
    q = Text(max_length=80, single_line=True, metadata={"description": "Part of a reference or name"})


class ChildSummarySchema(Schema):
    id = _out(fields.Integer())
    reference = _out(fields.String())
    name = _out(fields.String())
    team = _out(fields.String())
    date_of_birth = _out(fields.Date(allow_none=True))
    allocated_worker = _out(fields.Nested(UserRefSchema, allow_none=True))
    open_tasks = _out(fields.Integer())
    overdue_tasks = _out(fields.Integer())
    created_at = _out(UtcDateTime())


class ChildPageSchema(PageSchema):
    items = _out(fields.List(fields.Nested(ChildSummarySchema)))


class NewChildSchema(Schema):
    """The "Add a child" page's fields. What else is required, and any field of another
    profile's entry form (the English profile's SSDA903 details), is checked against the
    profile's form by the service, so the page and the API refuse the same things."""

    class Meta:
        unknown = ma.INCLUDE  # a profile's own fields, checked against its entry form

    profile = Text(max_length=40, load_default=None, allow_none=True, metadata={
        "description": "The profile the child is on (scotland, england); default the only "
                       "one enabled"})
    reference = Text(max_length=80, single_line=True, metadata={"description": "Required"})
    name = Text(max_length=200, single_line=True, metadata={"description": "Required"})
    team = Text(max_length=40, load_default=None, allow_none=True,
                metadata={"description": "Team code; default your own team"})
    date_of_birth = fields.Date(load_default=None, allow_none=True)
    allocated_worker = Text(max_length=80, load_default=None, allow_none=True,
                            metadata={"description": "Username of the allocated social worker"})
    pathway = fields.String(validate=validate.OneOf(PATHWAYS), metadata={
        "description": "Scotland, required: accommodated starts the permanence journey "
                       "(LA_START = start_date); cso_home starts the CSO at home review loop "
                       "(CSO_START = start_date); cso_kinship the same loop for a child in "
                       "kinship care on a CSO"})
    start_date = fields.Date(metadata={"description": "Scotland, required"})


class MilestoneSchema(Schema):
    code = _out(fields.String())
    label = _out(fields.String())
    occurrence = _out(fields.Integer())
    planned_date = _out(fields.Date(allow_none=True))
    actual_date = _out(fields.Date(allow_none=True))
    status = _out(fields.String(validate=validate.OneOf(MILESTONE_STATUSES)))
    days_late = _out(fields.Integer())


class TimerSchema(Schema):
    name = _out(fields.String())
    fire_at = _out(UtcDateTime())


class InstanceSummarySchema(Schema):
    id = _out(fields.Integer())
    process_id = _out(fields.String())
    process_name = _out(fields.String())
    model_version = _out(fields.Integer())
    status = _out(fields.String())
    started_at = _out(UtcDateTime())
    completed_at = _out(UtcDateTime(allow_none=True))
    end_event = _out(fields.String(allow_none=True))
    parent_instance_id = _out(fields.Integer(allow_none=True))


class RecordedAnswerSchema(Schema):
    """One answer in the words of its form; a group (a repeating row, a nested object) has
    its answers in ``parts`` and no ``text``."""
    name = _out(fields.String(metadata={"description": "The field's path in the form's data"}))
    label = _out(fields.String(metadata={"description": "The field's title in the form"}))
    text = _out(fields.String(metadata={
        "description": "The answer as words: a choice's title, a date as 28 October 2026"}))
    parts = _out(fields.List(fields.Nested(lambda: RecordedAnswerSchema())))


class RecordedStepSchema(Schema):
    task_id = _out(fields.String())
    task_name = _out(fields.String())
    title = _out(fields.String())
    process = _out(fields.String())
    completed_at = _out(UtcDateTime())
    completed_by = _out(fields.String(metadata={"description": "Who completed it (their name)"}))
    answers = _out(fields.List(fields.Nested(RecordedAnswerSchema)))


class ChildDetailSchema(ChildSummarySchema):
    team_name = _out(fields.String())
    instances = _out(fields.List(fields.Nested(InstanceSummarySchema)))
    tasks = _out(fields.List(fields.Nested(WorkItemSchema)))
    milestones = _out(fields.List(fields.Nested(MilestoneSchema)))
    recorded_steps = _out(fields.List(fields.Nested(RecordedStepSchema), metadata={
        "description": "Every completed step with its answers, newest first, as the child's "
                       "page shows them"}))


class AllocationSchema(Schema):
    worker = Text(required=True, min_length=1, max_length=80, single_line=True,
                  metadata={"description": "Username of the social worker to allocate: "
                                           "active, in the child's team"})
    reason = Text(load_default=None, allow_none=True, max_length=300, single_line=True,
                  metadata={"description": "Why (optional): kept in the child's history"})


class AllocationResultSchema(Schema):
    child = _out(fields.Nested(ChildDetailSchema))
    changed = _out(fields.Boolean(metadata={"description": "False when the worker was "
                                                           "already allocated"}))
    moved = _out(fields.List(fields.Nested(WorkItemSchema), metadata={
        "description": "Tasks the diagrams give the allocated worker, now with the new one"}))
    returned = _out(fields.List(fields.Nested(WorkItemSchema), metadata={
        "description": "Such tasks the new worker cannot hold, back in the team queue"}))


class InstanceStateSchema(InstanceSummarySchema):
    child = _out(fields.Nested(ChildRefSchema))
    open_tasks = _out(fields.List(fields.Nested(WorkItemSchema)))
    milestones = _out(fields.List(fields.Nested(MilestoneSchema)))
    timers = _out(fields.List(fields.Nested(TimerSchema)))


class HistoryEventSchema(Schema):
    seq = _out(fields.Integer(metadata={"description": "Position in the child's audit chain"}))
    at = _out(UtcDateTime())
    event_type = _out(fields.String())
    actor = _out(fields.String())
    instance_id = _out(fields.Integer(allow_none=True))
    task_id = _out(fields.String(allow_none=True))
    data = _out(fields.Dict())
    hash = _out(fields.String())


class HistoryPageSchema(PageSchema):
    items = _out(fields.List(fields.Nested(HistoryEventSchema)))


class HistoryArgs(PageArgs):
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


# -- process models and measures ------------------------------------------------------------------
class ModelArgs(Schema):
    process_id = Text(max_length=100, single_line=True)


class ProcessModelSchema(Schema):
    id = _out(fields.Integer())
    process_id = _out(fields.String())
    version = _out(fields.Integer())
    name = _out(fields.String())
    content_hash = _out(fields.String())
    deployed_by = _out(fields.String())
    deployed_at = _out(UtcDateTime())
    reason = _out(fields.String())
    pdsa_cycle_id = _out(fields.Integer(allow_none=True))
    latest = _out(fields.Boolean())
    running_instances = _out(fields.Integer())


class ProcessModelListSchema(Schema):
    items = _out(fields.List(fields.Nested(ProcessModelSchema)))


class TallySchema(Schema):
    on_time = _out(fields.Integer())
    late = _out(fields.Integer())
    overdue = _out(fields.Integer(metadata={"description": "Not done, deadline passed"}))
    pending = _out(fields.Integer(metadata={"description": "Not done, deadline ahead"}))
    ended = _out(fields.Integer())
    decided = _out(fields.Integer())
    due = _out(fields.Integer(metadata={"description": "Decided plus overdue"}))
    pct_of_decided = _out(fields.Float(allow_none=True))
    pct_of_due = _out(fields.Float(allow_none=True))
    pct_done = _out(fields.Float(allow_none=True))


class CohortSchema(Schema):
    month = _out(fields.String(metadata={"description": "YYYY-MM of the deadlines"}))
    complete = _out(fields.Boolean(metadata={"description": "Every deadline has passed"}))
    value = _out(fields.Float(allow_none=True))
    tally = _out(fields.Nested(TallySchema))


class AimSchema(Schema):
    aim = _out(fields.Integer())
    title = _out(fields.String())
    wording = _out(fields.String())
    definition = _out(fields.String())
    definitions_version = _out(fields.String())
    target_pct = _out(fields.Float())
    threshold = _out(fields.String())
    threshold_description = _out(fields.String())
    population = _out(fields.String())
    start_date = _out(fields.Date(allow_none=True))
    end_date = _out(fields.Date(allow_none=True))
    measured_on = _out(fields.Date())
    team = _out(fields.String(allow_none=True, metadata={"description": "null: every team"}))
    value = _out(fields.Float(allow_none=True, metadata={"description": "The headline figure"}))
    total = _out(fields.Nested(TallySchema))
    cohorts = _out(fields.List(fields.Nested(CohortSchema)))
    left_out = _out(fields.Integer(metadata={"description": "Children outside the population"}))
