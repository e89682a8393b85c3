"""Staff accounts (admin, analyst, evaluator): creation and authentication."""
from __future__ import annotations

import re

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import Role, User
from diagnostic.services import Conflict, Refusal, ServiceError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def create(email: str, name: str, role: Role | str, password: str) -> User:
    """Create an account; refuses a malformed or taken e-mail and short passwords."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise ServiceError(Refusal.INVALID_EMAIL, email=email)
    if len(password) < MIN_PASSWORD:
        raise ServiceError(Refusal.PASSWORD_TOO_SHORT, minimum=MIN_PASSWORD)
    try:
        role = Role(role)
    except ValueError:
        raise ServiceError(Refusal.UNKNOWN_ROLE, role=role) from None
    if get_by_email(email) is not None:
        raise Conflict(Refusal.ACCOUNT_EXISTS, email=email)
    user = User(email=email, name=name.strip() or email, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def get_by_email(email: str) -> User | None:
    """The account with this e-mail, if any."""
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def get(user_id: int) -> User | None:
    """The account with this id, if any."""
    return db.session.get(User, user_id)


def authenticate(email: str, password: str) -> User | None:
    """The active account matching e-mail and password, else None."""
    user = get_by_email(email)
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def list_by_role(role: Role | None = None) -> list[User]:
    """Accounts ordered by name, optionally of one role."""
    query = sa.select(User).order_by(User.name)
    if role is not None:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))
