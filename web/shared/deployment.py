"""The app's configuration as ``pace settings show`` and ``/api/v1/settings`` list it: each
setting of ``workflows.configuration`` with its value (secrets hidden) and where it came
from, read from the environment the app factory completed from ``PACE_CONFIG``'s file."""
from __future__ import annotations

import os

from flask import Flask, current_app

from workflows import configuration
from workflows.configuration import Loaded, Shown


def loaded(app: Flask | None = None) -> Loaded:
    """What the app factory read from ``PACE_CONFIG`` (nothing for an app built without)."""
    return (app or current_app).extensions.get("pace_config") or Loaded()


def report(app: Flask | None = None) -> list[Shown]:
    return configuration.report(os.environ, loaded(app))
