"""Auditor exports: one child's events, or every chain's events in a date range (JSON, CSV).

Routes on the auditor blueprint (``web.pages.audit.bp``; the app factory imports this module
before registering it). The files carry every hashed field, so they can be verified offline
(engine/audit/export.py, ``pace audit verify-export``); each export is itself an audit event.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Response, abort, render_template, request
from flask_login import current_user

from engine import clock
from engine.audit import export as audit_export

from web.shared import query_args
from web.security.access import child_or_404, require_roles
from web.shared.database import db
from web.pages.audit import AUDIT_ROLES, _viewed, bp


def _download(text: str, name: str, fmt: str) -> Response:
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    return Response(text, mimetype=f"{mimetype}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _format() -> str:
    fmt = (request.args.get("format") or "json").lower()
    if fmt not in ("json", "csv"):
        abort(400)
    return fmt


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:60] or "child"


@bp.get("/children/<int:subject_id>/export")
@require_roles(AUDIT_ROLES)
def export_child(subject_id: int):
    fmt = _format()
    with db().transaction() as session:
        child = child_or_404(session, current_user, subject_id)
        rows = audit_export.rows(session, subject_id=child.id)
        _viewed(session, child.id, "export", format=fmt, events=len(rows))
        reference = child.reference
    text = audit_export.to_csv(rows) if fmt == "csv" else audit_export.to_json(rows)
    return _download(text, f"audit-{_safe_name(reference)}-{clock.today():%Y%m%d}", fmt)


def _date_arg(name: str, errors: list[tuple[str, str]], label: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return query_args.parse_day(raw)
    except ValueError:
        errors.append((name, f"{label} must be a real date from 1900 to 2999, like 2026-03-31"))
        return None


@bp.get("/export")
@require_roles(AUDIT_ROLES)
def export_range():
    if not current_user.all_teams:
        abort(403)  # events of every team and the system chain
    errors: list[tuple[str, str]] = []
    since = _date_arg("since", errors, "From date")
    until = _date_arg("until", errors, "To date")
    if since and until and until < since:
        errors.append(("until", "To date must be the same as or after the from date"))
    fmt = request.args.get("format")
    if fmt is None or errors:
        return render_template("audit/export.html", errors=errors,
                               since=request.args.get("since", ""),
                               until=request.args.get("until", ""),
                               page_has_errors=bool(errors)), 400 if errors else 200
    fmt = _format()
    start = clock.aware(datetime(since.year, since.month, since.day)) if since else None
    end = clock.aware(datetime(until.year, until.month, until.day)) + timedelta(days=1) \
        if until else None
    with db().transaction() as session:
        rows = audit_export.rows(session, start=start, end=end)
        _viewed(session, None, "audit_exported", since=since, until=until, format=fmt,
                events=len(rows))
    name = f"audit-{since:%Y%m%d}" if since else "audit-start"
    name += f"-to-{until or clock.today():%Y%m%d}"
    text = audit_export.to_csv(rows) if fmt == "csv" else audit_export.to_json(rows)
    return _download(text, name, fmt)
