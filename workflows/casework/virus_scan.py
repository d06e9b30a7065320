"""Scanning an upload with the council's ClamAV daemon before it is stored.

The bytes are streamed to clamd with its INSTREAM command through ``clamav-client``
(Artefactual's maintained fork of the old ``clamd`` package). Scanning fails closed: a
daemon that cannot be reached, times out or answers with an error refuses the upload as
surely as a virus does, so nothing unscanned is ever stored while ``PACE_CLAMD`` is set.
"""
from __future__ import annotations

import io
import logging

from clamav_client.clamd import ClamdError, ClamdNetworkSocket, ClamdUnixSocket

from .attachment_settings import ClamdAddress

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 60  # a 20 MB file scans in well under a second; a stuck daemon must not hang a worker


class Refused(ValueError):
    """The upload was not stored; the message tells the worker why and what to do."""


def scan(address: ClamdAddress, content: bytes) -> None:
    """Return when clamd finds nothing; raise ``Refused`` otherwise."""
    client = ClamdUnixSocket(path=address.unix_path, timeout=TIMEOUT_SECONDS) \
        if address.unix_path else \
        ClamdNetworkSocket(host=address.host, port=address.port, timeout=TIMEOUT_SECONDS)
    try:
        result = client.instream(io.BytesIO(content))
    except (ClamdError, OSError) as exc:
        log.error("clamd at %s could not scan an upload: %s", address, exc)
        raise Refused("The file could not be checked for viruses just now, so it was not "
                      "attached. Try again in a few minutes; if it keeps happening, tell "
                      "your system administrator that the virus checker is not answering.") \
            from None
    status, signature = (result or {}).get("stream", (None, None))
    if status == "FOUND":
        log.warning("clamd at %s found %s in an upload", address, signature)
        raise Refused("This file contains a virus or other harmful content, so it was not "
                      "attached. Do not open it; tell your system administrator.")
    if status != "OK":
        log.error("clamd at %s answered %r", address, result)
        raise Refused("The file could not be checked for viruses, so it was not attached. "
                      "Try again; if it keeps happening, tell your system administrator.")
