"""Error pages and JSON errors: every refusal is a clear page (or JSON), logged, never a 500 trace."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from diagnostic.services import ServiceError
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


def init_app(app: Flask) -> None:
    """Register the handlers."""

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
