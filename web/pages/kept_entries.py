"""A form posted after the session ended, or from a page that had expired: nothing typed is lost.

Flask-WTF refuses such a post before any view runs (the CSRF token lives in the session,
which has gone). That used to be a bare 400 page and the entries were gone. Now:

- **Signed out** (the session ended while the worker typed): the post is not authenticated,
  so nothing in it is written or kept on the server; the worker is sent to sign in again
  and, after it, back to the task. The entries come back from the browser:
  ``static/js/kept-entries.mjs`` keeps what the task form posted in the tab's
  ``sessionStorage`` and, once the same worker is signed in again, posts it back to the
  task page (action ``restore``), which shows it in the form without saving anything.
  The autosaved draft (web/pages/task_drafts.py) holds everything up to the last pause in
  typing even without that.
- **Still signed in** but the page's token is stale (signed out and in again in another
  tab): the task page is shown again with the posted entries and nothing saved, so the
  worker can check them and submit once more. Only for posts from this service's own pages
  (the browser's ``Origin``), so another site cannot fill a worker's form.
- The background requests (autosave, keep-alive) get JSON the page script can act on.

Every other refused post keeps the error page: nothing was typed into it worth keeping.
"""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from web.pages import tasks
from web.security import session_timeout
from web.security.sign_in import safe_next

STALE_TOKEN = ("The form had expired or did not come from this service, so nothing was "
               "saved. Your entries are shown again below: check them and submit again.")
SIGN_IN_EXPIRED = "The sign-in page had expired. Enter your username and password again."
BACKGROUND = {"task_drafts.autosave", "session_timeout.keep_alive"}


def _from_this_service() -> bool:
    origin = request.headers.get("Origin")
    return bool(origin) and origin.rstrip("/") == request.host_url.rstrip("/")


def answer_refused_form(reason: str = ""):
    """The answer to a post refused for its CSRF token, or None for the plain error page.
    A post refused for where it came from (over HTTPS, a missing or foreign Referer) is not
    an expired session: it keeps the error page."""
    if request.path.startswith("/api/") or "referrer" in (reason or "").lower():
        return None
    signed_in = current_user.is_authenticated
    if request.endpoint in BACKGROUND:
        if not signed_in:
            return jsonify(signed_in=False,
                           message=session_timeout.signed_out_message()), 401
        return jsonify(signed_in=True, message="The page had expired or did not come from "
                                               "this service. Reload the page."), 400
    if not signed_in:
        if request.endpoint == "auth.sign_in_post":
            return session_timeout.sign_in_again(
                safe_next(request.form.get("next")), SIGN_IN_EXPIRED)
        if request.endpoint == "tasks.submit":
            return session_timeout.sign_in_again(request.path)
        return session_timeout.sign_in_again(session_timeout.same_site_path(request.referrer))
    if request.endpoint == "tasks.submit" and _from_this_service():
        return tasks.entries_again((request.view_args or {}).get("item_id"), STALE_TOKEN)
    return None
