"""A micro-cache in front of Flask for respondents' questionnaire pages that have not changed.

Respondents come back to pages they have already seen: a reload, the browser's back
button, the progress links, the link opened again the next morning. When nothing was saved
in between, the page is byte for byte what Flask sent last time, so this WSGI middleware
replays that response (status, headers and body exactly as Flask produced them) after one
query that checks, at that moment, both
- that the link is still usable (not revoked, not expired, its campaign open), and
- that the response's version (`updated_at`, `status`) is the one the page was rendered
  from (every save bumps it, so an edited or submitted response is never replayed), and the
  institution and campaign names in its header are unchanged.

What it never does:
- serve anything Flask has not marked cacheable (`ENVIRON_KEY`, set by the page view for
  the institution questionnaire of an anonymous respondent, with the version it rendered);
- touch a request with a query string, a method other than GET, or any cookie besides the
  `lang` choice (a session, a flash message, a signed-in user all go to Flask).
Anything unexpected (a refused link, a database error) goes to Flask, which answers it.

``RESPONDENT_PAGE_CACHE = False`` removes the middleware. Each worker process has its own
cache; the database check keeps workers consistent with each other.
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import sqlalchemy as sa

from diagnostic.cache import LRU
from diagnostic.extensions import LANG_COOKIE, raw_fetchone
from diagnostic.models import CampaignStatus

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


LINK_SQL = """SELECT r.updated_at, r.status, n.name, c.name, i.revoked_at, i.expires_at, c.status
FROM invitations i JOIN campaigns c ON c.id = i.campaign_id
JOIN institutions n ON n.id = i.institution_id
JOIN responses r ON r.campaign_id = i.campaign_id AND r.institution_id = i.institution_id
WHERE i.token_hash = :hash AND r.id = :rid"""


def _utc(value) -> datetime:
    """A timestamp as the DBAPI returns it (SQLite: naive-UTC text; PostgreSQL: aware) in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def usable_version(engine: sa.Engine, link: str, response_id: int) -> tuple | None:
    """What a page shows that can change when the link (token sha256) still opens it, else None:
    the response's version (`updated_at`, `status`), then the institution's and campaign's names.

    One statement on a pooled DBAPI connection: it runs on every replayed page.
    """
    row = raw_fetchone(engine, LINK_SQL, {"hash": link, "rid": response_id})
    if row is None:
        return None
    *shown, revoked_at, expires_at, campaign_status = row
    if revoked_at is not None or str(campaign_status) != CampaignStatus.OPEN.value:
        return None
    if expires_at is not None and _utc(expires_at) < datetime.now(UTC):
        return None
    return tuple(str(value) for value in shown)


class PageMicroCache:
    """WSGI middleware replaying unchanged respondent pages (see the module docstring)."""

    def __init__(self, wsgi_app: Callable, engine: sa.Engine, size: int = 2048):
        self.wsgi_app = wsgi_app
        self.engine = engine
        self.links = LRU(size=2 * size)  # token sha256 → response id
        self.pages = LRU(size=size)  # (response id, page, language inputs) → (shown, status, headers, body)

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
                shown, status, headers, body = stored
                try:
                    current = usable_version(self.engine, link, response_id)
                except sa.exc.SQLAlchemyError:  # let Flask answer (and report) a database problem
                    log.exception("page cache: link check failed")
                    current = None
                if current == shown:
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
        try:
            shown = usable_version(self.engine, link, response_id)
        except sa.exc.SQLAlchemyError:
            log.exception("page cache: link check failed")
            shown = None
        if shown is not None and shown[:2] == version:  # not saved again while the page was rendered
            self.links.set(link, response_id)
            self.pages.set((response_id, page, language), (shown, status, tuple(headers), body))
        return [body]


def install(app) -> None:
    """Put the micro-cache in front of the app unless RESPONDENT_PAGE_CACHE is off."""
    if not app.config["RESPONDENT_PAGE_CACHE"]:
        return
    from diagnostic.extensions import db

    with app.app_context():
        engine = db.engine
    app.wsgi_app = PageMicroCache(app.wsgi_app, engine)
