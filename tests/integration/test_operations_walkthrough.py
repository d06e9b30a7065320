"""docs/operations.md, "Installing", followed on an empty PostgreSQL database (issue 25).

The settings file and every ``pace`` command are read from the page's blocks marked
``<!-- walkthrough: … -->`` and run as written, with the real ``pace`` and gunicorn, so the
page cannot drift from what works. Only what is this machine's rather than the council's
comes from the environment, which wins over the file (as the page says): the database, the
secret key and the mail server. The systemd units' stand-ins are gunicorn started with
``deploy/gunicorn.conf.py`` and one ``pace worker --once``; the test talks to gunicorn as
nginx would (``X-Forwarded-Proto: https``), and signs in as the team leader and the social
worker.
"""
from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from tests.conftest import PG_URL

from .smtp_inbox import free_port

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "operations.md"
BIN = Path(sys.executable).parent
PASSWORD = "first-password-2027"
BLOCK = re.compile(r"<!-- walkthrough: (?P<kind>[a-z ]+) -->\n```(?P<lang>\w+)\n(?P<body>.*?)```",
                   re.S)


def walkthrough() -> tuple[str, list[list[str]]]:
    """(the settings file, the ``pace`` commands as argument lists), in the page's order."""
    settings, commands = None, []
    for block in BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        if block["kind"] == "settings file":
            assert block["lang"] == "toml" and settings is None
            settings = block["body"]
            continue
        assert block["kind"] == "pace" and block["lang"] == "sh", block["kind"]
        for line in block["body"].replace("\\\n", " ").splitlines():
            if line.strip():
                argv = shlex.split(line, comments=True)
                assert argv[0] == ".venv/bin/pace", f"not a pace command: {line}"
                commands.append(argv[1:])
    assert settings and commands, "docs/operations.md lost its walkthrough blocks"
    return settings, commands


def test_the_walkthrough_reads_as_pace_commands_only():
    settings, commands = walkthrough()
    assert 'council = "midlothian"' in settings
    assert [c[:2] for c in commands] == [
        ["init-db"], ["user", "create"], ["team", "create"], ["user", "create"],
        ["user", "create"], ["settings", "show"], ["doctor"], ["children", "add"]]


@pytest.fixture
def empty_postgres(pg_ready):
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    name = f"pace_walkthrough_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def machine(tmp_path, empty_postgres):
    """The environment of this machine: the settings file from the page, and what differs."""
    settings, _ = walkthrough()
    path = tmp_path / "pace.toml"
    path.write_text(settings, encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith("PACE_")}
    return {**base, "PACE_CONFIG": str(path), "PACE_DATABASE_URL": empty_postgres,
            "PACE_SECRET_KEY": secrets.token_hex(32)}


def pace(env: dict, args: list[str]) -> subprocess.CompletedProcess:
    """The real ``pace``, without a terminal: a password it asks for is read from stdin."""
    return subprocess.run([str(BIN / "pace"), *args], cwd=ROOT, env=env, text=True,
                          input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, timeout=300,
                          start_new_session=True)


class Browser:
    """A requests session talking to gunicorn as nginx passes requests on: HTTPS was the
    browser's, so the app marks its cookie Secure, which this plain-HTTP hop then sends."""

    def __init__(self, base: str):
        self.base, self.http = base, requests.Session()
        self.http.headers.update({"X-Forwarded-Proto": "https",
                                  "X-Forwarded-For": "203.0.113.9"})

    def _unsecure(self) -> None:
        for cookie in self.http.cookies:
            cookie.secure = False

    def get(self, path: str) -> requests.Response:
        response = self.http.get(self.base + path, timeout=30)
        self._unsecure()
        return response

    def sign_in(self, username: str) -> None:
        page = self.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
        response = self.http.post(
            self.base + "/sign-in", timeout=30, allow_redirects=False,
            headers={"Referer": "https://" + self.base.split("://", 1)[1] + "/sign-in"},
            data={"csrf_token": token, "username": username, "password": PASSWORD})
        assert response.status_code == 302, (username, response.status_code, response.text[:500])
        assert "Secure" in response.headers["Set-Cookie"]
        self._unsecure()


@pytest.fixture
def gunicorn(machine):
    """gunicorn with deploy/gunicorn.conf.py, as pace-web.service starts it."""
    port = free_port()
    env = {**machine, "PACE_BIND": f"127.0.0.1:{port}", "PACE_WEB_WORKERS": "1"}
    process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"

    def started() -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()
            try:
                if requests.get(base + "/sign-in", timeout=5).status_code == 200:
                    return base
            except requests.ConnectionError:
                time.sleep(0.3)
        raise AssertionError("gunicorn did not answer within 60 s")
    yield started
    process.terminate()
    process.wait(timeout=30)


def test_from_an_empty_database_to_the_first_signed_in_social_worker(machine, smtp, gunicorn):
    env = {**machine, **{k: v for k, v in os.environ.items() if k.startswith("PACE_SMTP_")}}
    _, commands = walkthrough()
    doctor_at = commands.index(["doctor"])
    for args in commands[:doctor_at]:
        done = pace(env, args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        if args[:2] == ["settings", "show"]:
            shown = {line.split()[0]: line for line in done.stdout.splitlines()}
            assert "midlothian" in shown["council"] and "[file (" in shown["council"]
            assert "[environment (PACE_DATABASE_URL)]" in shown["database_url"]
            assert shown["secret_key"].split()[1] == "********"

    base = gunicorn()  # pace-web.service
    worker = pace(env, ["worker", "--once", "--interval", "30"])  # pace-worker.service
    assert worker.returncode == 0, worker.stderr

    for args in commands[doctor_at:]:
        done = pace(env, args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        if args == ["doctor"]:
            assert "FAIL" not in done.stdout and "WARN" not in done.stdout, done.stdout
            for check in ("database", "schema", "diagrams", "worker", "e-mail", "secret key",
                          "https cookies", "smtp"):
                assert re.search(rf"^ok\s+{check}\s", done.stdout, re.M), (check, done.stdout)

    leader = Browser(base)
    leader.sign_in("tlees")
    queue = leader.get("/team-queue")
    assert queue.status_code == 200
    row = next(r for r in re.findall(r"<tr.*?</tr>", queue.text, re.S) if "Rowan Reid" in r)
    assert "Hold planning meeting" in row

    social_worker = Browser(base)
    social_worker.sign_in("jbloggs")
    children = social_worker.get("/children")
    assert children.status_code == 200 and "Rowan Reid" in children.text
    child = re.search(r'href="(/children/\d+)"[^>]*>\s*Rowan Reid', children.text)
    page = social_worker.get(child[1])
    assert page.status_code == 200 and "Hold planning meeting" in page.text


def test_a_settings_file_that_cannot_be_used_stops_gunicorn_with_its_key(machine, tmp_path):
    path = Path(machine["PACE_CONFIG"])
    path.write_text(path.read_text().replace("port = 587", 'port = "587"'))
    result = subprocess.run([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"], cwd=ROOT,
                            env={**machine, "PACE_BIND": f"127.0.0.1:{free_port()}"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f'{path}: smtp.port: expected a whole number from 1 to 65535' in result.stderr
