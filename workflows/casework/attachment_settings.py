"""The attachments' settings: how large a file may be, and the ClamAV daemon that scans it.

``PACE_ATTACHMENT_MAX_MB`` (default 20): the largest file a worker may attach; the upload
routes accept a request body that large (web/shared/body_limits.py) and no larger.
``PACE_CLAMD``: the ClamAV daemon that scans every upload before it is stored, as
``unix:/run/clamav/clamd.ctl`` or ``tcp://127.0.0.1:3310``. Without it uploads are not
scanned for viruses (docs/operations.md says what is then not checked).
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MAX_MB = 20
_TCP = re.compile(r"^tcp://(?P<host>[^:/\s]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})/?$")


class AttachmentSettingsError(ValueError):
    """A setting that cannot be used; the message names the variable and what is expected."""


@dataclass(frozen=True)
class ClamdAddress:
    unix_path: str | None = None
    host: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        return f"unix:{self.unix_path}" if self.unix_path else f"tcp://{self.host}:{self.port}"


def clamd_address(text: str) -> ClamdAddress:
    text = text.strip()
    if text.startswith("unix:"):
        path = text[len("unix:"):]
        if path.startswith("//"):
            path = path[2:]
        if path.startswith("/"):
            return ClamdAddress(unix_path=path)
    found = _TCP.match(text)
    if found and 0 < int(found["port"]) < 65536:
        return ClamdAddress(host=found["host"].strip("[]"), port=int(found["port"]))
    raise AttachmentSettingsError(
        f"PACE_CLAMD={text!r} does not name a ClamAV daemon: use unix:/path/to/clamd.ctl or "
        "tcp://host:port (e.g. unix:/run/clamav/clamd.ctl or tcp://127.0.0.1:3310)")


@dataclass(frozen=True)
class AttachmentSettings:
    max_mb: int = DEFAULT_MAX_MB
    clamd: ClamdAddress | None = None

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> "AttachmentSettings":
        size = environ.get("PACE_ATTACHMENT_MAX_MB", "").strip()
        if size and (not size.isdigit() or not 1 <= int(size) <= 500):
            raise AttachmentSettingsError(
                f"PACE_ATTACHMENT_MAX_MB={size!r}: expected a whole number of megabytes from "
                "1 to 500 (e.g. 20)")
        clamd = environ.get("PACE_CLAMD", "").strip()
        return cls(max_mb=int(size) if size else DEFAULT_MAX_MB,
                   clamd=clamd_address(clamd) if clamd else None)
