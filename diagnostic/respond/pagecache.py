"""A micro-cache in front of Flask for respondents' questionnaire pages that have not changed.

Respondents come back to pages they have already seen: a reload, the browser's back
button, the progress links, the link opened again the next morning. When nothing was saved
in between, the page is byte for byte what Flask sent last time, so this WSGI middleware
replays that response (status, headers and body exactly as Flask produced them) after one
query that checks, at that moment, both
- that the link is still usable (not revoked, not expired, its campaign open), and
- that the response's version (`updated_at`, `status`) is the one the page was rendered
  from (every save bumps it, so an edited or submitted response is never replayed), and the
  institution (name, state) and campaign name in its header are unchanged.
A replay also records the page to resume from, as a Flask render does.

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
from diagnostic.extensions import LANG_COOKIE, raw_execute, raw_fetchone
from diagnostic.models import CampaignStatus, ResponseStatus

log = logging.getLogger(__name__)

ENVIRON_KEY = "apertura.cacheable_page"  # (response_id, version) the page view rendered from
PAGE_PATH = re.compile(r"/r/([A-Za-z0-9_\-]{16,128})/p/(\d{1,4})")


def _language_inputs(environ: dict) -> tuple[str, str] | None:
    """What the page's language depends on (the `lang` cookie, Accept-Language), or None
    when the request carries any other cookie and must go to Flask."""
    chosen, seen = "", False
    cookie_header = environ.get("HTTP_COOKIE", "")
    if cookie_header:
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if not name:
                continue
            if name != LANG_COOKIE or seen:  # another cookie, or two `lang` (which one wins is Flask's call)
                return None
            chosen, seen = value, True
    return chosen, environ.get("HTTP_ACCEPT_LANGUAGE", "")


LINK_SQL = """SELECT r.updated_at, r.status, n.name, n.state_code, c.name, r.last_page, i.revoked_at, i.expires_at, c.status
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
    """(shown, last page) when the link (token sha256) still opens the response, else None.

    `shown` is what a page shows that can change: the response's version (`updated_at`,
    `status`), the institution's name and state, the campaign's name. One statement on a
    pooled DBAPI connection: it runs on every replayed page.
    """
    row = raw_fetchone(engine, LINK_SQL, {"hash": link, "rid": response_id})
    if row is None:
        return None
    *shown, last_page, revoked_at, expires_at, campaign_status = row
    if revoked_at is not None or str(campaign_status) != CampaignStatus.OPEN.value:
        return None
    if expires_at is not None and _utc(expires_at) < datetime.now(UTC):
        return None
    return tuple(str(value) for value in shown), last_page


class PageMicroCache:
    """WSGI middleware replaying unchanged respondent pages (see the module docstring)."""

    def __init__(self, wsgi_app: Callable, engine: sa.Engine, size: int = 2048):
        self.wsgi_app = wsgi_app
        self.engine = engine
        self.links = LRU(size=2 * size)  # token sha256 → response id
        self.pages = LRU(size=size)  # (token sha256, page, language inputs) → (shown, status, headers, body)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        match = PAGE_PATH.fullmatch(environ.get("PATH_INFO", ""))
        language = _language_inputs(environ) if match else None
        if language is None:
            return self.wsgi_app(environ, start_response)
        link = hashlib.sha256(match.group(1).encode()).hexdigest()
        key = (link, int(match.group(2)), language)  # the link is in the page's URLs: part of the key
        response_id = self.links.get(link)
        stored = self.pages.get(key) if response_id is not None else None
        if stored is not None:
            shown, status, headers, body = stored
            if self._still_shown(link, response_id, key[1], shown):
                start_response(status, list(headers))
                return [body]
        return self._record(environ, start_response, link, key)

    def _still_shown(self, link: str, response_id: int, page: int, shown: tuple) -> bool:
        """Whether a stored page is still exactly what Flask would render (and remember the
        page to resume from, as Flask does). Any database problem: no, let Flask answer."""
        try:
            current = usable_version(self.engine, link, response_id)
            if current is None or current[0] != shown:
                return False
            if current[1] != page and shown[1] == ResponseStatus.DRAFT.value:
                raw_execute(self.engine, "UPDATE responses SET last_page = :page WHERE id = :rid",
                            {"page": page, "rid": response_id})
            return True
        except Exception:  # noqa: BLE001 (driver errors are not SQLAlchemy's); Flask answers and reports
            log.exception("page cache: link check failed")
            return False

    def _record(self, environ: dict, start_response: Callable, link: str, key: tuple) -> Iterable[bytes]:
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
            current = usable_version(self.engine, link, response_id)
        except Exception:  # noqa: BLE001 the page is already rendered: send it, just do not keep it
            log.exception("page cache: link check failed")
            current = None
        if current is not None and current[0][:2] == version:  # not saved again while the page was rendered
            self.links.set(link, response_id)
            self.pages.set(key, (current[0], status, tuple(headers), body))
        return [body]


def install(app) -> None:
    """Put the micro-cache in front of the app unless RESPONDENT_PAGE_CACHE is off."""
    if not app.config["RESPONDENT_PAGE_CACHE"]:
        return
    from diagnostic.extensions import db

    with app.app_context():
        engine = db.engine
    app.wsgi_app = PageMicroCache(app.wsgi_app, engine)
