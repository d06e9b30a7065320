"""The slow-client probe: 4 connections sending a byte a second, then one normal request.

gunicorn runs as deploy/gunicorn.conf.py has it, with 4 sync workers, on a scratch SQLite
database. Four clients each open a connection and send the head of a ``POST /sign-in``
with ``Content-Length: 1000``, then its body one byte a second; two seconds later a fifth
client times ``GET /sign-in``. Straight to gunicorn, each slow client holds a sync worker
while it sends, so the fifth request waits until gunicorn's worker timeout (30 s) kills one
of them. Through nginx with the shipped proxy settings (deploy/pace-proxy.conf, included
as deploy/nginx.conf includes it), nginx reads each slow body itself and gunicorn sees
none of them. Baseline: the same request with no slow client. Bounded: each slow client
stops after ``--seconds`` (45), the timed request gives up after 60 s.

    .venv/bin/python -m bench.slow_clients      # or: python -m bench --only slow

nginx is Debian's (``apt-get install nginx-light``); without it the proxy half is reported
as not measured. Traffic stays on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .common import Context, Figure

ROOT = Path(__file__).resolve().parent.parent
SLOW, WORKERS = 4, 4
BODY = 1000      # bytes each slow client announces
TARGET = 1.0     # seconds: the normal request behind the proxy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited: " + (proc.stderr.read() or b"").decode()[-2000:])
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on {port}")


def start_gunicorn(workdir: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn -c deploy/gunicorn.conf.py, 4 sync workers, on a migrated scratch SQLite."""
    from workflows.app import Database
    url = f"sqlite:///{workdir / 'slow.db'}"
    database = Database.connect(url)
    database.migrate()
    database.engine.dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACE_SMTP", "PACE_TEST_"))}
    env.update(PACE_DATABASE_URL=url, PACE_DEMO="0", PACE_SECRET_KEY="slow-clients")
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    proc = subprocess.Popen([gunicorn, "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                             "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
                             "--access-logfile", "/dev/null", "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_listening(port, proc, "gunicorn")
    return proc, port


def start_nginx(upstream: int, workdir: Path) -> tuple[subprocess.Popen, int] | None:
    """nginx in front of ``upstream`` with the shipped deploy/pace-proxy.conf; None when
    nginx is not installed."""
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()),
                                          None)
    if nginx is None:
        return None
    home = workdir / "nginx"
    for sub in ("", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (home / sub).mkdir(parents=True, exist_ok=True)
        (home / sub).chmod(0o777)  # nginx's workers may run as another user than its master
    port = _free_port()
    (home / "nginx.conf").write_text(f"""
worker_processes 1;
daemon off;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {home}/body;
    proxy_temp_path {home}/proxy;
    fastcgi_temp_path {home}/fastcgi;
    uwsgi_temp_path {home}/uwsgi;
    scgi_temp_path {home}/scgi;
    upstream pace_gunicorn {{ server 127.0.0.1:{upstream}; }}
    server {{
        listen 127.0.0.1:{port};
        include {ROOT}/deploy/pace-proxy.conf;
    }}
}}
""")
    proc = subprocess.Popen([nginx, "-p", str(home), "-e", str(home / "error.log"),
                             "-c", str(home / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_listening(port, proc, "nginx")
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _slow_client(port: int, done: threading.Event, seconds: float) -> None:
    """The head of a POST at once, then its body a byte a second until ``done`` or time."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: %d\r\n\r\n" % BODY)
            stop_at = time.monotonic() + seconds
            for _ in range(BODY):
                if done.wait(1.0) or time.monotonic() > stop_at:
                    return
                sock.sendall(b"x")
    except OSError:
        return  # dropped by the server (a worker killed, a proxy timeout): the client is done


def timed_get(port: int, path: str = "/sign-in", timeout: float = 60) -> tuple[float, int]:
    """Seconds for one whole request on a new connection, and its status (0: no answer)."""
    start = time.perf_counter()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        status = response.status
        connection.close()
    except OSError:
        status = 0
    return time.perf_counter() - start, status


def probe(port: int, seconds: float) -> dict:
    """The request alone (median of 5), then with SLOW slow clients on the same port."""
    alone = statistics.median(timed_get(port)[0] for _ in range(5))
    done = threading.Event()
    clients = [threading.Thread(target=_slow_client, args=(port, done, seconds), daemon=True)
               for _ in range(SLOW)]
    for client in clients:
        client.start()
    time.sleep(2)  # every slow client connected and sending
    slowed, status = timed_get(port, timeout=seconds + 15)
    done.set()
    for client in clients:
        client.join(5)
    return {"alone": alone, "slowed": slowed, "status": status}


def measure(seconds: float = 45) -> dict:
    """Both ways: {"gunicorn": probe, "nginx": probe or None}."""
    workdir = Path(tempfile.mkdtemp(prefix="slow-clients-"))
    gunicorn, port = start_gunicorn(workdir)
    try:
        for _ in range(4 * WORKERS):  # every worker's first requests load what they load once
            timed_get(port)            # (and start loading the survival library: web/pages/measures.py)
        time.sleep(5)
        found = {"gunicorn": probe(port, seconds), "nginx": None}
        proxy = start_nginx(port, workdir)
        if proxy is not None:
            nginx, front = proxy
            try:
                timed_get(front)
                found["nginx"] = probe(front, seconds)
            finally:
                stop(nginx)
        return found
    finally:
        stop(gunicorn)
        shutil.rmtree(workdir, ignore_errors=True)


def run(ctx: Context) -> None:
    found = measure(20 if ctx.quick else 45)
    label = (f"GET /sign-in while {SLOW} clients send a body a byte a second, "
             f"gunicorn with {WORKERS} sync workers")
    direct = found["gunicorn"]
    ctx.add(Figure("slow clients", f"{label}, no proxy", direct["slowed"], "s",
                   direct["alone"], "the request with no slow client",
                   note=f"status {direct['status'] or 'none (gave up)'}; each slow client holds a "
                        "worker until gunicorn's 30 s worker timeout kills it"))
    proxied = found["nginx"]
    if proxied is None:
        ctx.add(Figure("slow clients", f"{label}, behind nginx (deploy/nginx.conf)", None, "s",
                       target=f"< {TARGET:g} s",
                       note="not measured: nginx is not installed (apt-get install nginx-light)"))
        return
    ctx.add(Figure("slow clients", f"{label}, behind nginx (deploy/nginx.conf)",
                   proxied["slowed"], "s", proxied["alone"], "the request with no slow client",
                   target=f"< {TARGET:g} s", met=proxied["slowed"] < TARGET and
                   proxied["status"] == 200,
                   note=f"status {proxied['status']}; nginx reads each slow body itself "
                        "(proxy_request_buffering on)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_clients", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=45,
                        help="how long each slow client goes on sending (default 45)")
    args = parser.parse_args(argv)
    found = measure(args.seconds)
    for name, result in found.items():
        if result is None:
            print(f"{name}: not measured (nginx is not installed)")
            continue
        slowed = result["slowed"]
        print(f"{name}: GET /sign-in alone {result['alone'] * 1000:.1f} ms; with {SLOW} slow "
              f"clients {f'{slowed:.1f} s' if slowed >= 1 else f'{slowed * 1000:.1f} ms'} "
              f"(status {result['status']})")
    return 0 if found["nginx"] is None or found["nginx"]["slowed"] < TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
