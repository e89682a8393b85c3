"""A micro-cache in front of Flask for respondents' questionnaire pages that have not changed.

Respondents come back to pages they have already seen: a reload, the browser's back
button, the progress links, the link opened again the next morning. When nothing was saved
in between, the page is byte for byte what Flask sent last time, so this WSGI middleware
replays that response (status, headers and body exactly as Flask produced them) after one
check: the response's version in the database (`updated_at`, `status`) is still the one the
page was rendered from. Every save bumps that version, so an edited or submitted response
is never served from here.

What it never does:
- serve anything Flask has not marked cacheable (`ENVIRON_KEY`, set by the page view for
  the institution questionnaire of an anonymous respondent, with the version it rendered);
- touch a request with a query string, a method other than GET, or any cookie besides the
  `lang` choice (a session, a flash message, a signed-in user all go to Flask);
- trust a link for longer than ``RESPONDENT_CACHE_SECONDS``: after that the request goes
  through Flask, which checks the invitation again (revoked, expired, campaign closed).

``RESPONDENT_CACHE_SECONDS = 0`` removes the middleware. Each worker process has its own
cache; the database check keeps workers consistent with each other.
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable

import sqlalchemy as sa

from diagnostic.cache import LRU
from diagnostic.extensions import LANG_COOKIE
from diagnostic.flow import response_version

log = logging.getLogger(__name__)

ENVIRON_KEY = "apertura.cacheable_page"  # (response_id, version) the page view rendered from
PAGE_PATH = re.compile(r"/r/([A-Za-z0-9_\-]{16,128})/p/(\d{1,4})")

def _language_inputs(environ: dict) -> tuple[str, str] | None:
    """What the page's language depends on (the `lang` cookie, Accept-Language), or None
    when the request carries any other cookie and must go to Flask."""
    chosen = ""
    cookie_header = environ.get("HTTP_COOKIE", "")
    if cookie_header:
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if not name:
                continue
            if name != LANG_COOKIE:
                return None
            chosen = value
    return chosen, environ.get("HTTP_ACCEPT_LANGUAGE", "")


class PageMicroCache:
    """WSGI middleware replaying unchanged respondent pages (see the module docstring)."""

    def __init__(self, wsgi_app: Callable, engine: sa.Engine, link_seconds: float, size: int = 4096):
        self.wsgi_app = wsgi_app
        self.engine = engine
        self.links = LRU(size=2 * size, ttl=link_seconds)  # token hash → response id
        self.pages = LRU(size=size)  # (response id, page, language inputs) → (version, status, headers, body)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        match = PAGE_PATH.fullmatch(environ.get("PATH_INFO", ""))
        language = _language_inputs(environ) if match else None
        if language is None:
            return self.wsgi_app(environ, start_response)
        link = hashlib.sha256(match.group(1).encode()).hexdigest()
        page = int(match.group(2))
        response_id = self.links.get(link)
        if response_id is not None:
            stored = self.pages.get((response_id, page, language))
            if stored is not None:
                version, status, headers, body = stored
                try:
                    current = response_version(response_id, self.engine)
                except sa.exc.SQLAlchemyError:  # let Flask answer (and report) a database problem
                    log.exception("page cache: version check failed")
                    current = None
                if current == version:
                    start_response(status, list(headers))
                    return [body]
        return self._record(environ, start_response, link, page, language)

    def _record(self, environ: dict, start_response: Callable, link: str, page: int,
                language: tuple[str, str]) -> Iterable[bytes]:
        """Let Flask answer; keep the answer when the view marked it cacheable."""
        captured: list = []

        def capture(status: str, headers: list, exc_info=None):
            captured[:] = [status, headers]
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        marked = environ.get(ENVIRON_KEY)
        if not marked or not captured or not captured[0].startswith("200"):
            return result
        status, headers = captured
        if any(name.lower() == "set-cookie" for name, _ in headers):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        response_id, version = marked
        self.links.set(link, response_id)
        self.pages.set((response_id, page, language), (version, status, tuple(headers), body))
        return [body]


def install(app) -> None:
    """Put the micro-cache in front of the app unless RESPONDENT_CACHE_SECONDS is 0."""
    seconds = float(app.config["RESPONDENT_CACHE_SECONDS"] or 0)
    if seconds <= 0:
        return
    from diagnostic.extensions import db

    with app.app_context():
        engine = db.engine
    app.wsgi_app = PageMicroCache(app.wsgi_app, engine, seconds)
