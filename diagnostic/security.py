"""Access rules in one place: the login loader, role decorators for pages, the bearer-token
decorator for the API, who may read a campaign's results, and the headers every page gets."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from diagnostic.extensions import db, login_manager
from diagnostic.models import Campaign, CampaignStatus, Role, User

RESULTS_BEFORE_PUBLISHING = (Role.ADMIN, Role.ANALYST)  # who reads results of unpublished campaigns
API_ROLES = (Role.ADMIN, Role.ANALYST)


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
                    return jsonify(error="login", message=_("Inicie sesión de nuevo; sus cambios esperan en este navegador.")), 401
                from diagnostic.auth.carry import carries_form, login_to_continue

                if carries_form():
                    return login_to_continue()  # the posted form is carried through the sign-in
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = roles_required(Role.ADMIN)
analyst_required = roles_required(Role.ADMIN, Role.ANALYST)
evaluator_required = roles_required(Role.EVALUATOR, Role.ADMIN)


def api_error(status: int, message: str, details: list | None = None, **headers: str):
    """A JSON error response with the shape every API error has."""
    response = jsonify(error=status, message=message, details=details or [])
    response.status_code = status
    response.headers.update(headers)
    return response


def token_required(*roles: Role) -> Callable:
    """Require `Authorization: Bearer <token>` of an active user with one of `roles` (API)."""
    allowed = roles or API_ROLES

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            from diagnostic.services import tokens

            scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return api_error(401, _("Falta el token de acceso (Authorization: Bearer <token>)."),
                                 **{"WWW-Authenticate": 'Bearer realm="apertura"'})
            user = tokens.authenticate(token.strip())
            if user is None:
                return api_error(401, _("Token de acceso no válido."),
                                 **{"WWW-Authenticate": 'Bearer realm="apertura", error="invalid_token"'})
            if user.role not in allowed:
                return api_error(403, _("Su cuenta no tiene permiso para usar la API."))
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


def evaluates_any_institution(user) -> bool:
    """Admins may open any institution's evaluation; evaluators only their assignments."""
    return getattr(user, "role", None) == Role.ADMIN


def can_view_results(campaign: Campaign, user) -> bool:
    """Published campaigns are public; other states only for analysts and admins."""
    if campaign.status == CampaignStatus.PUBLISHED:
        return True
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in RESULTS_BEFORE_PUBLISHING


def results_campaign(slug: str) -> Campaign:
    """The campaign whose results the current visitor may read; 404 when unknown or not visible."""
    from diagnostic.services import campaigns

    campaign = campaigns.get_by_slug(slug)
    if not can_view_results(campaign, current_user):
        abort(404)
    return campaign


def secure_headers(response):
    """Headers every page gets: no framing, no content sniffing, same-origin referrers."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
