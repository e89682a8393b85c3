"""Flask extensions, created unbound and initialised by `create_app`."""
from __future__ import annotations

import sqlalchemy as sa
from babel import Locale
from flask import Flask, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every model, with constraint names Alembic can rely on."""

    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


babel = Babel()
db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()


LANG_COOKIE = "lang"
_LOCALES: dict[str, Locale] = {}


def _locale(code: str) -> Locale:
    """A parsed babel Locale, parsed once per process (Flask-Babel accepts a Locale as is)."""
    locale = _LOCALES.get(code)
    if locale is None:
        locale = _LOCALES[code] = Locale.parse(code)
    return locale


def select_locale() -> Locale:
    """Spanish first: ?lang= (remembered in a plain `lang` cookie), then that cookie, then the
    browser, then the first configured language.

    The choice lives in its own cookie rather than the signed session so that pages read by
    people without an account (respondents, the public) never need a session.
    """
    from flask import current_app, g

    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang")
    if lang in languages:
        if request.cookies.get(LANG_COOKIE) != lang:
            g.remember_lang = lang
        return _locale(lang)
    lang = request.cookies.get(LANG_COOKIE)
    if lang in languages:
        return _locale(lang)
    return _locale(request.accept_languages.best_match(languages) or languages[0])


def remember_lang(response):
    """Store a language chosen with ?lang= for a year (after_request)."""
    from flask import g

    lang = g.pop("remember_lang", None)
    if lang is not None:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def _sqlite_pragmas(busy_ms: int):
    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.close()

    return on_connect


def configure_engine(engine: sa.Engine, busy_ms: int = 10000) -> None:
    """SQLite: WAL, foreign keys and a busy timeout on every new connection."""
    if engine.dialect.name == "sqlite" and not getattr(engine, "_apertura_pragmas", False):
        event.listen(engine, "connect", _sqlite_pragmas(busy_ms))
        engine._apertura_pragmas = True


def init_app(app: Flask) -> None:
    """Bind every extension to the app."""
    babel.init_app(app, locale_selector=select_locale)
    app.after_request(remember_lang)

    @app.context_processor
    def locale_context() -> dict:
        from flask_babel import get_locale

        return {"get_locale": get_locale}
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    csrf.init_app(app)
