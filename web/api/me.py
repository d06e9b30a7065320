"""GET /me, and the caller's API tokens (administrators: a service user's too)."""
from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from sqlalchemy import select

from engine.models import ApiToken, UserAccount
from web.shared.database import db
from workflows.policy import ADD_CHILD_ROLES, MEASURE_ROLES, OVERVIEW_ROLES

from web.api import auth, present
from web.security import api_tokens as tokens
from .errors import documented, fail
from .schemas import IssuedTokenSchema, MeSchema, NewTokenSchema, TokenArgs, TokenListSchema

bp = Blueprint("me", __name__, url_prefix="/api/v1", description="The caller and their API tokens")
auth.protect(bp)


@bp.get("/me")
@documented(bp)
@bp.response(200, MeSchema)
def me():
    """Who the token (or session) belongs to, with their roles, team and what they can do."""
    caller = auth.principal()
    return {"id": caller.id, "username": caller.username, "display_name": caller.display_name,
            "roles": list(caller.roles), "team": caller.team, "all_teams": caller.all_teams,
            "queue_roles": list(caller.queue_roles), "authenticated_by": g.api_auth,
            "can": {"has_queue": caller.has_queue, "view_children": caller.can_view_children,
                    "create_children": caller.has_any(ADD_CHILD_ROLES),
                    "view_overview": caller.has_any(OVERVIEW_ROLES),
                    "view_measures": caller.has_any(MEASURE_ROLES),
                    "manage_tokens_of_others": caller.has_any({tokens.ISSUER_ROLE})}}


def _token(token: ApiToken, users: dict[int, dict]) -> dict:
    return {"id": token.id, "name": token.name, "prefix": token.prefix,
            "user": users[token.user_id], "created_at": token.created_at,
            "created_by": token.created_by, "expires_at": token.expires_at,
            "last_used_at": token.last_used_at, "revoked_at": token.revoked_at,
            "revoked_by": token.revoked_by, "active": tokens.is_active(token)}


def _holder(session, username: str | None) -> UserAccount:
    """The user whose tokens are meant: the caller, or (administrators) anyone named."""
    caller = auth.principal()
    if not username or username == caller.username:
        return session.get(UserAccount, caller.id)
    if not caller.has_any({tokens.ISSUER_ROLE}):
        fail(403, "Only administrators manage other users' tokens.")
    holder = session.scalar(select(UserAccount).where(UserAccount.username == username))
    if holder is None:
        fail(422, errors={"username": ["There is no user with this username."]})
    return holder


@bp.get("/tokens")
@documented(bp, 403, 422)
@bp.arguments(TokenArgs, location="query")
@bp.response(200, TokenListSchema)
def list_tokens(args):
    """The caller's API tokens (never the tokens themselves: only their first characters)."""
    with db().transaction() as session:
        holder = _holder(session, args.get("username"))
        rows = tokens.for_user(session, holder.id)
        users = present.user_refs(session, [holder.id])
        return {"items": [_token(t, users) for t in rows]}


@bp.post("/tokens")
@documented(bp, 403, 422)
@bp.arguments(NewTokenSchema)
@bp.response(201, IssuedTokenSchema)
def create_token(body):
    """Create a token; the response is the only time the token is shown."""
    caller = auth.principal()
    with db().transaction() as session:
        holder = _holder(session, body.get("username"))
        if not holder.active:
            fail(422, errors={"username": ["This user is not active."]})
        token, secret = tokens.create(session, holder, body["name"], caller.username,
                                      body.get("expires_in_days"))
        users = present.user_refs(session, [holder.id])
        return {**_token(token, users), "token": secret}


@bp.delete("/tokens/<int(max=2147483647):token_id>")
@documented(bp, 404)
@bp.response(204)
def revoke_token(token_id: int):
    """Revoke an API token.

    The caller's own; administrators: anyone's. Takes effect at once; revoking twice is
    harmless."""
    caller = auth.principal()
    with db().transaction() as session:
        token = session.get(ApiToken, token_id)
        mine = token is not None and token.user_id == caller.id
        if token is None or not (mine or caller.has_any({tokens.ISSUER_ROLE})):
            fail(404)
        tokens.revoke(session, token, caller.username)
