"""The current app's ``Database`` (``workflows.app.Database``), for pages, the API and the CLI.

A neutral module: the app factory (``web/__init__.py``) imports every page, API and CLI module
to register it, so a module that reached the database through the factory's package would
import all of those in turn. ``from web import db`` still works (the factory re-exports this).
"""
from __future__ import annotations

from flask import Flask, current_app

from workflows.app import Database


def db(app: Flask | None = None) -> Database:
    """The Database the app factory connected, kept in ``app.extensions["pace_db"]``."""
    return (app or current_app).extensions["pace_db"]


def council(app: Flask | None = None) -> str:
    """The council whose aims and PDSA cycles the app shows (``PACE_COUNCIL``, read once
    by ``Database.connect``: ``workflows.app.Settings``)."""
    return db(app).settings.council
