"""Errors the runtime raises; each says what went wrong and what the user can do."""
from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    status = 400


class NotFound(EngineError):
    status = 404


class Conflict(EngineError):
    """The record changed since it was read: reload and try again (HTTP 409)."""
    status = 409


class Forbidden(EngineError):
    status = 403


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class InvalidData(EngineError):
    """Form data that fails the task's JSON Schema (HTTP 422); nothing was saved."""
    status = 422

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field or 'form'}: {e.message}" for e in errors))
