"""``/api/v1/settings``: every setting of this deployment with where it came from, and the
settings kept in the database changed by name (administrators, process owners), through
the service of ``pace settings`` (``workflows.services.settings``); this module only
translates JSON in and out.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import INCLUDE, Schema, fields

from web.shared import deployment
from web.shared.database import council, db
from workflows.policy import SETTINGS_ROLES
from workflows.services import settings as settings_service

from . import auth
from .errors import documented

bp = Blueprint("settings_api", __name__, url_prefix="/api/v1",
               description="This deployment's settings and where each came from; the aims' "
                           "settings, kept in the database, changed by name.")
auth.protect(bp)


class SettingSchema(Schema):
    key = fields.String(metadata={"description": "As in the settings file (`smtp.port`), or "
                                                 "`aims.<aim>.<setting>` for the database's"})
    variable = fields.String(allow_none=True, metadata={
        "description": "The environment variable it stands for; null for the database's"})
    value = fields.String(metadata={"description": "Secrets are always `********`"})
    source = fields.String(metadata={"description": "default, file, environment or database"})
    meaning = fields.String()


class SettingListSchema(Schema):
    settings = fields.List(fields.Nested(SettingSchema))


class SettingsChangeSchema(Schema):
    """`{"aims.2.target_pct": 80, "aims.2.threshold": "18m"}`: the keys of the settings kept
    in the database and their new values (`null` or "" clears an optional one)."""
    class Meta:
        unknown = INCLUDE  # the keys are checked by the service, naming each one refused


def _rows(rows) -> dict:
    return {"settings": [{"key": r.key, "variable": r.variable, "value": r.value,
                          "source": r.source, "meaning": r.meaning} for r in rows]}


@bp.get("/settings")
@documented(bp, 403)
@auth.roles(SETTINGS_ROLES)
@bp.response(200, SettingListSchema)
def show_settings():
    """Every setting (administrators, process owners): its value (secrets as `********`) and
    where it came from: `default`, `file` (PACE_CONFIG's), `environment` or `database`."""
    with db().transaction(read_only=True) as session:
        rows = settings_service.overview(session, auth.principal(), council(),
                                         deployment.report())
    return _rows(rows)


@bp.patch("/settings")
@documented(bp, 403, 422)
@auth.roles(SETTINGS_ROLES)
@bp.arguments(SettingsChangeSchema)
@bp.response(200, SettingListSchema)
def change_settings(body):
    """Change settings kept in the database, by key (`aims.<aim>.<setting>`). All or
    nothing: a key refused is 422 naming it, and nothing is saved. Each aim changed is
    audited (`aim_settings_changed`, with the old and new values). The configuration's
    settings are refused here: they are changed in the settings file or the environment."""
    with db().transaction() as session:
        rows = settings_service.change(session, auth.principal(), council(), body)
    return _rows(rows)
