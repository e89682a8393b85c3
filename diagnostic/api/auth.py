"""Bearer-token access for the API: 401 without a valid token, 403 for a role not allowed."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, jsonify, request
from flask_babel import gettext as _

from diagnostic.models import Role
from diagnostic.services import tokens

API_ROLES = (Role.ADMIN, Role.ANALYST)


def error(status: int, message: str, details: list | None = None, **headers: str):
    """A JSON error response with the shape every API error has."""
    response = jsonify(error=status, message=message, details=details or [])
    response.status_code = status
    response.headers.update(headers)
    return response


def token_required(*roles: Role) -> Callable:
    """Require `Authorization: Bearer <token>` of an active user with one of `roles`."""
    allowed = roles or API_ROLES

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return error(401, _("Falta el token de acceso (Authorization: Bearer <token>)."),
                             **{"WWW-Authenticate": 'Bearer realm="apertura"'})
            user = tokens.authenticate(token.strip())
            if user is None:
                return error(401, _("Token de acceso no válido."),
                             **{"WWW-Authenticate": 'Bearer realm="apertura", error="invalid_token"'})
            if user.role not in allowed:
                return error(403, _("Su cuenta no tiene permiso para usar la API."))
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator
