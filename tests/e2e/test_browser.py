"""A respondent in a real browser (Debian's Chromium through Playwright): live skip logic,
autosave, a reload mid-way that loses nothing, and submission."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@contextmanager
def serving(wsgi_app) -> Iterator[str]:
    """A WSGI app served on 127.0.0.1 (a free port) in a thread; its base URL."""
    httpd = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


@pytest.fixture
def server(app):
    """The app served on 127.0.0.1 (a free port) in a thread."""
    with serving(app) as url:
        yield url


@pytest.fixture
def page(server):
    """A fresh Chromium page."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI")
        pytest.skip("Debian's chromium is not installed; `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="es-MX")
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        context.close()
        browser.close()


def test_respondent_completes_with_skip_logic_reload_and_submission(page, server, setup):
    from playwright.sync_api import expect

    page.goto(f"{server}/r/{setup.token}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cuestionario de prueba")
    page.get_by_role("link", name="Comenzar").click()

    evidence = page.get_by_label("Enlace de evidencia")
    expect(evidence).to_be_hidden()
    page.get_by_label("Sí").check()
    expect(evidence).to_be_visible()  # live skip logic, no round trip
    evidence.fill("https://transparencia.example.gob.mx/unidad")
    page.get_by_label("Correo").check()
    expect(page.locator("#autosave-status")).to_contain_text("Guardado", timeout=10000)

    page.reload()  # mid-way: everything typed was autosaved
    expect(page.get_by_label("Sí")).to_be_checked()
    expect(page.get_by_label("Enlace de evidencia")).to_have_value("https://transparencia.example.gob.mx/unidad")
    expect(page.get_by_label("Correo")).to_be_checked()
    page.get_by_label("No", exact=True).check()
    expect(page.get_by_label("Enlace de evidencia")).to_be_hidden()
    page.get_by_label("Sí").check()
    page.get_by_role("button", name="Guardar y continuar").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Solicitudes")
    page.get_by_label("Solicitudes recibidas").fill("10")
    page.get_by_label("Solicitudes respondidas en plazo").fill("12")
    expect(page.get_by_text("No puede exceder las recibidas")).to_be_visible(timeout=10000)  # autosave's server check
    page.get_by_label("Solicitudes respondidas en plazo").fill("8")
    page.get_by_role("button", name="Guardar y continuar").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Ejemplos")
    page.get_by_label("Tema").fill("Presupuesto 2025")
    page.get_by_role("button", name="Guardar y revisar").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Revisión antes de enviar")
    page.get_by_role("button", name="Enviar respuesta").click()  # the browser asks for the confirmation first
    expect(page.get_by_role("heading", level=1)).to_have_text("Revisión antes de enviar")
    page.get_by_label("confirmo que quiero enviar").check()
    page.get_by_role("button", name="Enviar respuesta").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acuse de envío")
    expect(page.locator(".fingerprint")).to_contain_text("sha256:")
    expect(page.get_by_text("Presupuesto 2025")).to_be_visible()
