"""Access rules in one place: role decorators, the login loader and request-size guards."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, jsonify, request
from flask_login import current_user

from diagnostic.extensions import db, login_manager
from diagnostic.models import Role, User

# Who may do what: admins can do everything analysts can; evaluators only their own work.
STAFF = (Role.ADMIN, Role.ANALYST)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login: the active user behind a session id."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


def roles_required(*roles: Role) -> Callable:
    """Allow only logged-in users with one of `roles` (401 → login page, 403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.is_json or request.path.endswith("/autosave"):
                    return jsonify(error="login", message="Inicie sesión de nuevo; sus cambios esperan en este navegador."), 401
                from diagnostic.auth import carries_form, login_to_continue

                if carries_form():
                    return login_to_continue()  # the posted form is carried through the sign-in
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def secure_headers(response):
    """Headers every page gets: no framing, no content sniffing, same-origin referrers."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


admin_required = roles_required(Role.ADMIN)
analyst_required = roles_required(Role.ADMIN, Role.ANALYST)
evaluator_required = roles_required(Role.EVALUATOR, Role.ADMIN)
staff_required = roles_required(Role.ADMIN, Role.ANALYST, Role.EVALUATOR)
