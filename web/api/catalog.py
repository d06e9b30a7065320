"""Process-model versions, read-only (the PACE measures are in measures.py)."""
from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import func, select

from engine.models import ProcessInstance, ProcessModel
from web.shared.database import db

from . import auth
from .errors import documented
from .schemas import ModelArgs, ProcessModelListSchema

bp = Blueprint("catalog", __name__, url_prefix="/api/v1",
               description="Deployed process-model versions.")
auth.protect(bp)


@bp.get("/process-models")
@documented(bp)
@bp.arguments(ModelArgs, location="query")
@bp.response(200, ProcessModelListSchema)
def list_models(args):
    """Deployed process-model versions.

    Every version of every process (newest first) with how many running instances each
    has. Versions are immutable; new children start on the latest."""
    auth.principal()  # any signed-in role: versions carry no child's data
    with db().transaction() as session:
        query = select(ProcessModel).order_by(ProcessModel.process_id, ProcessModel.version.desc())
        if args.get("process_id"):
            query = query.where(ProcessModel.process_id == args["process_id"])
        rows = session.scalars(query).all()
        running = dict(session.execute(select(ProcessInstance.model_id, func.count()).where(
            ProcessInstance.status == "running").group_by(ProcessInstance.model_id)).all())
    newest: dict[str, int] = {}
    for row in rows:
        newest[row.process_id] = max(newest.get(row.process_id, 0), row.version)
    return {"items": [{"id": m.id, "process_id": m.process_id, "version": m.version,
                       "name": m.name, "content_hash": m.content_hash,
                       "deployed_by": m.deployed_by, "deployed_at": m.deployed_at,
                       "reason": m.reason or "", "pdsa_cycle_id": m.pdsa_cycle_id,
                       "latest": m.version == newest[m.process_id],
                       "running_instances": running.get(m.id, 0)} for m in rows]}
