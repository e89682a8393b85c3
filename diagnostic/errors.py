"""Error pages and JSON errors: every refusal is a clear page (or JSON), logged, never a 500 trace."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import ClientDisconnected, HTTPException

from diagnostic.services import Refusal, ServiceError
from diagnostic.services.refusals import current_lang

log = logging.getLogger("diagnostic.errors")


def wants_json() -> bool:
    """JSON for API and autosave requests, or when the client prefers it."""
    if request.path.startswith("/api/") or request.path.endswith("/autosave") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def messages() -> dict[int, tuple[str, str]]:
    """Title and explanation per HTTP status, in the current language."""
    return {
        400: (_("Solicitud no válida"), _("La solicitud no se pudo procesar. Vuelva a intentarlo.")),
        403: (_("Acceso denegado"), _("Su cuenta no tiene permiso para ver esta página.")),
        404: (_("Página no encontrada"), _("La dirección no existe o ya no está disponible.")),
        405: (_("Método no permitido"), _("Esta dirección no acepta esa operación.")),
        409: (_("Conflicto"), _("La operación no es posible en el estado actual.")),
        410: (_("Ya no disponible"), _("Este recurso ya no está disponible.")),
        413: (_("Archivo demasiado grande"), _("El archivo supera el tamaño máximo permitido.")),
        415: (_("Tipo de archivo no admitido"), _("Use un archivo CSV o XLSX.")),
        422: (_("Datos no válidos"), _("Revise los datos enviados.")),
        429: (_("Demasiadas solicitudes"), _("Se hicieron demasiados intentos desde esta dirección. Espere unos minutos y vuelva a intentarlo.")),
        500: (_("Error interno"), _("Algo falló de nuestro lado. No se guardó nada a medias.")),
        503: (_("Servicio no disponible por un momento"), _("Vuelva a intentarlo en unos segundos.")),
    }


def render_error(code: int, message: str | None = None, details: list | None = None,
                 refusal: str | None = None, json_details: list | None = None):
    """An error as HTML page or JSON with the given status (`refusal`: the service refusal's code)."""
    title, default = messages().get(code, messages()[400 if code < 500 else 500])
    if wants_json():
        body = {"error": code, "title": title, "message": message or default,
                "details": json_details if json_details is not None else details or []}
        if refusal:
            body["code"] = refusal
        return jsonify(body), code
    return render_template("error.html", title=title, message=message or default, details=details or [],
                           code=code, refusal=refusal), code


RETRY_AFTER_SECONDS = 5
# Database errors that pass (a lock held past the busy timeout, a server restarting, a dropped
# connection, an exhausted pool), unlike a bug such as a missing table that retrying cannot fix.
_PERMANENT = ("no such table", "no such column", "does not exist", "syntax error")


def transient(exc: Exception) -> bool:
    """True for a database error worth retrying: answered 503 with Retry-After, not 500."""
    if isinstance(exc, sa.exc.TimeoutError):
        return True
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).lower()
        return not any(marker in text for marker in _PERMANENT)
    return False


def refuse_cut_bodies():
    """A request whose body is shorter than its Content-Length (the connection closed half-way;
    gunicorn hands the app what arrived) is refused before any view reads a half form as a
    whole one. The body is kept (cached) for the form parser, within MAX_CONTENT_LENGTH."""
    declared = request.content_length
    if request.method not in ("POST", "PUT", "PATCH") or not declared:
        return None
    limit = request.max_content_length
    if limit is not None and declared > limit:
        return None  # Werkzeug answers 413
    try:
        received = len(request.get_data(cache=True))
    except ClientDisconnected:
        received = 0
    if received < declared:
        raise ServiceError(Refusal.BODY_INCOMPLETE, received=received, declared=declared)
    return None


def init_app(app: Flask) -> None:
    """Register the handlers."""

    # First of all (before CSRF protection or any view parses the form from the stream).
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_cut_bodies)

    @app.errorhandler(sa.exc.SQLAlchemyError)
    def database_error(exc: sa.exc.SQLAlchemyError):
        from diagnostic.extensions import db

        try:
            db.session.rollback()
        except sa.exc.SQLAlchemyError:  # the connection itself is gone: the pool replaces it
            db.session.close()
        if not transient(exc):
            log.exception("unhandled database error on %s %s", request.method, request.path)
            return render_error(500)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc.__class__.__name__)
        lang = current_lang()
        body, code = render_error(503, Refusal.DATABASE_BUSY.render(lang), refusal=Refusal.DATABASE_BUSY.code)
        response = app.make_response((body, code))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        log.warning("refused %s %s: %s %s %s", request.method, request.path, exc.status, exc.code,
                    exc.message_for("es"))
        from diagnostic.extensions import db

        db.session.rollback()
        lang = current_lang()
        return render_error(exc.status, exc.message_for(lang), exc.details_for(lang), refusal=exc.code,
                            json_details=exc.details_json(lang))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        log.warning("CSRF refused %s %s: %s", request.method, request.path, exc.description)
        from flask_login import current_user

        from diagnostic.auth.carry import carries_form, login_to_continue, resend_expired_form

        if not wants_json() and carries_form():  # keep what was typed: nothing was saved
            return resend_expired_form() if current_user.is_authenticated else login_to_continue()
        return render_error(400, _("El formulario caducó o no es válido. Recargue la página y vuelva a intentarlo."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code and exc.code >= 400:
            log.warning("HTTP %s on %s %s", exc.code, request.method, request.path)
        if exc.code is None or exc.code < 400:
            return exc
        return render_error(exc.code)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        from diagnostic.extensions import db

        db.session.rollback()
        return render_error(500)
