"""``pace token create|list|revoke``: API tokens from the command line (administrators)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from engine.models import ApiToken, UserAccount

from web.security import api_tokens as tokens


def _db():
    from web.shared.database import db
    return db()


@click.group("token")
def token_group():
    """Personal API tokens for /api/v1 (e.g. for a service user of an integration)."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'data warehouse'.")
@click.option("--expires-days", type=click.IntRange(1, tokens.MAX_DAYS), default=None,
              help=f"Expire after this many days (default {tokens.DEFAULT_DAYS}; a service user's "
                   "token may be given longer; revoke it when done).")
@with_appcontext
def create_command(username, name, expires_days):
    """Create a token for USERNAME and print it (shown this once only)."""
    with _db().transaction() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        if user is None:
            raise click.ClickException(f"there is no user {username!r}")
        try:
            token, secret = tokens.create(session, user, name, "cli", expires_days)
        except tokens.TokenError as exc:
            raise click.ClickException(str(exc)) from None
        token_id, expires = token.id, token.expires_at
    click.echo(f"Token {token_id} for {username} ({name}), expires {expires:%Y-%m-%d}. Store it "
               "now; it is not shown again:")
    click.echo(secret)


def _line(token: ApiToken) -> str:
    state = "active" if tokens.is_active(token) else "revoked" if token.revoked_at else "expired"
    used = f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
    return f"{token.id}\t{token.prefix}…\t{token.name}\t{state}\t{used}"


@token_group.command("list")
@click.argument("username")
@with_appcontext
def list_command(username):
    """List USERNAME's tokens (never the tokens themselves)."""
    with _db().transaction() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        if user is None:
            raise click.ClickException(f"there is no user {username!r}")
        rows = tokens.for_user(session, user.id)
        lines = [_line(t) for t in rows]
    click.echo("\n".join(lines) if lines else f"{username} has no API tokens.")


@token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_command(token_id):
    """Revoke token TOKEN_ID at once."""
    with _db().transaction() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"there is no token {token_id}")
        changed = tokens.revoke(session, token, "cli")
    click.echo(f"Token {token_id} revoked." if changed
               else f"Token {token_id} was already revoked.")
