"""Staff accounts (admin, analyst, evaluator): creation, state scopes and authentication.

A state scope limits an analyst to the institutions of one or more states (a state guarantor
body, *organismo garante*); an account without states is national. Admins are always national;
evaluators are limited by their assignments, so neither takes states.
"""
from __future__ import annotations

import re

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import Role, User, UserState
from diagnostic.services import Conflict, Refusal, ServiceError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def resolve_states(values) -> list[str]:
    """INEGI codes of states given by code or name (`14`, `Jalisco`, `Edo. de México`), sorted and
    without repeats; refuses the first value that names no state, naming it. `00` (federal) is no state."""
    from diagnostic.services import states

    codes: set[str] = set()
    for value in values or ():
        text = str(value).strip()
        if not text:
            continue
        code = states.resolve(text)
        if code is None or code == "00":
            raise ServiceError(Refusal.UNKNOWN_SCOPE_STATE, value=text[:80])
        codes.add(code)
    return sorted(codes)


def _check_scope(role: Role, codes: list[str]) -> None:
    if codes and role == Role.ADMIN:
        raise ServiceError(Refusal.ADMIN_IS_NATIONAL)
    if codes and role == Role.EVALUATOR:
        raise ServiceError(Refusal.EVALUATOR_NOT_SCOPED)


def scope_label(codes, lang: str | None = None) -> str:
    """The states of a scope as their names (`Jalisco, Oaxaca`); `nacional` / `national` when none."""
    from diagnostic.services.refusals import current_lang
    from scoring import states as state_names

    if not codes:
        return "national" if (lang or current_lang()) == "en" else "nacional"
    return ", ".join(state_names.by_code(code).name for code in sorted(codes))


def scope_text(user: User, lang: str | None = None) -> str:
    """What an account may see, in words: its states, `nacional`, or (evaluators) its assignments."""
    from diagnostic.services.refusals import current_lang

    if user.role == Role.EVALUATOR:
        return "assignments" if (lang or current_lang()) == "en" else "sus asignaciones"
    return scope_label(user.state_codes, lang)


def create(email: str, name: str, role: Role | str, password: str, states=()) -> User:
    """Create an account; refuses a malformed or taken e-mail, short passwords, an unknown state,
    and states for an admin (always national) or an evaluator (limited by assignments)."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise ServiceError(Refusal.INVALID_EMAIL, email=email)
    if len(password) < MIN_PASSWORD:
        raise ServiceError(Refusal.PASSWORD_TOO_SHORT, minimum=MIN_PASSWORD)
    try:
        role = Role(role)
    except ValueError:
        raise ServiceError(Refusal.UNKNOWN_ROLE, role=role) from None
    codes = resolve_states(states)
    _check_scope(role, codes)
    if get_by_email(email) is not None:
        raise Conflict(Refusal.ACCOUNT_EXISTS, email=email)
    user = User(email=email, name=name.strip() or email, role=role)
    user.set_password(password)
    user.state_scopes = [UserState(state_code=code) for code in codes]
    db.session.add(user)
    db.session.commit()
    return user


def set_states(user: User, states, actor=None) -> bool:
    """Scope an account to these states (none: national), recorded in the audit log with the
    states before and after; True when something changed. Open sessions keep working and see
    the new scope from their next request."""
    from diagnostic.services import audit

    codes = resolve_states(states)
    _check_scope(user.role, codes)
    old = sorted(user.state_codes)
    if old == codes:
        return False
    kept = [row for row in user.state_scopes if row.state_code in codes]  # an unchanged row is not re-inserted
    user.state_scopes = kept + [UserState(state_code=code) for code in codes if code not in old]
    audit.record(actor or audit.SYSTEM, "user.states", "user", user.id,
                 old=" ".join(old) or None, new=" ".join(codes) or None)
    db.session.commit()
    return True


def get_by_email(email: str) -> User | None:
    """The account with this e-mail, if any."""
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def get(user_id: int) -> User | None:
    """The account with this id, if any."""
    return db.session.get(User, user_id)


_DUMMY_HASHES: dict[str, str] = {}


def dummy_hash() -> str:
    """A hash of a random password with the configured method (once per process and method)."""
    from flask import current_app
    from werkzeug.security import generate_password_hash

    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        import secrets

        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _DUMMY_HASHES[method]


def authenticate(email: str, password: str) -> User | None:
    """The active account matching e-mail and password, else None.

    A password is hashed whether or not the e-mail has an account (a dummy hash when it has
    none), so the response time does not tell which e-mails have accounts.
    """
    from werkzeug.security import check_password_hash

    user = get_by_email(email)
    if user is None:
        check_password_hash(dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Every session and remember cookie of the account stops working (the caller commits)."""
    user.session_version = (user.session_version or 0) + 1


def set_active(email: str, active: bool, actor=None) -> User:
    """Deactivate (or reactivate) an account: a deactivated one cannot sign in or use the API,
    and its open sessions end at once. Recorded in the audit log."""
    from diagnostic.services import audit

    user = get_by_email(email)
    if user is None:
        raise ServiceError(Refusal.NO_ACCOUNT_WITH_EMAIL, email=email)
    if user.active != active:
        user.active = active
        end_sessions(user)
        audit.record(actor or audit.SYSTEM, "activate" if active else "deactivate", "user", user.id)
    db.session.commit()
    return user


def list_by_role(role: Role | None = None) -> list[User]:
    """Accounts ordered by name, optionally of one role."""
    query = sa.select(User).order_by(User.name)
    if role is not None:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))
