"""Access rules in one place: the login loader, role decorators for pages, the bearer-token
decorator for the API, who may read a campaign's results, and the headers every page gets."""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from diagnostic.extensions import db, login_manager
from diagnostic.models import Campaign, CampaignStatus, Role, User

MAX_DB_INT = 2**31 - 1  # PostgreSQL `integer`: larger ids in a URL are simply not found

RESULTS_BEFORE_PUBLISHING = (Role.ADMIN, Role.ANALYST)  # who reads results of unpublished campaigns
API_ROLES = (Role.ADMIN, Role.ANALYST)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Flask-Login: the active user behind a session or remember cookie (`id.version.nonce`).

    A cookie whose version is older than the account's (signed out, deactivated) opens nothing,
    even when it was copied before and its signature is still valid.
    """
    user_id, _sep, rest = str(session_id).partition(".")
    version = rest.partition(".")[0]
    if not (user_id.isdigit() and version.isdigit()) or int(user_id) > MAX_DB_INT:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


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


class Scope:
    """Which states' institutions a staff account may see and act on.

    `states` is None for a national account (and for admins), else the account's state codes
    (a state guarantor body). Every page, export, API endpoint and CLI command that lists or
    opens institutions' data goes through one of these methods.
    """

    def __init__(self, states: frozenset[str] | None):
        self.states = states

    @property
    def national(self) -> bool:
        return self.states is None

    def allows(self, state_code: str | None) -> bool:
        """True when an institution of `state_code` is within this scope."""
        return self.states is None or state_code in self.states

    def restrict(self, statement, state_column):
        """`statement` narrowed to this scope's states (`state_column`: e.g. Institution.state_code)."""
        return statement if self.states is None else statement.where(state_column.in_(sorted(self.states)))

    def require(self, state_code: str | None) -> None:
        """404 (never 403: another state's institutions are not even named) outside the scope."""
        if not self.allows(state_code):
            abort(404)

    def __repr__(self) -> str:
        return "Scope(national)" if self.states is None else f"Scope({sorted(self.states)})"


NATIONAL = Scope(None)


def scope_of(user) -> Scope:
    """The scope of a user (anonymous visitors and admins: national; accounts with states: those)."""
    codes = getattr(user, "state_codes", None) if getattr(user, "is_authenticated", False) else None
    if not codes or getattr(user, "role", None) == Role.ADMIN:
        return NATIONAL
    return Scope(frozenset(codes))


def current_scope() -> Scope:
    """The scope of whoever makes this request: the API token's user, else the signed-in user.

    Outside a request (the CLI, a service called from a test) it is national."""
    from flask import has_request_context

    if not has_request_context():
        return NATIONAL
    user = g.get("api_user") or current_user
    return scope_of(user)


def require_national() -> None:
    """Refuse (403) a campaign-wide change to a state-scoped account (e.g. the campaign's mail wording)."""
    scope = current_scope()
    if not scope.national:
        from diagnostic.services import Refusal, ServiceError
        from diagnostic.services.users import scope_label

        raise ServiceError(Refusal.NATIONAL_STAFF_ONLY, states=scope_label(scope.states))


def scope_or_current(scope: Scope | None) -> Scope:
    """`scope` when given, else the scope of whoever makes the current request (national outside one).

    Services that list or open institutions' data take `scope=None` and call this, so a view that
    forgets to pass its scope still narrows to the signed-in account's states."""
    return current_scope() if scope is None else scope


def can_view_results(campaign: Campaign, user, state_code: str | None = None) -> bool:
    """Published campaigns are public; before publishing only analysts and admins read results:
    national staff every page, a state-scoped analyst only the reports of their own states
    (`state_code`; the portal, national report and open data of an unpublished campaign are
    national staff's)."""
    if campaign.status == CampaignStatus.PUBLISHED:
        return True
    if not (bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in RESULTS_BEFORE_PUBLISHING):
        return False
    scope = scope_of(user)
    return scope.national or (state_code is not None and scope.allows(state_code))


def results_campaign(slug: str, state_code: str | None = None) -> Campaign:
    """The campaign whose results the current visitor may read (the report of `state_code`, or
    the campaign-wide pages without it); 404 when unknown or not visible."""
    from diagnostic.services import campaigns

    campaign = campaigns.get_by_slug(slug)
    if not can_view_results(campaign, current_user, state_code):
        abort(404)
    return campaign


# Scripts only from this site's files (no inline script, no eval); the JSON data block of the
# questionnaire page (<script type="application/json">) is data, never executed, so CSP lets it
# be. Inline styles stay allowed: the report and progress pages compute positions and colours.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")


def secure_headers(response):
    """Headers every page gets: no framing, no content sniffing, same-origin referrers, a
    Content-Security-Policy without inline scripts, and HSTS when served over HTTPS."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    seconds = current_app.config.get("HSTS_SECONDS") or 0
    if current_app.config.get("HTTPS") and seconds:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={int(seconds)}")
    return response


class DatabaseInt(IntegerConverter):
    """`<int:...>` in every URL: beyond the database's integer range is a 404, not a 500.

    The rule still matches (a converter that refused would let the URL fall through to
    another rule and answer, say, 405); the number is refused as not found."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_DB_INT:
            raise NotFound()
        return number


# ------------------------------------------------------------------ respondents' tokens in logs
# The invitation link is the respondent's only credential: no log line may hold it. Every log
# record of the process (app, werkzeug, gunicorn's access and error logs) passes through
# `mask_tokens` when it is created.
TOKEN_IN_PATH = re.compile(r"(/r/)[A-Za-z0-9_\-]{8,}")
MASK = r"\1[token]"


def mask_tokens(text: str) -> str:
    """`text` with every `/r/<token>` replaced by `/r/[token]`."""
    return TOKEN_IN_PATH.sub(MASK, text) if "/r/" in text else text


def install_log_masking() -> None:
    """Mask respondents' tokens in every log record created from now on (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_tokens", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record stays as it was (logging reports it later)
            return record
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    factory.masks_tokens = True
    logging.setLogRecordFactory(factory)


# ------------------------------------------------------------------ input at the edge
MAX_FIELD_NAME = 200
RESPONDENT_AREAS = ("respond", "evaluate")  # questionnaire input: checked by the questionnaire itself
SELF_CHECKING = ("api.submit_responses",)  # JSON bodies whose service checks every value itself


def _nul_in(value: object, path: str) -> str | None:
    """The path of the first string (or key) under `value` holding a NUL byte, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return where
            found = _nul_in(inner, where)
            if found:
                return found
    if isinstance(value, list):
        for i, inner in enumerate(value):
            found = _nul_in(inner, f"{path}[{i}]")
            if found:
                return found
    return None


def refuse_bad_characters() -> None:
    """before_request: a NUL byte in a query argument, form field or JSON value is refused with a
    400 naming the field (PostgreSQL cannot store it; SQLite would, and the data would break on
    migration), and so is a field name too long to be one of ours."""
    from diagnostic.services import Refusal, ServiceError

    if request.blueprint in RESPONDENT_AREAS:
        return
    sources = [request.args]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        sources.append(request.form)
    for source in sources:
        for name, value in source.items(multi=True):
            name, value = name or "", value or ""  # a multipart part may come without a name
            if len(name) > MAX_FIELD_NAME:
                raise ServiceError(Refusal.NAME_TOO_LONG, field=name[:40], maximum=MAX_FIELD_NAME)
            if "\x00" in name or "\x00" in value:
                raise ServiceError(Refusal.INVALID_CHARACTER, field=name.replace("\x00", "\\0")[:80])
    # The bulk submission validates its own answers and lists every error at once (422).
    if request.method in ("POST", "PUT", "PATCH") and request.is_json and request.endpoint not in SELF_CHECKING:
        found = _nul_in(request.get_json(silent=True), "")
        if found:
            raise ServiceError(Refusal.INVALID_CHARACTER, field=found.replace("\x00", "\\0")[:80])
