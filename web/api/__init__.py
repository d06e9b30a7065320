"""The JSON API, /api/v1: flask-smorest blueprints over the same services as the UI.

``init_app`` builds one ``Api`` per app (nothing at import time), registers the resource
blueprints, exempts them from CSRF (tokens, not cookies, authorise writes: see auth.py),
and serves the OpenAPI document at /api/v1/openapi.json and a docs page at /api/v1/docs
built from it on the server (flask-smorest's Swagger UI and ReDoc pages load scripts from
a CDN, which the app's Content-Security-Policy forbids).
"""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from web.api import (case_file, catalog, docs, documents, errors, journey_endings, me, measures,
                     measures_quality, pdsa, people, records, settings, work)
from .schemas import ErrorSchema

RESOURCES = (me.bp, work.bp, records.bp, catalog.bp, measures.bp, measures_quality.bp, pdsa.bp,
             people.bp, settings.bp, case_file.bp, journey_endings.bp, documents.bp)
DESCRIPTION = """\
The PACE Flow JSON API mirrors what the worker UI can do, with the same role and team
scoping: work queues, claiming and completing tasks, children, process instances and their
history, process-model versions, the PACE measures with the aims' settings, and PDSA cycles.

Authenticate with a personal API token: `Authorization: Bearer pace_…`. Create one with
`pace token create USERNAME --name …`, on the *API tokens* page (/account/api-tokens),
or with `POST /api/v1/tokens`.
A signed-in browser session may read (GET) but every change needs a token.

Errors are always `{code, status, message, errors}`; `errors` maps a field's path in the
request to its messages. 401: no valid token. 403: your roles do not allow it. 404: no such
record *or* outside your team's records (the same body either way). 409: the record changed
or is held by someone else; reload it. 422: invalid data.
"""


class PaceApi(Api):
    """flask-smorest's Api, minus its app-wide error handler: the UI keeps its HTML error
    pages, and the API's JSON errors are registered for /api/v1 only (errors.register)."""
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


def init_app(app: Flask) -> Api:
    for key, value in {
        "API_TITLE": "PACE Flow API", "API_VERSION": "1", "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": errors.API_PREFIX, "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {"description": DESCRIPTION},
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A personal API token (pace_…)"}}},
        },
    }.items():
        app.config.setdefault(key, value)
    api = PaceApi(app)
    csrf = app.extensions["csrf"]  # the pages' CSRFProtect (ui.init_app ran first)
    for blueprint in RESOURCES:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    errors.register(app)
    docs.init_app(app, api)
    app.extensions["pace_api"] = api
    return api
