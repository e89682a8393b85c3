"""The respondent page micro-cache: unchanged pages are replayed, and never anything stale."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from diagnostic import create_app
from diagnostic.extensions import db
from diagnostic.models import Invitation, utcnow
from diagnostic.respond.pagecache import PageMicroCache
from tests.web.conftest import login


class Counting:
    """Counts the requests that reach Flask behind the micro-cache."""

    def __init__(self, app):
        self.cache = app.wsgi_app
        assert isinstance(self.cache, PageMicroCache)
        self.inner = self.cache.wsgi_app
        self.calls = 0
        self.cache.wsgi_app = self

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.inner(environ, start_response)


def page(setup, n: int = 1) -> str:
    return f"/r/{setup.token}/p/{n}"


def test_an_unchanged_page_is_replayed_with_the_same_bytes_and_headers(app, setup):
    flask = Counting(app)
    client = app.test_client()
    first = client.get(page(setup))
    again = client.get(page(setup))
    assert flask.calls == 1  # the second view never entered Flask
    assert again.status_code == 200 and again.data == first.data
    assert dict(again.headers) == dict(first.headers)
    assert again.headers["Cache-Control"] == "no-store" and again.headers["Referrer-Policy"] == "no-referrer"


def test_every_save_is_shown_at_once(app, setup):
    flask = Counting(app)
    client = app.test_client()
    client.get(page(setup))
    assert client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "8"}}).status_code == 200
    shown = client.get(page(setup)).get_data(as_text=True)
    assert 'value="8"' in shown
    assert flask.calls == 3  # page, autosave, and the page again (its version changed)


def test_a_save_through_another_worker_is_seen_by_this_one(app, setup, database_url):
    client = app.test_client()
    assert 'value="8"' not in client.get(page(setup)).get_data(as_text=True)
    other_worker = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": database_url})
    try:
        saved = other_worker.test_client().post(f"/r/{setup.token}/autosave", json={"answers": {"received": "8"}})
        assert saved.status_code == 200
    finally:
        with other_worker.app_context():
            db.engine.dispose()
    assert 'value="8"' in client.get(page(setup)).get_data(as_text=True)


def test_submitted_responses_are_not_replayed_as_editable(app, setup):
    client = app.test_client()
    editable = client.get(page(setup, 0)).get_data(as_text=True)
    assert 'name="has_unit"' in editable
    with app.app_context():
        from diagnostic.models import Response, ResponseStatus

        response = db.session.scalar(sa.select(Response))
        response.status = ResponseStatus.SUBMITTED  # as an API bulk submission would leave it
        response.updated_at = utcnow()
        db.session.commit()
    locked = client.get(page(setup, 0)).get_data(as_text=True)
    assert "solo lectura" in locked and 'name="has_unit"' not in locked


def test_each_language_gets_its_own_copy(app, setup):
    client = app.test_client()
    assert "¿Tiene unidad de transparencia?" in client.get(page(setup, 0)).get_data(as_text=True)
    english = app.test_client()
    english.get(page(setup, 0) + "?lang=en")  # sets the lang cookie
    assert "Does it have a transparency unit?" in english.get(page(setup, 0)).get_data(as_text=True)
    browser = app.test_client()
    html = browser.get(page(setup, 0), headers={"Accept-Language": "en-US,en;q=0.8"}).get_data(as_text=True)
    assert "Does it have a transparency unit?" in html
    assert "¿Tiene unidad de transparencia?" in client.get(page(setup, 0)).get_data(as_text=True)


def test_signed_in_staff_and_sessions_always_go_to_flask(app, setup):
    flask = Counting(app)
    anonymous = app.test_client()
    anonymous.get(page(setup))
    anonymous.get(page(setup))
    assert flask.calls == 1
    admin = app.test_client()
    login(admin, setup.admin)
    before = flask.calls
    html = admin.get(page(setup)).get_data(as_text=True)
    assert flask.calls == before + 1 and setup.admin in html


def test_an_expired_revoked_or_closed_link_is_refused_at_once(app, setup):
    from diagnostic.services import campaigns, invitations

    client = app.test_client()
    flask = Counting(app)

    def change(**values):
        with app.app_context():
            invitation = db.session.scalar(sa.select(Invitation))
            for name, value in values.items():
                setattr(invitation, name, value)
            db.session.commit()

    assert client.get(page(setup)).status_code == 200
    assert client.get(page(setup)).status_code == 200 and flask.calls == 1  # replayed
    change(expires_at=utcnow() - timedelta(minutes=1))
    expired = client.get(page(setup))
    assert expired.status_code == 410 and "venció" in expired.get_data(as_text=True)
    change(expires_at=utcnow() + timedelta(days=30))
    assert client.get(page(setup)).status_code == 200
    with app.app_context():
        invitations.revoke(db.session.scalar(sa.select(Invitation)))
    assert client.get(page(setup)).status_code == 410
    change(revoked_at=None)
    assert client.get(page(setup)).status_code == 200
    with app.app_context():
        campaigns.set_status(campaigns.get_by_slug(setup.slug), "closed")
    closed = client.get(page(setup))
    assert closed.status_code == 410 and "cerrada" in closed.get_data(as_text=True)


def test_the_micro_cache_can_be_turned_off(database_url, app):
    off = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": database_url,
                      "RESPONDENT_PAGE_CACHE": False})
    try:
        assert not isinstance(off.wsgi_app, PageMicroCache)
    finally:
        with off.app_context():
            db.engine.dispose()


def test_a_renamed_institution_shows_its_new_name_at_once(app, setup):
    from diagnostic.models import Institution

    client = app.test_client()
    assert "Secretaría de Finanzas" in client.get(page(setup)).get_data(as_text=True)
    with app.app_context():
        db.session.get(Institution, setup.institution_id).name = "Secretaría de Finanzas y Planeación"
        db.session.commit()
    assert "Secretaría de Finanzas y Planeación" in client.get(page(setup)).get_data(as_text=True)


def test_a_reissued_link_never_gets_pages_pointing_to_the_old_one(app, setup):
    from diagnostic.models import Institution
    from diagnostic.services import campaigns, invitations

    old = app.test_client()
    old.get(page(setup, 0))
    old.get(page(setup, 1))
    with app.app_context():
        new_token = invitations.create(campaigns.get_by_slug(setup.slug),
                                       db.session.get(Institution, setup.institution_id))
    client = app.test_client()
    client.get(f"/r/{new_token}/p/0")
    html = client.get(f"/r/{new_token}/p/1").get_data(as_text=True)
    assert f"/r/{new_token}/p/1" in html and setup.token not in html
    assert old.get(page(setup, 1)).status_code in (404, 410)  # the old link is gone


def test_a_page_drawn_while_the_response_was_submitted_is_not_replayed(app, setup):
    from sqlalchemy import event

    from diagnostic.models import Response

    client = app.test_client()
    client.get(f"/r/{setup.token}")  # the draft exists

    fired = []

    def submitted_meanwhile(target, _context):
        """Another request submits right after this one loaded the response."""
        if not fired:
            fired.append(True)
            with app.app_context(), db.engine.begin() as conn:
                conn.execute(sa.update(Response).values(status="submitted", updated_at=utcnow()))

    event.listen(Response, "load", submitted_meanwhile)
    try:
        drawn = client.get(page(setup, 0)).get_data(as_text=True)
    finally:
        event.remove(Response, "load", submitted_meanwhile)
    assert fired
    assert 'name="has_unit"' in drawn  # drawn from the draft it had loaded
    after = client.get(page(setup, 0)).get_data(as_text=True)
    assert "solo lectura" in after and 'name="has_unit"' not in after


def test_a_replayed_page_is_where_the_link_resumes(app, setup):
    client = app.test_client()
    client.get(page(setup, 1))
    client.get(page(setup, 0))
    flask = Counting(app)
    client.get(page(setup, 1))
    assert flask.calls == 0  # replayed
    resume = client.get(f"/r/{setup.token}/resume")
    assert resume.headers["Location"].endswith("/p/1")


def test_two_lang_cookies_are_left_to_flask_and_never_stored_for_others(app, setup):
    confused = app.test_client()
    confused.get(page(setup, 0), headers={"Cookie": "lang=en; lang=es"})
    spanish = app.test_client()
    spanish.set_cookie("lang", "es")
    assert "¿Tiene unidad de transparencia?" in spanish.get(page(setup, 0)).get_data(as_text=True)


def test_a_moved_institution_shows_its_new_state_at_once(app, setup):
    from diagnostic.models import Institution

    client = app.test_client()
    assert "Querétaro" in client.get(page(setup)).get_data(as_text=True)
    with app.app_context():
        db.session.get(Institution, setup.institution_id).state_code = "14"
        db.session.commit()
    assert "Jalisco" in client.get(page(setup)).get_data(as_text=True)
