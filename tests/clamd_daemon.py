"""A real ClamAV daemon for the attachment tests, started in seconds.

Debian's ``clamav-daemon`` (``.ci/run`` installs it) runs in the foreground with its own
configuration in a temporary folder: a unix socket and a TCP port, and a signature
database of one line, EICAR's ``md5:size:name`` (no signatures can be downloaded here, and
EICAR is exactly the file the tests must see refused). With CI=true a daemon that cannot
be started fails the test, as a missing browser does (tests/e2e/conftest.py); elsewhere
the test is skipped with the reason.
"""
from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.casework_files import EICAR
from tests.required import missing

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
START_SECONDS = 60


@dataclass(frozen=True)
class Clamd:
    unix_path: str
    port: int

    @property
    def unix_address(self) -> str:
        return f"unix:{self.unix_path}"

    @property
    def tcp_address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pong(path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(2)
            conn.connect(path)
            conn.sendall(b"zPING\0")
            return conn.recv(16).startswith(b"PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def clamd(tmp_path_factory):
    if not Path(CLAMD).exists():
        missing("ClamAV's daemon clamd (apt-get install clamav-daemon)")
    folder = tmp_path_factory.mktemp("clamd")
    signatures = folder / "db"
    signatures.mkdir()
    (signatures / "eicar.hdb").write_text(
        f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test-Signature\n")
    sock, port = str(folder / "clamd.sock"), _free_port()
    config = folder / "clamd.conf"
    config.write_text("\n".join([
        "Foreground yes", f"LocalSocket {sock}", "TCPAddr 127.0.0.1", f"TCPSocket {port}",
        f"DatabaseDirectory {signatures}", f"LogFile {folder / 'clamd.log'}",
        f"PidFile {folder / 'clamd.pid'}", f"TemporaryDirectory {folder}",
        "StreamMaxLength 64M", "MaxThreads 4", ""]))
    process = subprocess.Popen([CLAMD, "--config-file", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_SECONDS
    while not _pong(sock):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log = (folder / "clamd.log").read_text() if (folder / "clamd.log").exists() else ""
            missing(f"a running clamd (it did not start: {log[-500:]})")
        time.sleep(0.2)
    yield Clamd(sock, port)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
