"""GET /api/v1/measures/data-quality: children whose milestones the measures cannot trust.

Only translates: the scope as every measures endpoint reads it, the report from
``workflows.services.data_quality`` (the Data quality page's own service), which counts for
every measures role and names the children only for those who may open their records.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from workflows.measures.data_quality import KINDS
from workflows.policy import DATA_QUALITY_ROLES
from workflows.services import data_quality
from web.shared.database import db

from . import auth
from .errors import documented
from .measure_schemas import ScopeArgs
from .measures import _scope
from .schemas import ChildRefSchema, _out

bp = Blueprint("measures_quality_api", __name__, url_prefix="/api/v1",
               description="Data quality: the children whose milestones the measures cannot "
                           "trust.")
auth.protect(bp)


class ProblemSchema(Schema):
    child = _out(fields.Nested(ChildRefSchema))
    team = _out(fields.String())
    instance_id = _out(fields.Integer())
    process = _out(fields.String())
    kind = _out(fields.String(metadata={"description": "out_of_order, future or missing"}))
    milestone = _out(fields.String(metadata={"description": "The milestone's code"}))
    on = _out(fields.Date(allow_none=True, metadata={"description": "Its date; null when "
                                                                     "missing"}))
    compared_with = _out(fields.String(allow_none=True))
    compared_with_on = _out(fields.Date(allow_none=True))
    explanation = _out(fields.String())


class DataQualitySchema(Schema):
    measured_on = _out(fields.Date())
    team = _out(fields.String(allow_none=True))
    counts = _out(fields.Dict(keys=fields.String(), values=fields.Integer(),
                              metadata={"description": "Problems of each kind"}))
    children = _out(fields.Integer(metadata={"description": "Children with a problem"}))
    problems = _out(fields.List(fields.Nested(ProblemSchema), allow_none=True,
                                metadata={"description": "null for the roles that do not "
                                                         "open children's records"}))


@bp.get("/measures/data-quality")
@documented(bp, 403, 422)
@auth.roles(DATA_QUALITY_ROLES)
@bp.arguments(ScopeArgs, location="query")
@bp.response(200, DataQualitySchema)
def data_quality_report(args):
    """Children whose milestones are out of order, dated in the future, or missing although
    a later one is recorded: the records the measures leave out."""
    with db().transaction(read_only=True) as session:
        team, teams, on = _scope(session, args)
        found = data_quality.report(session, auth.principal(), teams, on)
    problems = None if found.problems is None else [
        {"child": {"id": p.child.id, "reference": p.child.reference, "name": p.child.name},
         "team": p.child.team, "instance_id": p.instance_id, "process": p.process_id,
         "kind": p.kind, "milestone": p.code, "on": p.on, "compared_with": p.other_code,
         "compared_with_on": p.other_on, "explanation": p.explanation}
        for p in found.problems]
    return {"measured_on": on, "team": team, "children": found.children,
            "counts": {kind: found.counts[kind] for kind in KINDS}, "problems": problems}
