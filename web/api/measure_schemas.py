"""Marshmallow schemas of /api/v1/measures/…: arguments and bodies of the measures.

Kept beside schemas.py (which holds the aims' original shapes, extended here) because the
measures have many shapes of their own (the aims' settings and the PDSA cycles are in
pdsa_schemas.py); the conventions are the same: every response field
is documented as present (``_out``), empty values say so, text inputs refuse NUL.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from workflows.measures import aim_statuses, forecast, survival
from workflows.vocabulary import PROCESSES

from .schemas import AimSchema, ChildRefSchema, CohortSchema, TallySchema, Text, _out
from web.shared.query_args import FIRST_DAY, LAST_DAY, MAX_ID  # the pages' bounds, here too

MONTH = validate.Regexp(r"^(19\d\d|2\d\d\d)-(0[1-9]|1[0-2])$",
                        error="Write the month as YYYY-MM, from 1900-01 to 2999-12.")
DATE_RANGE = validate.Range(min=FIRST_DAY, max=LAST_DAY,
                            error=f"Use a date between {FIRST_DAY} and {LAST_DAY}.")
STATUSES = (*aim_statuses.STATUS_LABELS, "left_out")
RANGE_KEYS = ("from1", "to1", "from2", "to2")


# -- arguments ---------------------------------------------------------------------------------
class ScopeArgs(Schema):
    team = Text(max_length=40, single_line=True,
                metadata={"description": "Service-wide users: one team's figures"})
    on = fields.Date(validate=DATE_RANGE, metadata={"description": "Measurement date (default "
                                                                   "today)"})


class AimArgs(ScopeArgs):
    publication = fields.Boolean(load_default=False, metadata={
        "description": "true: small numbers of the early endings withheld, as in the CSV "
                       "for publication"})


def _check_ranges(data: dict, required: bool) -> None:
    given = [k for k in RANGE_KEYS if data.get(k) is not None]
    if not given and not required:
        return
    missing = [k for k in RANGE_KEYS if data.get(k) is None]
    if missing:
        raise ValidationError({k: ["Give all four dates of the two ranges."] for k in missing})
    for first, last in (("from1", "to1"), ("from2", "to2")):
        if data[first] > data[last]:
            raise ValidationError({last: [f"Must be on or after {first}."]})


class RangeArgs(ScopeArgs):
    from1 = fields.Date(validate=DATE_RANGE, metadata={"description": "First range: from"})
    to1 = fields.Date(validate=DATE_RANGE, metadata={"description": "First range: to"})
    from2 = fields.Date(validate=DATE_RANGE, metadata={"description": "Second range: from"})
    to2 = fields.Date(validate=DATE_RANGE, metadata={"description": "Second range: to"})


class DrillArgs(ScopeArgs):
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "Only entries with this status; left_out: children outside the "
                       "aim's population"})
    month = fields.String(validate=MONTH, metadata={"description": "Only this cohort month "
                                                                   "(YYYY-MM)"})


class RunChartArgs(ScopeArgs):
    denominator = fields.String(load_default="due", validate=validate.OneOf(("due", "decided")),
                                metadata={"description": "Aims 2 and 3: % of decided plus "
                                                         "overdue (due) or of decided only"})
    baseline_from = fields.String(validate=MONTH, metadata={"description": "YYYY-MM"})
    baseline_to = fields.String(validate=MONTH, metadata={"description": "YYYY-MM"})

    @validates_schema
    def _baseline(self, data, **_kw):
        given = [k for k in ("baseline_from", "baseline_to") if data.get(k)]
        if len(given) == 1:
            raise ValidationError({k: ["Give both ends of the baseline period."]
                                   for k in ("baseline_from", "baseline_to") if k not in given})
        if len(given) == 2 and data["baseline_from"] > data["baseline_to"]:
            raise ValidationError({"baseline_to": ["Must not be before baseline_from."]})


class StageArgs(RangeArgs):
    process = fields.String(load_default=PROCESSES[0], validate=validate.OneOf(PROCESSES))
    before = fields.Integer(validate=validate.Range(min=1, max=MAX_ID),
                            metadata={"description": "Compare this diagram version…"})
    after = fields.Integer(validate=validate.Range(min=1, max=MAX_ID),
                           metadata={"description": "…with this one"})

    @validates_schema
    def _comparison(self, data, **_kw):
        versions = [k for k in ("before", "after") if data.get(k) is not None]
        if len(versions) == 1:
            missing = "after" if versions == ["before"] else "before"
            raise ValidationError({missing: ["Give both versions to compare."]})
        if versions and any(data.get(k) is not None for k in RANGE_KEYS):
            raise ValidationError({"before": ["Compare versions or date ranges, not both."]})
        _check_ranges(data, required=False)


class SurvivalArgs(RangeArgs):
    clock = fields.String(load_default=survival.RECOMMENDATION,
                          validate=validate.OneOf(tuple(survival.CLOCKS)))
    group = fields.String(load_default="none", validate=validate.OneOf(survival.GROUPINGS),
                          metadata={"description": "none, version (diagram version the clock "
                                                   "started under) or ranges (from1-to2)"})

    @validates_schema
    def _ranges(self, data, **_kw):
        _check_ranges(data, required=data.get("group") == "ranges")


class ForecastArgs(ScopeArgs):
    clock = fields.String(validate=validate.OneOf(tuple(forecast.CLOCKS)),
                          metadata={"description": "Only this clock (default every clock)"})


class ForecastChildArgs(ForecastArgs):
    status = fields.String(validate=validate.OneOf(tuple(forecast.STATUS_LABELS)),
                           metadata={"description": "Only this status (default every open "
                                                    "clock)"})


# -- aims --------------------------------------------------------------------------------------
class FiguresSchema(TallySchema):
    numerator = _out(fields.Integer(metadata={"description": "Aims 2-3: on time; Aim 1: "
                                                             "reviewed"}))
    excluded = _out(fields.Integer(metadata={"description": "Deadline still ahead, or the "
                                                            "episode ended before it"}))


class AimCohortSchema(CohortSchema):
    tally = _out(fields.Nested(FiguresSchema))


class OutcomeSchema(Schema):
    code = _out(fields.String())
    label = _out(fields.String())
    count = _out(fields.Integer())
    pct = _out(fields.Float(allow_none=True, metadata={"description": "% of reviews done"}))


class AimEndingReasonSchema(Schema):
    code = _out(fields.String())
    label = _out(fields.String())
    children = _out(fields.Integer(allow_none=True, metadata={"description": "null when "
                                                                             "withheld"}))


class AimEarlyEndingsSchema(Schema):
    reasons = _out(fields.List(fields.Nested(AimEndingReasonSchema), metadata={
        "description": "Why the journeys ended, most first"}))
    total = _out(fields.Integer(allow_none=True))
    left_the_aim = _out(fields.Integer(allow_none=True, metadata={
        "description": "Ended before the deadline without the step (status ended)"}))
    publication = _out(fields.Boolean())
    withheld = _out(fields.List(fields.String(), metadata={
        "description": "The counts withheld to protect small numbers (null above)"}))


class AimResultSchema(AimSchema):
    total = _out(fields.Nested(FiguresSchema))
    cohorts = _out(fields.List(fields.Nested(AimCohortSchema)))
    left_out_reasons = _out(fields.Dict(keys=fields.String(), values=fields.Integer()))
    outcome_mix = _out(fields.List(fields.Nested(OutcomeSchema), metadata={
        "description": "Aim 1: recommendations of the reviews done; empty for Aims 2-3"}))
    early_endings = _out(fields.Nested(AimEarlyEndingsSchema, allow_none=True, metadata={
        "description": "Aims 1-2: children whose journey ended early, by reason; null for "
                       "Aim 3"}))


class AimResultListSchema(Schema):
    items = _out(fields.List(fields.Nested(AimResultSchema)))


class ChildInScopeSchema(ChildRefSchema):
    team = _out(fields.String())


class EntrySchema(Schema):
    child = _out(fields.Nested(ChildInScopeSchema))
    instance_id = _out(fields.Integer())
    cohort = _out(fields.String(metadata={"description": "YYYY-MM of the deadline"}))
    clock_started = _out(fields.Date())
    deadline = _out(fields.Date())
    done_on = _out(fields.Date(allow_none=True))
    status = _out(fields.String(validate=validate.OneOf(tuple(aim_statuses.STATUS_LABELS))))
    detail = _out(fields.String(allow_none=True, metadata={"description": "Route or "
                                                                          "recommendation"}))
    days_past_deadline = _out(fields.Integer())


class LeftOutSchema(Schema):
    child = _out(fields.Nested(ChildInScopeSchema))
    instance_id = _out(fields.Integer())
    reason = _out(fields.String())


class DrillDownSchema(Schema):
    aim = _out(fields.Integer())
    measured_on = _out(fields.Date())
    team = _out(fields.String(allow_none=True))
    items = _out(fields.List(fields.Nested(EntrySchema)))
    left_out = _out(fields.List(fields.Nested(LeftOutSchema)))


# -- run chart ---------------------------------------------------------------------------------
class PointSchema(Schema):
    month = _out(fields.String())
    value = _out(fields.Float())
    numerator = _out(fields.Integer(allow_none=True))
    denominator = _out(fields.Integer(allow_none=True))
    in_baseline = _out(fields.Boolean())
    signals = _out(fields.List(fields.String(), metadata={"description": "Rules this point "
                                                                        "is part of"}))


class SignalSchema(Schema):
    rule = _out(fields.String())
    label = _out(fields.String())
    months = _out(fields.List(fields.String()))
    direction = _out(fields.String(allow_none=True))
    note = _out(fields.String())


class AnnotationSchema(Schema):
    date = _out(fields.Date())
    kind = _out(fields.String(metadata={"description": "pdsa or deployment"}))
    label = _out(fields.String())


class RunsLimitsSchema(Schema):
    lower = _out(fields.Integer())
    upper = _out(fields.Integer())


class RunChartSchema(Schema):
    aim = _out(fields.Integer())
    title = _out(fields.String())
    measured_on = _out(fields.Date())
    team = _out(fields.String(allow_none=True))
    denominator = _out(fields.String())
    median = _out(fields.Float(allow_none=True))
    provisional = _out(fields.Boolean(metadata={"description": "Fewer than 10 baseline points"}))
    target = _out(fields.Float(allow_none=True))
    useful = _out(fields.Integer(metadata={"description": "Points not on the median"}))
    runs = _out(fields.Integer())
    runs_limits = _out(fields.Nested(RunsLimitsSchema, allow_none=True))
    points = _out(fields.List(fields.Nested(PointSchema)))
    signals = _out(fields.List(fields.Nested(SignalSchema)))
    annotations = _out(fields.List(fields.Nested(AnnotationSchema)))
    definitions_version = _out(fields.String())


# -- stage delays ----------------------------------------------------------------------------
class StageSchema(Schema):
    start = _out(fields.String())
    end = _out(fields.String())
    label = _out(fields.String())
    n = _out(fields.Integer())
    median = _out(fields.Float(allow_none=True))
    p90 = _out(fields.Float(allow_none=True))


class VersionStagesSchema(Schema):
    version = _out(fields.Integer())
    stages = _out(fields.List(fields.Nested(StageSchema)))


class StageChangeSchema(Schema):
    before = _out(fields.Nested(StageSchema))
    after = _out(fields.Nested(StageSchema))
    median_change = _out(fields.Float(allow_none=True))
    p90_change = _out(fields.Float(allow_none=True))


class StageComparisonSchema(Schema):
    label = _out(fields.String())
    stages = _out(fields.List(fields.Nested(StageChangeSchema)))


class StageDelaysSchema(Schema):
    process = _out(fields.String())
    measured_on = _out(fields.Date())
    team = _out(fields.String(allow_none=True))
    overall = _out(fields.List(fields.Nested(StageSchema)))
    per_version = _out(fields.List(fields.Nested(VersionStagesSchema)))
    versions = _out(fields.List(fields.Integer(), metadata={"description": "Deployed versions"}))
    comparison = _out(fields.Nested(StageComparisonSchema, allow_none=True))
    left_out_out_of_order = _out(fields.Integer(metadata={
        "description": "Stages left out: the later milestone is dated before the earlier "
                       "(listed by /measures/data-quality)"}))
    definitions_version = _out(fields.String())


# -- survival ----------------------------------------------------------------------------------
class StepSchema(Schema):
    day = _out(fields.Integer())
    at_risk = _out(fields.Integer())
    decided = _out(fields.Integer())
    censored = _out(fields.Integer())
    waiting_pct = _out(fields.Float(metadata={"description": "Kaplan-Meier % still waiting"}))
    lower_pct = _out(fields.Float())
    upper_pct = _out(fields.Float())


class CurveSchema(Schema):
    label = _out(fields.String())
    children = _out(fields.Integer())
    decided = _out(fields.Integer())
    censored = _out(fields.Integer())
    median_days = _out(fields.Float(allow_none=True, metadata={
        "description": "null: fewer than half decided so far"}))
    pct_decided_by_threshold = _out(fields.Float(allow_none=True))
    steps = _out(fields.List(fields.Nested(StepSchema)))


class LogRankSchema(Schema):
    groups = _out(fields.List(fields.String()))
    statistic = _out(fields.Float())
    degrees_of_freedom = _out(fields.Integer())
    p_value = _out(fields.Float())


class SurvivalSchema(Schema):
    clock = _out(fields.String())
    title = _out(fields.String())
    measured_on = _out(fields.Date())
    team = _out(fields.String(allow_none=True))
    threshold_days = _out(fields.Integer(allow_none=True))
    curves = _out(fields.List(fields.Nested(CurveSchema)))
    log_rank = _out(fields.Nested(LogRankSchema, allow_none=True))
    left_out_reasons = _out(fields.Dict(keys=fields.String(), values=fields.Integer()))
    definitions_version = _out(fields.String())


# -- forecast ----------------------------------------------------------------------------------
class TeamForecastSchema(Schema):
    team = _out(fields.String())
    clock = _out(fields.String())
    open = _out(fields.Integer())
    missed = _out(fields.Integer())
    will_miss = _out(fields.Integer())
    on_track = _out(fields.Integer())
    unknown = _out(fields.Integer())


class ForecastSummarySchema(Schema):
    measured_on = _out(fields.Date())
    team = _out(fields.String(allow_none=True))
    pace_window_days = _out(fields.Integer())
    teams = _out(fields.List(fields.Nested(TeamForecastSchema)))
    definitions_version = _out(fields.String())


class ForecastItemSchema(Schema):
    child = _out(fields.Nested(ChildInScopeSchema))
    instance_id = _out(fields.Integer())
    clock = _out(fields.String())
    clock_started = _out(fields.Date())
    deadline = _out(fields.Date())
    last_milestone = _out(fields.String())
    last_milestone_on = _out(fields.Date())
    projected = _out(fields.Date(allow_none=True))
    slack_days = _out(fields.Integer(allow_none=True))
    days_left = _out(fields.Integer())
    status = _out(fields.String(validate=validate.OneOf(tuple(forecast.STATUS_LABELS))))
    note = _out(fields.String())


class ForecastChildrenSchema(Schema):
    measured_on = _out(fields.Date())
    team = _out(fields.String(allow_none=True))
    items = _out(fields.List(fields.Nested(ForecastItemSchema)))


# -- definitions -------------------------------------------------------------------------------
class DefinitionSchema(Schema):
    key = _out(fields.String())
    title = _out(fields.String())
    version = _out(fields.String())
    text = _out(fields.String())


class DefinitionListSchema(Schema):
    items = _out(fields.List(fields.Nested(DefinitionSchema)))


# -- the national programme's aggregate -------------------------------------------------------
class AggregateArgs(Schema):
    on = fields.Date(validate=DATE_RANGE, metadata={"description": "Measurement date (default "
                                                                   "today)"})


class AggregateRowSchema(Schema):
    aim = _out(fields.Integer())
    month = _out(fields.String(metadata={"description": "Cohort month of the deadline, YYYY-MM"}))
    complete = _out(fields.Boolean(metadata={"description": "Every deadline of the month has "
                                                            "passed"}))
    numerator = _out(fields.Integer(allow_none=True))
    denominator = _out(fields.Integer(allow_none=True))
    percentage = _out(fields.Float(allow_none=True, metadata={
        "description": "Rounded to 0.1; null when withheld or when the denominator is 0"}))
    target_pct = _out(fields.Float())
    diagram_version = _out(fields.Integer(allow_none=True, metadata={
        "description": "Version of the aim's diagram in use at the month's end"}))
    pdsa_cycles = _out(fields.List(fields.String(), metadata={
        "description": "PDSA cycles of the aim that began in the month"}))
    withheld = _out(fields.List(fields.String(), metadata={
        "description": "The figures withheld to protect small numbers (null above)"}))


class AggregateSchema(Schema):
    format = _out(fields.String())
    format_version = _out(fields.String())
    council = _out(fields.String())
    measured_on = _out(fields.Date())
    definitions_version = _out(fields.String())
    suppression = _out(fields.String())
    rows = _out(fields.List(fields.Nested(AggregateRowSchema)))
