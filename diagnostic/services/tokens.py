"""Per-user API bearer tokens: shown once when created, stored only as a sha256 hash.

A token is `apt_` + 43 URL-safe characters (256 bits), so a fast hash is enough: it cannot
be guessed, and a stolen database does not reveal it. Creating a new token replaces the
user's previous one; every creation and revocation lands in the audit log.
"""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import ApiToken, User, utcnow
from diagnostic.services import NotFound, Refusal, users
from diagnostic.services.audit import SYSTEM, Actor, record

PREFIX = "apt_"


def hash_token(token: str) -> str:
    """sha256 hex of a token, as stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(user: User, actor: Actor = SYSTEM) -> str:
    """Create (or replace) a user's token and return it in clear text, once."""
    token = PREFIX + secrets.token_urlsafe(32)
    current = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    if current is None:
        current = ApiToken(user_id=user.id)
        db.session.add(current)
    current.token_hash, current.hint, current.created_at = hash_token(token), token[:8], utcnow()
    current.last_used_at = None
    record(actor, "api_token.issue", "user", user.id, new=token[:8])
    db.session.commit()
    return token


def issue_for_email(email: str) -> str:
    """Issue a token for the account with this e-mail (NotFound when there is none)."""
    user = users.get_by_email(email)
    if user is None:
        raise NotFound(Refusal.NO_ACCOUNT_WITH_EMAIL, email=email)
    return issue(user)


def revoke(user: User, actor: Actor = SYSTEM) -> bool:
    """Delete a user's token; True when there was one."""
    current = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    if current is None:
        return False
    db.session.delete(current)
    record(actor, "api_token.revoke", "user", user.id, old=current.hint)
    db.session.commit()
    return True


def of_user(user: User) -> ApiToken | None:
    """The user's token record (never the token itself), if any."""
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))


def authenticate(token: str) -> User | None:
    """The active user owning a clear-text token, else None (also records the last use)."""
    if not token or not token.startswith(PREFIX) or len(token) > 100:
        return None
    found = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if found is None or not found.user.active:
        return None
    found.last_used_at = utcnow()
    db.session.commit()
    return found.user
