"""Files the pages hand out: one way to name an attachment, whatever its name holds.

A download's name can come from what someone typed or uploaded (an import's file name, a
child's reference). Written raw into ``Content-Disposition`` a name outside Latin-1 cannot
be sent at all (the server fails on the header) and a line break would split the header.
Flask's ``send_file`` writes the name as RFC 6266 asks: ``filename="…"`` (ASCII, quoted)
and, when the name is not ASCII, ``filename*=UTF-8''…`` (RFC 5987) as well; control
characters are folded to spaces before it (engine/plain_text.py).
"""
from __future__ import annotations

import io

from flask import Response, send_file

from engine.plain_text import one_line


def attachment(body: str | bytes, mimetype: str, name: str) -> Response:
    """``body`` as a download named ``name`` (text is sent as UTF-8)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=one_line(name).strip() or "download")
