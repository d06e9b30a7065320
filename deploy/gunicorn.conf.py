"""gunicorn for PACE Flow, behind the buffering proxy of deploy/nginx.conf.

    .venv/bin/gunicorn -c deploy/gunicorn.conf.py

Installed as a service by deploy/systemd/pace-web.service, and the command of the container
image (deploy/Containerfile); docs/operations.md walks through both.

Sync workers, each serving one request at a time: right for this app (every request is a
short database transaction) as long as nothing slow reaches them. A slow client would hold
a worker for as long as it takes to send its request, so four slow clients hold four
workers: the proxy in front must read each request whole first (``proxy_request_buffering
on`` in deploy/pace-proxy.conf). bench/slow_clients.py measures both ways.
"""
import multiprocessing
import os
import sys

from workflows import configuration
from workflows.app import Settings

# The settings (PACE_CONFIG's file, the environment) are checked before any worker starts: a
# key or value that cannot be used stops gunicorn here with the file or variable, the key and
# what is expected (exit 2), rather than each worker failing to boot with a traceback.
try:
    configuration.apply()
    Settings.from_environ()
except ValueError as problem:  # ConfigurationError, SettingsError: each names itself
    print(f"PACE Flow cannot start; fix this and try again:\n{problem}", file=sys.stderr)
    sys.exit(2)

wsgi_app = "web:create_app()"
bind = os.environ.get("PACE_BIND", "127.0.0.1:8000")   # only the proxy on this host
workers = int(os.environ.get("PACE_WEB_WORKERS", min(2 * multiprocessing.cpu_count(), 8)))
worker_class = "sync"
timeout = 30              # a worker silent this long is restarted
graceful_timeout = 30
keepalive = 2
max_requests = 2000       # workers are renewed now and then, with a jitter
max_requests_jitter = 200
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
forwarded_allow_ips = "127.0.0.1,::1"  # gunicorn's own X-Forwarded-Proto: the local proxy only
accesslog = "-"
errorlog = "-"
loglevel = "info"
