"""An admin sends the invitations from the campaign page in a real browser (Debian's Chromium),
confirms the count, reads the message in the outbox (no SMTP server configured) and its link
opens the questionnaire."""
from __future__ import annotations

import pytest

from tests.e2e.test_browser import page, server  # noqa: F401  (fixtures)
from tests.web.conftest import Setup

pytestmark = pytest.mark.browser


def test_admin_sends_invitations_and_reads_them_in_the_outbox(page, server, setup):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{server}/auth/login")
    page.get_by_label("Correo electrónico").fill(Setup.admin)
    page.get_by_label("Contraseña").fill(Setup.password)
    page.get_by_role("button", name="Entrar").click()
    page.goto(f"{server}/admin/c/{setup.slug}")
    page.get_by_role("link", name="Enviar invitaciones y recordatorios, y ver el estatus de cada una").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Invitaciones por correo")
    expect(page.locator("#mail-counts dd[data-status=not_sent]")).to_have_text("2")
    page.get_by_role("button", name="Enviar invitaciones…").click()
    expect(page.locator("#confirm-count")).to_contain_text("Se enviará 1 invitación.")
    expect(page.locator("#no-email")).to_contain_text("1 institución no tiene correo de contacto")
    page.get_by_role("button", name="Enviar 1 mensaje").click()
    expect(page.locator("#send-result dd[data-col=sent]")).to_have_text("1")
    expect(page.locator("#send-result dd[data-col=failed]")).to_have_text("0")

    page.get_by_role("link", name="Bandeja de salida").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bandeja de salida")
    expect(page.locator("#outbox")).to_contain_text("ut@finanzas.example")
    page.get_by_role("link", name="Invitación a responder el cuestionario Prueba").click()
    expect(page.locator("#message-to")).to_have_text("ut@finanzas.example")
    body = page.locator("#message-body")
    expect(body).to_contain_text("Secretaría de Finanzas (Querétaro)")
    href = body.locator("a[href*='/r/']").get_attribute("href")
    assert href.startswith("http://apertura.test/r/")  # PUBLIC_URL of the test app

    page.goto(server + href.removeprefix("http://apertura.test"))  # the e-mailed link, on this server
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cuestionario de prueba")
    page.goto(f"{server}/correo/c/{setup.slug}")
    row = page.locator("#mail-roster tr", has_text="Secretaría de Finanzas")
    expect(row.locator("td[data-col=status]")).to_have_text("Enlace abierto")
