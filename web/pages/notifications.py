"""Notification centre: unread count in the header, the list, mark read, e-mail preferences,
and (for administrators) the e-mail outbox with failed sends, under the service's status
(database, diagrams, worker heartbeat, e-mail: workflows/doctor.py, as `pace doctor`).

Notifications are written by the engine in the transaction of the event behind them
(engine/notifications.py); this module only reads them and records what the user did.
Opening a task marks that user's notifications about the task read.
"""
from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, update

from engine import clock
from engine import notifications as engine_notifications
from engine import outbox as outbox_queue
from engine.models import Notification, OutboxMessage, UserAccount

from workflows import doctor

from web.security import sign_in_limits
from web.shared import query_args
from web.security.access import require_roles
from web.shared.database import db

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PAGE_SIZE = 25
ADMIN_ROLES = frozenset({"admin"})
MODE_LABELS = {"immediate": "E-mail straight away", "digest": "In the daily e-mail",
               "none": "No e-mail (only here)"}
DIGEST_LABELS = {"digest": "Send me the daily e-mail", "none": "No daily e-mail"}


def _policy():
    policy = db().runtime.config.notifications
    if policy is None:
        abort(404)
    return policy


def _page() -> int:
    return query_args.page()


@bp.get("")
@login_required
def index():
    unread_only = request.args.get("show") == "unread"
    page = _page()
    with db().transaction() as session:
        query = select(func.count()).select_from(Notification).where(
            Notification.user_id == current_user.id)
        if unread_only:
            query = query.where(Notification.read_at.is_(None), engine_notifications.STILL_CURRENT)
        total = session.scalar(query) or 0
        rows = engine_notifications.for_user(session, current_user.id, unread_only=unread_only,
                                             limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        unread = engine_notifications.unread_count(session, current_user.id)
        finished = engine_notifications.finished_tasks(session, rows)
    pages = max(1, -(-total // PAGE_SIZE))
    labels = {kind: info.label for kind, info in _policy().kinds.items()}
    return render_template("notifications/list.html", rows=rows, unread=unread, total=total,
                           page=page, pages=pages, unread_only=unread_only, labels=labels,
                           finished=finished)


def _back():
    show = request.form.get("show")
    return redirect(url_for("notifications.index", show="unread") if show == "unread"
                    else url_for("notifications.index"))


@bp.post("/<int:item_id>/read")  # item_id: the notification (named so for the route tests)
@login_required
def mark_one(item_id: int):
    with db().transaction() as session:
        changed = engine_notifications.mark_read(session, current_user.id, [item_id])
    if changed:
        flash("Marked as read.", "success")
    return _back()


@bp.post("/read-all")
@login_required
def mark_all():
    with db().transaction() as session:
        changed = engine_notifications.mark_read(session, current_user.id)
    flash(f"{changed} notification{'s' if changed != 1 else ''} marked as read." if changed
          else "There were no unread notifications.", "success")
    return _back()


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    policy = _policy()
    if request.method == "POST":
        chosen = {}
        for kind, info in policy.kinds.items():
            mode = request.form.get(kind)
            if mode is None:
                continue  # not on the form: unchanged
            if mode not in info.choices:
                abort(400)
            chosen[kind] = mode
        with db().transaction() as session:
            for kind, mode in chosen.items():
                engine_notifications.set_preference(session, policy, current_user.id, kind, mode)
        flash("Your e-mail choices are saved.", "success")
        return redirect(url_for("notifications.preferences"))
    with db().transaction() as session:
        current = engine_notifications.preferences(session, policy, current_user.id)
        email = session.scalar(select(UserAccount.email).where(UserAccount.id == current_user.id))
    mail_on = policy.mail_settings().enabled
    return render_template("notifications/preferences.html", kinds=policy.kinds, current=current,
                           mode_labels=MODE_LABELS, digest_labels=DIGEST_LABELS, email=email,
                           mail_on=mail_on, digest_kind=engine_notifications.DIGEST)


@bp.get("/outbox")
@require_roles(ADMIN_ROLES)
def outbox():
    """Administrators: the service's status (as `pace doctor` reports it) and e-mail that
    failed or is waiting, with the last error."""
    status = doctor.checks(db())
    with db().transaction() as session:
        counts, rows = outbox_queue.not_sent(session)
        blocked = sign_in_limits.blocked_now(session, sign_in_limits.now())
    return render_template("notifications/outbox.html", rows=rows, counts=counts,
                           mail_on=_policy().mail_settings().enabled, status=status,
                           blocked_addresses=blocked)


@bp.post("/outbox/<int:item_id>/retry")  # item_id: the outbox row
@require_roles(ADMIN_ROLES)
def retry(item_id: int):
    with db().transaction() as session:
        changed = session.execute(update(OutboxMessage).where(
            OutboxMessage.id == item_id, OutboxMessage.status == "failed").values(
            status="pending", next_attempt_at=clock.now(), created_at=clock.now())  # queued anew
            .execution_options(synchronize_session=False)).rowcount
    flash("The e-mail will be sent again by the worker." if changed
          else "That e-mail is not waiting for a retry.", "success" if changed else "info")
    return redirect(url_for("notifications.outbox"))


# -- header count and "opening a task marks its notifications read" ---------------------
def unread_notifications() -> int:
    if not current_user.is_authenticated:
        return 0
    with db().transaction() as session:
        return engine_notifications.unread_count(session, current_user.id)


def _mark_task_read() -> None:
    """Before a task page is shown: its notifications for this user are read (so the header
    count on that page already leaves them out). Only the user's own rows are touched."""
    if request.method != "GET" or request.endpoint != "tasks.show":
        return
    if not current_user.is_authenticated:
        return
    item_id = (request.view_args or {}).get("item_id")
    with db().transaction() as session:
        session.execute(update(Notification).where(
            Notification.user_id == current_user.id, Notification.work_item_id == item_id,
            Notification.read_at.is_(None)).values(read_at=clock.now())
            .execution_options(synchronize_session=False))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # A function, not a value: only pages that show the header pay for the count.
    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.before_request(_mark_task_read)
