"""A form may not make the server fetch anything: a ``$ref`` that names a URL is refused
when the diagram is checked, and a form deployed before that check existed is refused
when the task is completed, without a single request leaving the server."""
from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from engine import clock, form_schemas, registry, sweeper
from engine.form_schemas import FormCannotBeChecked
from engine.models import ProcessModel, WorkItem
from engine.registry import InvalidModel, ModelBundle, parse_bundle
from workflows import accounts
from workflows.engine_config import pace_config

from .diagrams import linear
from .diagrams import TIMER_FORM, timer_diagram

CTX = pace_config().validation_context()


@pytest.fixture
def listener():
    """A real HTTP server that records every request made to it (there must be none)."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            requests.append(self.path)
            body = b'{"type": "string"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/schema+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def remote_form(url: str, key: str = "$ref") -> str:
    return json.dumps({"type": "object", "required": ["date_held"], "properties": {
        "date_held": {"type": "string", "format": "date"}, "note": {key: f"{url}/note.json"}}})


@pytest.mark.parametrize("key", ["$ref", "$dynamicRef"])
def test_the_check_refuses_a_form_that_names_a_url(listener, key):
    url, requests = listener
    bundle = ModelBundle("mini", linear(), {"task.schema.json": remote_form(url, key)})
    with pytest.raises(InvalidModel) as err:
        parse_bundle(bundle, CTX)
    [problem] = [str(p) for p in err.value.problems]
    assert "task.schema.json" in problem and f"{url}/note.json" in problem
    assert "outside the form" in problem and "#/$defs/" in problem
    assert requests == []


def test_references_inside_the_form_still_work():
    schema = {"type": "object", "$defs": {"day": {"type": "string", "format": "date"}},
              "properties": {"held": {"$ref": "#/$defs/day"}}}
    assert form_schemas.outside_references(schema) == []
    bundle = ModelBundle("mini", linear(), {"task.schema.json": json.dumps(schema)})
    parse_bundle(bundle, CTX)  # no problem raised
    assert [e.message for e in form_schemas.problems(schema, {"held": "2026-02-30"})] == [
        "'2026-02-30' is not a 'date'"]
    assert form_schemas.problems(schema, {"held": "2026-02-28"}) == []


def test_a_form_deployed_before_the_check_is_refused_without_a_request(empty_database, listener, start_child):
    url, requests = listener
    db = empty_database
    with db.transaction() as session:
        registry.deploy(session, ModelBundle("mini", timer_diagram(), {"task.schema.json": TIMER_FORM}),
                        CTX, "test")
        # As an older version could store it: the form now names a URL.
        session.execute(update(ProcessModel).values(forms={"task.schema.json": remote_form(url)},
                                                    content_hash=f"older version {url}"))
        accounts.ensure_team(session, "north")
        accounts.create_user(session, "sw", "Sam", "long-password-1", ["social_worker"], "north")
    start_child(db)
    clock.set_now(date(2026, 1, 20))
    sweeper.sweep(db.factory, db.runtime)
    with db.transaction() as session:
        item_id = session.scalars(select(WorkItem.id)).one()
        sw = accounts.find_user(session, "sw")
    with pytest.raises(FormCannotBeChecked) as err, db.transaction() as session:
        db.runtime.complete(session, item_id, {"date_held": "2026-01-22", "note": "x"}, sw)
    assert err.value.status == 409 and f"{url}/note.json" in str(err.value)
    assert "process owner" in str(err.value)
    assert requests == []
    with db.transaction() as session:
        assert session.get(WorkItem, item_id).status == "ready"
