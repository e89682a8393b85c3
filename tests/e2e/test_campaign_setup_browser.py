"""An admin sets a campaign up from an empty database in a real browser (Debian's Chromium):
creates it, uploads the government questionnaire, tries to open it and reads the checklist,
chooses the shipped index model and previews it at work."""
from __future__ import annotations

import pytest

from tests.e2e.test_browser import page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_admin_sets_up_a_campaign_with_an_index_model(app, page, server, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    created = app.test_cli_runner().invoke(args=["users", "create", "admin@garante.example", "--role", "admin",
                                                 "--password", "una clave larga"])
    assert created.exit_code == 0, created.output

    page.goto(f"{server}/auth/login")
    page.get_by_label("Correo electrónico").fill("admin@garante.example")
    page.get_by_label("Contraseña").fill("una clave larga")
    page.get_by_role("button", name="Entrar").click()
    page.goto(f"{server}/admin/")
    expect(page.get_by_text("Aún no hay campañas.")).to_be_visible()
    page.get_by_label("Nombre").fill("Diagnóstico Jalisco 2026")
    page.get_by_label("Año").fill("2026")
    page.get_by_role("button", name="Crear campaña").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Diagnóstico Jalisco 2026 (2026)")
    expect(page.locator("#campaign-status")).to_have_text("Borrador")

    page.locator("#instrument-file").set_input_files(str(ROOT / "surveys" / "definitions" / "gobierno.yaml"))
    page.get_by_role("button", name="Asignar instrumento").click()
    expect(page.get_by_text("Instrumento asignado")).to_be_visible()

    page.get_by_role("button", name="Abrir").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("La campaña aún no se puede abrir")
    missing = page.locator(".checklist li.missing")
    expect(missing).to_have_count(1)
    expect(missing).to_contain_text("La campaña no tiene instituciones")
    expect(page.locator('.checklist li[data-item="index_model"]')).to_contain_text("Sin modelo de índice")
    expect(page.locator('.checklist li[data-item="institution_instrument"]')).to_have_class("ok")
    page.screenshot(path=str(tmp_path / "checklist.png"), full_page=True)
    page.get_by_role("link", name="Volver a la campaña para completarla").click()

    page.get_by_label("Modelo incluido").select_option("apertura")
    page.get_by_role("button", name="Elegir modelo").click()
    expect(page.get_by_text("Modelo de índice elegido: apertura 2026.1")).to_be_visible()
    expect(page.locator('.checklist li[data-item="index_model"]')).to_have_class("ok")

    page.get_by_role("link", name="Vista previa del modelo").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Vista previa del modelo")
    expect(page.locator("#preview-notes")).to_contain_text("instituciones de ejemplo")
    root = page.locator('#model-tree tr[data-code="GA"]')
    expect(root).to_contain_text("Índice de Gobierno Abierto")
    value = float(root.locator("td").nth(4).inner_text().strip())
    assert 0 < value < 1
    expect(page.locator('#model-tree tr[data-code="T"] td').nth(2)).to_have_text("50 %")
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)
