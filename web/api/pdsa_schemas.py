"""Marshmallow schemas of what the improvement work changes in the API: the
aims' settings (read by the measures roles, changed by process owners and admins) and the PDSA
cycles. The conventions of schemas.py and measure_schemas.py: every response field is
documented as present (``_out``), empty values say so, text inputs refuse NUL.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from workflows.measures.aims import AIMS
from workflows.measures.tables import PDSA_ACTS

from .measure_schemas import DATE_RANGE
from .schemas import Text, UtcDateTime, _out



# -- aim settings (read by the measures roles, changed by process owners and admins) -----------
class AimSettingsSchema(Schema):
    aim = _out(fields.Integer())
    title = _out(fields.String())
    council = _out(fields.String(metadata={"description": "PACE_COUNCIL of this deployment"}))
    wording = _out(fields.String())
    target_pct = _out(fields.Float())
    threshold = _out(fields.String(metadata={"description": "e.g. 30w, 18m, 7.5m"}))
    threshold_description = _out(fields.String())
    max_age = _out(fields.Integer(allow_none=True, metadata={
        "description": "Only children under this age when the clock starts"}))
    min_age = _out(fields.Integer(allow_none=True, metadata={
        "description": "Only children of at least this age when the clock starts"}))
    teams = _out(fields.List(fields.String(), metadata={"description": "Only these teams' "
                                                                        "children; [] every team"}))
    population = _out(fields.String(metadata={"description": "The population in words"}))
    start_date = _out(fields.Date(allow_none=True))
    end_date = _out(fields.Date(allow_none=True))


class AimSettingsChangeSchema(Schema):
    """The settings to change; those not sent keep their values, null clears an optional one.
    The ranges are checked by the service, with the settings page's messages."""
    wording = Text(metadata={"description": "The aim in words (up to 2,000 characters)"})
    target_pct = fields.Float(metadata={"description": "Above 0, at most 100"})
    threshold = Text(metadata={"description": "A number and a unit (d, w, m, y), e.g. 30w, "
                                              "18m, 7.5m or 7m15d; at most 10 years"})
    max_age = fields.Integer(allow_none=True, metadata={"description": "0 to 25 years"})
    min_age = fields.Integer(allow_none=True, metadata={"description": "0 to 25 years, below "
                                                                      "max_age"})
    teams = fields.List(Text(), allow_none=True, metadata={"description": "Team codes"})
    start_date = fields.Date(allow_none=True, validate=DATE_RANGE)
    end_date = fields.Date(allow_none=True, validate=DATE_RANGE)


# -- PDSA cycles -----------------------------------------------------------------------------------
class PdsaArgs(Schema):
    aim = fields.Integer(validate=validate.OneOf(AIMS), metadata={"description": "Only this "
                                                                                "aim's cycles"})


class PdsaCycleSchema(Schema):
    id = _out(fields.Integer())
    aim = _out(fields.Integer())
    change_idea = _out(fields.String())
    cycle_number = _out(fields.Integer())
    plan = _out(fields.String())
    prediction = _out(fields.String())
    start_date = _out(fields.Date())
    end_date = _out(fields.Date(allow_none=True))
    what_happened = _out(fields.String())
    study = _out(fields.String())
    act = _out(fields.String(allow_none=True, validate=validate.OneOf(tuple(PDSA_ACTS))))
    process_id = _out(fields.String(allow_none=True, metadata={
        "description": "The diagram the aim is measured on, when a version is named"}))
    model_version = _out(fields.Integer(allow_none=True))
    created_by = _out(fields.String())
    created_at = _out(UtcDateTime())
    updated_at = _out(UtcDateTime())


class PdsaCycleListSchema(Schema):
    items = _out(fields.List(fields.Nested(PdsaCycleSchema)))


class PdsaCycleChangeSchema(Schema):
    """A cycle's fields; on PUT only those sent change. Checked by the service, with the
    PDSA page's messages."""
    aim = fields.Integer(metadata={"description": "1, 2 or 3"})
    change_idea = Text(metadata={"description": "One line, up to 300 characters"})
    cycle_number = fields.Integer(metadata={"description": "1 to 999 (default 1)"})
    plan = Text()
    prediction = Text()
    start_date = fields.Date(validate=DATE_RANGE)
    end_date = fields.Date(allow_none=True, validate=DATE_RANGE,
                           metadata={"description": "On or after start_date"})
    what_happened = Text()
    study = Text()
    act = fields.String(allow_none=True, metadata={"description": "adopt, adapt or abandon; "
                                                                  "null: not decided yet"})
    model_version = fields.Integer(allow_none=True, metadata={
        "description": "A deployed version of the diagram the aim is measured on"})


class NewPdsaCycleSchema(PdsaCycleChangeSchema):
    aim = fields.Integer(required=True, metadata={"description": "1, 2 or 3"})
    change_idea = Text(required=True, metadata={"description": "One line, up to 300 "
                                                               "characters"})
    start_date = fields.Date(required=True, validate=DATE_RANGE)
