"""The respondent's questionnaire in Chromium (issue 9 §3, issue 13 §1): Enter moves forward,
skip logic never shows an empty page, two tabs never overwrite each other silently, and a
busy server is retried and said."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.e2e.test_browser import page, server, serving  # noqa: F401  (fixtures)
from tests.web.test_respond_skip import skip_setup  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def stored(app) -> dict:
    from diagnostic.extensions import db
    from diagnostic.models import Answer

    with app.app_context():
        rows = db.session.execute(sa.select(Answer.field, Answer.value)).all()
        db.session.remove()
    return dict(rows)


def test_enter_in_a_text_field_saves_and_moves_forward(page, server, setup, app):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{server}/r/{setup.token}/p/1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Solicitudes")
    page.get_by_label("Solicitudes recibidas").fill("1,250")
    page.get_by_label("Solicitudes respondidas en plazo").fill("1 000")
    page.get_by_label("Solicitudes respondidas en plazo").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ejemplos")  # forward, never "Anterior"
    assert stored(app) == {"received": "1250", "answered": "1000"}


def test_answering_no_never_walks_through_empty_pages(page, server, skip_setup, app):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{server}/r/{skip_setup.token}")
    page.get_by_role("link", name="Comenzar").click()
    expect(page.locator(".step")).to_have_text("Página 1 de 2")
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Guardar y continuar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cierre")
    expect(page.locator(".step")).to_have_text("Página 2 de 2")
    expect(page.locator("nav.pages li")).to_have_count(3)  # two pages and the review
    page.get_by_role("button", name="Anterior").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mecanismo")
    page.get_by_label("Sí").check()
    page.get_by_role("button", name="Guardar y continuar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Actores")
    expect(page.locator(".step")).to_have_text("Página 2 de 4")


def test_two_tabs_editing_the_same_field_see_the_conflict(page, server, setup, app):  # noqa: F811
    from playwright.sync_api import expect

    url = f"{server}/r/{setup.token}/p/0"
    page.goto(url)
    page.get_by_label("Sí").check()
    expect(page.locator("#autosave-status")).to_contain_text("Guardado", timeout=10000)
    other = page.context.new_page()
    other.goto(url)  # the second tab shows the same page
    other.get_by_label("Enlace de evidencia").fill("https://segunda.example/")
    expect(other.locator("#autosave-status")).to_contain_text("Guardado", timeout=10000)
    page.get_by_label("Enlace de evidencia").fill("https://primera.example/")  # the first tab, stale
    expect(page.get_by_text("Otra pestaña u otra persona guardó aquí «https://segunda.example/»")).to_be_visible(
        timeout=10000)
    assert stored(app)["unit_url"] == "https://segunda.example/"  # nothing overwritten silently
    page.get_by_role("button", name="Guardar el mío").click()
    expect(page.locator("#autosave-status")).to_contain_text("Guardado", timeout=10000)
    page.wait_for_timeout(300)
    assert stored(app)["unit_url"] == "https://primera.example/"
    # The second tab, now stale, saves its page without touching the field: the newer value stays.
    other.get_by_role("button", name="Guardar y continuar").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Solicitudes")
    assert stored(app)["unit_url"] == "https://primera.example/"


@pytest.fixture
def slow_server(app):
    """The app served in a thread, whose autosaves wait a second before the app handles them (a
    slow network or a busy worker): what lets a page save overtake an autosave already sent."""
    import time

    def slow(environ, start_response):
        if environ["PATH_INFO"].endswith("/autosave"):
            time.sleep(1.0)
        return app(environ, start_response)

    with serving(slow) as url:
        yield url


def test_a_page_save_waits_for_the_autosave_in_flight(page, slow_server, setup, app):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{slow_server}/r/{setup.token}/p/1")
    page.get_by_label("Solicitudes recibidas").fill("7")
    page.get_by_label("Solicitudes respondidas en plazo").fill("5")
    page.wait_for_timeout(900)  # the debounce fired: the autosave (answered 5) is on its way
    page.get_by_label("Solicitudes respondidas en plazo").fill("6")
    page.get_by_role("button", name="Guardar y continuar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ejemplos")
    page.wait_for_timeout(1500)  # anything still on its way has landed
    assert stored(app) == {"received": "7", "answered": "6"}


@pytest.fixture
def impatient_server(app, database_url, tmp_path):
    """The app with a short SQLite busy timeout (a lock held past it answers 503), in a thread."""
    from diagnostic import create_app

    if not database_url.startswith("sqlite"):
        pytest.skip("an SQLite write lock held by another connection")
    busy = create_app({**{k: app.config[k] for k in ("TESTING", "SECRET_KEY", "DATABASE_URL")},
                       "SQLITE_BUSY_TIMEOUT_MS": 200})
    busy.instance_path = str(tmp_path / "busy-instance")
    with serving(busy) as url:
        yield url


def test_a_busy_database_is_retried_with_back_off_and_said(page, impatient_server, setup, app, database_url):  # noqa: F811
    import sqlite3

    from playwright.sync_api import expect

    page.goto(f"{impatient_server}/r/{setup.token}/p/1")
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        page.get_by_label("Solicitudes recibidas").fill("42")
        expect(page.locator("#autosave-status")).to_contain_text("servidor está ocupado", timeout=10000)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    expect(page.locator("#autosave-status")).to_contain_text("Guardado", timeout=15000)  # retried by itself
    assert stored(app) == {"received": "42"}
