"""Flask extensions, created unbound and initialised by `create_app`."""
from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel

babel = Babel()


def select_locale() -> str:
    """Spanish first: ?lang=, then the session choice, then the browser, then es."""
    from flask import current_app, session

    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang")
    if lang in languages:
        session["lang"] = lang
        return lang
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or languages[0]


def init_app(app: Flask) -> None:
    """Bind every extension to the app."""
    babel.init_app(app, locale_selector=select_locale)
