"""What the ``pace`` commands that change something share: ``KEY=VALUE`` arguments read into
a dict, and a service's refusal reported the same way by each (exit 1 with each problem
named, or 2 for a ``--by`` user who may not do it)."""
from __future__ import annotations

from typing import NoReturn

import click

from engine.errors import EngineError, Forbidden, InvalidData


def key_values(assignments) -> dict[str, str]:
    """``KEY=VALUE`` arguments as a dict; a usage error (exit 2) for one without ``=`` or
    a key given twice."""
    changes: dict[str, str] = {}
    for assignment in assignments:
        key, sign, value = assignment.partition("=")
        if not sign or not key.strip():
            raise click.BadParameter(f"{assignment!r} is not KEY=VALUE", param_hint="KEY=VALUE")
        if key.strip() in changes:
            raise click.BadParameter(f"{key.strip()} is given twice", param_hint="KEY=VALUE")
        changes[key.strip()] = value
    return changes


def refused(exc: EngineError, username: str | None = None,
            options: dict | None = None) -> NoReturn:
    """Raise the click error for a service's refusal: ``--by`` named when ``username`` may
    not do it, each invalid field named by its option (``options``: field → option)."""
    if isinstance(exc, Forbidden) and username is not None:
        raise click.BadParameter(f"{username!r} may not do this: {exc}",
                                 param_hint="--by") from None
    if isinstance(exc, InvalidData):
        named = options or {}
        lines = [f"{named.get(e.field, e.field) or 'input'}: {e.message}" for e in exc.errors]
        raise click.ClickException("nothing was saved:\n  " + "\n  ".join(lines)) from None
    raise click.ClickException(str(exc)) from None
