"""One JSON error body for every failure under /api/v1: ``{code, status, message, errors}``.

``code`` is the HTTP status, ``status`` its name, ``message`` says what to do, ``errors``
maps a field's path in the request (``data.referral_date``, ``page``) to its messages; it is
``{}`` when no field is to blame. Every 404 has the same body, so a record outside the
caller's scope cannot be told apart from one that does not exist.
"""
from __future__ import annotations

from contextlib import contextmanager
from http import HTTPStatus

import marshmallow as ma
from flask import Flask, current_app, request
from flask_smorest import abort
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from engine.errors import Conflict, EngineError, FieldError, Forbidden, InvalidData

from web.shared.body_limits import MAX_BODY

from .schemas import ErrorSchema

API_PREFIX = "/api/v1"
NOT_FOUND = "There is no such record, or it is outside the records you can see."
MESSAGES = {
    400: "The request could not be understood; check its JSON body and parameters.",
    401: "Send a valid API token as 'Authorization: Bearer <token>'.",
    403: "Your roles do not allow this.",
    404: NOT_FOUND,
    405: "This method is not available on this path.",
    409: "The record changed since you read it; reload it and try again.",
    413: f"The request body is too large: the limit is {MAX_BODY:,} bytes (1 MiB).",
    415: "Send the body as application/json.",
    422: "The data is not valid; see the errors for each field.",
    500: "Something went wrong in the service; nothing was saved.",
    503: "The service is busy; try again in a moment.",
}


def fail(status: int, message: str | None = None, errors: dict | None = None,
         headers: dict | None = None):
    """Stop the request with an API error (raises)."""
    kwargs = {"message": message or MESSAGES.get(status, HTTPStatus(status).phrase)}
    if errors:
        kwargs["errors"] = errors
    if headers:
        kwargs["headers"] = headers
    abort(status, **kwargs)


def documented(blueprint, *codes: int):
    """Document the error responses an operation can give (the body is always ErrorSchema)."""
    def decorator(view):
        for code in sorted(set(codes) | {401}, reverse=True):
            view = blueprint.alt_response(code, response=HTTPStatus(code).name)(view)
        return view
    return decorator


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow messages ({"json": {"data": {"x": ["..."]}}}) as {"data.x": [...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = "body" if key == "_schema" else str(key)
            path = f"{prefix}.{name}" if prefix else name
            for inner, messages in _flatten(value, path).items():
                flat.setdefault(inner, []).extend(messages)
    elif isinstance(errors, (list, tuple)):
        for value in errors:
            for inner, messages in _flatten(value, prefix).items():
                flat.setdefault(inner, []).extend(messages)
    else:
        flat.setdefault(prefix or "body", []).append(str(errors))
    return flat


def _webargs_errors(messages) -> dict[str, list[str]]:
    # The first level of webargs messages is the location (json, query...): drop it.
    if isinstance(messages, dict) and set(messages) <= {"json", "query", "querystring", "form",
                                                        "headers", "cookies", "files", "view_args"}:
        merged: dict[str, list[str]] = {}
        for value in messages.values():
            for key, found in _flatten(value).items():
                merged.setdefault(key, []).extend(found)
        return merged
    return _flatten(messages)


def response(status: int, message: str, errors: dict | None = None, headers: dict | None = None):
    if status == 404:
        message, errors = NOT_FOUND, {}  # identical for missing and out of scope
    body = ErrorSchema().dump({"code": status, "status": HTTPStatus(status).phrase
                               if status in HTTPStatus._value2member_map_ else "Error",
                               "message": message, "errors": errors or {}})
    result = current_app.json.response(body)
    result.status_code = status
    for key, value in (headers or {}).items():
        result.headers[key] = value
    return result


def http_error(exc: HTTPException):
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    message = data.get("message") or MESSAGES.get(status) or exc.description or "Error"
    errors = data.get("errors")
    errors = _flatten(errors) if errors else _webargs_errors(data.get("messages") or {})
    headers = dict(data.get("headers") or {})
    if status == 405:
        headers.update({k: v for k, v in exc.get_headers() if k == "Allow"})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="PACE Flow API"')
    return response(status, message, errors, headers)


def with_reload(message: str) -> str:
    return message if "reload" in message.lower() else \
        f"{message.rstrip('.')}. Reload the record to see its current state."


def engine_error(exc: EngineError):
    if isinstance(exc, InvalidData):
        errors: dict[str, list[str]] = {}
        for problem in exc.errors:
            errors.setdefault(problem.field or "body", []).append(problem.message)
        return response(422, MESSAGES[422], errors)
    if isinstance(exc, Conflict):
        return response(409, with_reload(str(exc)))
    if isinstance(exc, Forbidden):
        return response(403, str(exc) or MESSAGES[403])
    return response(exc.status, str(exc) or MESSAGES.get(exc.status, "Error"))


@contextmanager
def answers_under(key: str):
    """Name a service's field errors as the request body does: a task's answers are sent
    under ``data``, so the form's field ``x`` is ``data.x`` to the client."""
    try:
        yield
    except InvalidData as exc:
        raise InvalidData([FieldError(".".join(filter(None, [key, e.field])), e.message)
                           for e in exc.errors]) from None


def busy(_exc):
    return response(503, MESSAGES[503], headers={"Retry-After": "5"})


def validation_error(exc: ma.ValidationError):
    return response(422, MESSAGES[422], _flatten(exc.messages))


def attach(blueprint) -> None:
    """Called once per API blueprint, where it is defined: JSON errors for its views."""
    blueprint.register_error_handler(HTTPException, http_error)
    blueprint.register_error_handler(EngineError, engine_error)
    blueprint.register_error_handler(OperationalError, busy)
    blueprint.register_error_handler(ma.ValidationError, validation_error)


def register(app: Flask) -> None:
    """JSON errors for the API, HTML error pages (web/pages/ui.py) for everything else.

    Errors raised in an API view are caught by its blueprint's handlers (``attach``).
    Routing errors (an unknown path or method under /api/v1) happen before any blueprint is
    chosen, so the app-wide HTTPException handler is wrapped: API paths get JSON, other
    paths keep the page the UI registered."""
    previous = app.error_handler_spec[None][None].get(HTTPException)

    def any_http_error(exc: HTTPException):
        if is_api_request():
            return http_error(exc)
        return previous(exc) if previous is not None else exc
    app.register_error_handler(HTTPException, any_http_error)
