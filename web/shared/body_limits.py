"""One limit on every request body, counted while the body streams in.

Flask's ``MAX_CONTENT_LENGTH`` (``MAX_BODY`` here, 1 MiB: no form or API call comes near
it) is enforced by Werkzeug: a declared ``Content-Length`` over it is refused before a byte
is read, and a body sent without one (``Transfer-Encoding: chunked``) is counted as it is
read, so a worker never holds more than the limit of it; ``_AtMost`` makes sure such a body
is refused once it passes the limit rather than read cut short. (Before, the API checked
``Content-Length`` only, and a chunked 300 MB body was read whole: issue 30.) The answer is
413: the GOV.UK error page, or the API's JSON error.

The uploads that need more say so on their view with ``allow_body`` (the caseload import,
10 MB; a process model, 5 MB): the limit is raised for that route before anything reads
the body (CSRF protection reads the form first). Each keeps its own page saying how large a
file may be. A buffering proxy in front (deploy/nginx.conf) refuses larger bodies still
earlier and keeps slow senders away from the workers: docs/operations.md.
"""
from __future__ import annotations

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

MAX_BODY = 1024 * 1024        # bytes, every route unless its view allows more
FORM_SLACK = 64 * 1024        # a multipart upload's framing and other fields around its file
TITLE = "What you sent is too large"
TEXT = ("It is larger than this page accepts, so nothing was saved. If you were sending a "
        "file, make it smaller or split it into several; otherwise go back and try again.")


def allow_body(limit: int):
    """Decorator (outermost, just under the route): this view's requests may carry up to
    ``limit`` bytes of file plus ``FORM_SLACK``."""
    def decorator(view):
        view.body_limit = limit + FORM_SLACK
        return view
    return decorator


def allow_setting_body(file_limit):
    """As ``allow_body``, for a limit the deployment's settings give: ``file_limit()`` is
    asked at each request (the attachments' ``PACE_ATTACHMENT_MAX_MB``)."""
    def decorator(view):
        view.body_limit = lambda: file_limit() + FORM_SLACK
        return view
    return decorator


def limit_for(endpoint: str | None) -> int:
    """The body limit of a route (``MAX_CONTENT_LENGTH`` unless its view allows more)."""
    view = current_app.view_functions.get(endpoint or "")
    limit = getattr(view, "body_limit", None)
    if callable(limit):  # a limit the deployment sets (allow_setting_body)
        limit = limit()
    return limit or current_app.config["MAX_CONTENT_LENGTH"]


def page(text: str | None = None):
    """The GOV.UK error page for a 413 (web/pages/ui.py answers every page's 413 with it; an
    upload's blueprint answers its own route with the upload form and how large a file may be)."""
    return render_template("errors/error.html", status=413, title=TITLE, text=text or TEXT), 413


class _AtMost:
    """A chunked body's stream that refuses to go past ``limit`` bytes.

    Werkzeug counts a chunked body against ``max_content_length`` but, reading it whole
    (``get_data``, a urlencoded form), stops at the limit without a word: the JSON or form
    behind it would be read cut short (a draft saved truncated). So at the limit this
    stream looks one byte further, and a body that goes on is a 413."""

    def __init__(self, stream, limit: int):
        self._stream, self._left = stream, limit

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._left + 1
        data = self._stream.read(min(size, self._left + 1))
        self._left -= len(data)
        if self._left < 0 or (self._left == 0 and data and self._stream.read(1)):
            raise RequestEntityTooLarge()
        return data


def _per_route() -> None:
    if request.endpoint:
        limit = request.max_content_length = limit_for(request.endpoint)
        if request.content_length is None and request.environ.get("wsgi.input_terminated"):
            request.environ["wsgi.input"] = _AtMost(request.environ["wsgi.input"], limit)


def init_app(app: Flask) -> None:
    """Before the CSRF check is registered: its before_request reads the body."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # a deployment may set less, never none
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.before_request(_per_route)
