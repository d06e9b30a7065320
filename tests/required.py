"""What the suite needs from this machine (PostgreSQL, Chromium, clamd, oidc-provider, nginx,
systemd-analyze): with ``CI=true`` a missing one fails the run, so no skip can hide it;
elsewhere the tests that need it are skipped, saying what to install."""
from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def missing(what: str) -> None:
    """Fail in CI, skip elsewhere; ``what`` says what is missing and how to get it."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} is missing")
