"""One request body limit for the whole app, which a chunked body cannot get round (issue 30).

The app is served by a real WSGI server (Werkzeug's, in a thread of this process) and the
bodies are sent as a client would: ``Transfer-Encoding: chunked``, no ``Content-Length``,
through ``http.client``. A 5 MB chunked body to the API and to a page is refused with 413
(the API's JSON error, the GOV.UK page) and the serving process's peak resident memory
(``VmHWM`` in /proc/self/status, reset before each send) grows by a few MB at most. The same
probe against an app whose limit is set far higher shows the measurement would see the body
being read whole. The upload routes keep their larger limits.
"""
from __future__ import annotations

import http.client
import io
import json
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import make_database
from web.shared.body_limits import MAX_BODY

from .api_client import api, assert_error, token_for
from .conftest import cached_client, post
from .journeys import build_world, make_app

MB = 1024 * 1024
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def world(request, tmp_path_factory):
    database = make_database("sqlite", tmp_path_factory.mktemp("body-limits"), request)
    world = build_world(database, make_app(database))
    world.clients = {}
    return world


class Served:
    """An app on a real Werkzeug server in a thread: port, stop(). The first request starts
    loading the survival library in the background (web/pages/measures.py): waited for here, so
    it is not measured."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", "/sign-in")
        connection.getresponse().read()
        for thread in threading.enumerate():
            if thread.name == "preload-lifelines":
                thread.join(60)

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


def _memory(field: str) -> int:
    """kB, from /proc/self/status (the server runs in this process)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def send_chunked(port: int, method: str, path: str, size: int, headers: dict):
    """Send ``size`` bytes of a JSON string as a chunked body; returns (status, body, peak
    growth in MB of this process's resident memory while it was served)."""
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = _memory("VmRSS")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def body():
        yield b'{"data": {"notes": "'
        for _ in range(size // CHUNK):
            yield b"x" * CHUNK
        yield b'"}}'
    try:
        connection.request(method, path, body=body(), encode_chunked=True, headers={
            "Transfer-Encoding": "chunked", "Content-Type": "application/json", **headers})
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed before the whole body was sent
    response = connection.getresponse()
    answer = response.status, response.read()
    connection.close()
    return (*answer, (_memory("VmHWM") - before) / 1024)


@pytest.fixture(scope="module")
def served(world):
    server = Served(world.app)
    yield server
    server.stop()


def refused(port: int, method: str, path: str, headers: dict):
    """The 5 MB send, after one just over the limit (so the first answer's one-off costs,
    templates compiled and modules loaded, are not counted against it)."""
    send_chunked(port, method, path, MAX_BODY + 2 * CHUNK, headers)
    return send_chunked(port, method, path, 5 * MB, headers)


def test_a_chunked_5_mb_body_to_the_api_is_refused_without_reading_it(world, served):
    token = token_for(world, "sw.north")
    status, body, grew = refused(served.port, "PUT",
                                 f"/api/v1/work-items/{world.tasks['north']}/draft",
                                 {"Authorization": f"Bearer {token}"})
    print(f"chunked 5 MB draft to the API: {status}, peak RSS +{grew:.1f} MB")
    assert status == 413 and json.loads(body)["code"] == 413
    assert "1,048,576 bytes" in json.loads(body)["message"]
    assert grew < 4, f"the server's memory grew by {grew:.1f} MB"


def test_a_chunked_5_mb_body_to_a_page_is_refused_with_the_page(world, served):
    status, body, grew = refused(served.port, "POST", "/sign-in",
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    print(f"chunked 5 MB form to a page: {status}, peak RSS +{grew:.1f} MB")
    assert status == 413 and b"What you sent is too large" in body and b"govuk-" in body
    assert grew < 4, f"the server's memory grew by {grew:.1f} MB"


def test_the_measurement_sees_a_body_read_whole(world):
    """Control: with the limit at 64 MB, the same chunked body is read (and answered 401,
    no token), and the peak memory shows it."""
    loose = make_app(world.database, MAX_CONTENT_LENGTH=64 * MB)
    server = Served(loose)
    try:
        token = token_for(world, "sw.north")
        status, _, grew = send_chunked(server.port, "PUT",
                                       f"/api/v1/work-items/{world.tasks['north']}/draft",
                                       20 * MB, {"Authorization": f"Bearer {token}"})
    finally:
        server.stop()
    print(f"chunked 20 MB draft with a 64 MB limit: {status}, peak RSS +{grew:.1f} MB")
    assert status != 413 and grew > 15


def test_a_5_mb_draft_is_refused_with_413(world):
    client = api(world, "sw.north")
    item = world.tasks["north"]
    too_big = client.put(f"/api/v1/work-items/{item}/draft",
                         json={"data": {"questions": "x" * (5 * MB)}})
    assert_error(too_big, 413)
    assert client.put(f"/api/v1/work-items/{item}/draft",
                      json={"data": {"questions": "x" * (MAX_BODY + 1)}}).status_code == 413


def test_uploads_keep_their_larger_limits(world):
    """Between the app's limit and an upload's own, the upload route reads the file (and
    says what is wrong with it); past its own limit it says how large a file may be."""
    admin = cached_client(world, "admin")
    padded = b"reference,name,team,legal_status\r\nP1," + b"x" * (3 * MB) + b",north,x\r\n"
    checked = post(admin, "/import", {"caseload": (io.BytesIO(padded), "big.csv")},
                   content_type="multipart/form-data")
    assert checked.status_code == 400 and "a cell is longer than 131,072 characters" in \
        checked.get_data(as_text=True)  # read, and said what is wrong (it was a 500)
    owner = cached_client(world, "owner")
    diagram = post(owner, "/models/upload", {"files": (io.BytesIO(b"<x>" + b" " * (3 * MB)
                                                                  + b"</x>"), "big.bpmn")},
                   content_type="multipart/form-data")
    assert diagram.status_code == 400 and "There is a problem" in diagram.get_data(as_text=True)
    huge = post(owner, "/models/upload", {"files": (io.BytesIO(b" " * (6 * MB)), "big.bpmn")},
                content_type="multipart/form-data")
    assert huge.status_code == 413 and "the limit is 5 MB" in huge.get_data(as_text=True)
    form = post(cached_client(world, "sw.north"), f"/tasks/{world.tasks['north']}",
                {"action": "draft", "questions": "x" * (2 * MB)})
    assert form.status_code == 413 and "What you sent is too large" in form.get_data(as_text=True)
