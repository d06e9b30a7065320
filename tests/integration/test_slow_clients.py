"""The shipped deployment holds up against slow clients (issue 30): gunicorn as
deploy/gunicorn.conf.py runs it (4 sync workers) behind nginx with deploy/pace-proxy.conf,
4 clients sending a body a byte a second, and a normal request is still answered within a
second. (Straight to gunicorn the same request waits about 30 s: bench/slow_clients.py
measures both, bench/RESULTS.md has the figures.) nginx is Debian's nginx-light, which
.ci/run installs; outside CI a machine without it skips this test.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from bench import slow_clients
from tests.required import missing


@pytest.fixture
def deployment():
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        missing("nginx (apt-get install nginx-light; .ci/run installs it)")
    workdir = Path(tempfile.mkdtemp(prefix="slow-clients-"))
    gunicorn, port = slow_clients.start_gunicorn(workdir)
    proxy = None
    try:
        proxy = slow_clients.start_nginx(port, workdir)
        yield proxy[1]
    finally:
        if proxy is not None:
            slow_clients.stop(proxy[0])
        slow_clients.stop(gunicorn)
        shutil.rmtree(workdir, ignore_errors=True)


def test_a_request_is_not_held_up_by_four_slow_clients_behind_the_proxy(deployment):
    for _ in range(8):
        slow_clients.timed_get(deployment)  # the workers' first requests
    found = slow_clients.probe(deployment, seconds=6)
    assert found["status"] == 200
    assert found["slowed"] < slow_clients.TARGET, found
