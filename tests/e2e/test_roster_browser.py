"""An admin imports institutions in a real browser: a file with one bad row is previewed with
the row and the column's label, fixed, re-uploaded, confirmed, and the campaign's list shows it."""
from __future__ import annotations

import pytest

from tests.e2e.test_browser import page, server  # noqa: F401  (fixtures)
from tests.web.conftest import Setup

pytestmark = pytest.mark.browser

BAD = ("clave,nombre,estado,orden,tipo,correo\n"
       "JAL-CON,Congreso del Estado de Jalisco,Jalisco,estatal,legislativo,ut@congreso.example\n"
       "JAL-ITEI,Instituto de Transparencia,Jalsco,estatal,autonomo,\n"
       "QRO-SF,Secretaría de Finanzas,Querétaro,estatal,ejecutivo,enlace@finanzas.example\n")
FIXED = BAD.replace("Jalsco", "Jalisco")


def test_upload_preview_fix_reupload_confirm_and_list(page, server, setup, tmp_path):  # noqa: F811
    bad, fixed = tmp_path / "instituciones.csv", tmp_path / "instituciones-corregido.csv"
    bad.write_text(BAD, encoding="utf-8")
    fixed.write_text(FIXED, encoding="utf-8")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{server}/auth/login")
    page.fill("input[name=email]", Setup.admin)
    page.fill("input[name=password]", Setup.password)
    page.click("button[type=submit]")
    page.goto(f"{server}/admin/c/{setup.slug}")
    page.click("#roster-link")
    page.wait_for_url(f"**/admin/c/{setup.slug}/institutions")
    page.set_input_files("#import-file", str(bad))
    page.get_by_role("button", name="Ver vista previa").click()

    errors = page.locator("#import-errors")
    errors.wait_for()
    row = errors.locator("tbody tr")
    assert row.count() == 1
    assert row.locator("td").all_inner_texts()[:2] == ["3", "Estado"]
    assert "Jalsco" in row.inner_text()
    assert page.locator("#confirm-import").count() == 0  # nothing to confirm while a row is bad
    assert "Congreso del Estado de Jalisco" in page.locator("#plan-created").inner_text()
    page.screenshot(path=str(tmp_path / "1-preview-error.png"), full_page=True)

    page.set_input_files("#import-file", str(fixed))
    page.get_by_role("button", name="Ver vista previa").click()
    page.locator("#confirm-import").wait_for()
    assert page.locator("#import-errors").count() == 0
    created = page.locator("#plan-created").inner_text()
    assert "Instituto de Transparencia" in created and "Organismo autónomo" in created
    updated = page.locator("#plan-updated").inner_text()  # the setup's Secretaría: key and e-mail, old → new
    assert "ut@finanzas.example" in updated and "enlace@finanzas.example" in updated and "QRO-SF" in updated
    page.screenshot(path=str(tmp_path / "2-preview-ok.png"), full_page=True)

    page.get_by_role("button", name="Confirmar e importar").click()
    page.wait_for_url(f"**/admin/c/{setup.slug}/institutions")
    table = page.locator("#roster").inner_text()
    for name in ("Congreso del Estado de Jalisco", "Instituto de Transparencia", "Secretaría de Finanzas"):
        assert name in table
    assert "enlace@finanzas.example" in table and "Poder Legislativo" in table
    page.screenshot(path=str(tmp_path / "3-list.png"), full_page=True)

    page.select_option("#roster-state", label="Jalisco")
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url("**state=14**")
    assert page.locator("#roster tbody tr").count() == 2
    page.screenshot(path=str(tmp_path / "4-filtered.png"), full_page=True)
    print(tmp_path)
