"""A guarantor body runs a campaign from an empty database to a published state report, through
the browser only (issue 9, "What it must show"): one admin created by the CLI; then, in
Debian's Chromium, the campaign, its questionnaires and an uploaded index model, institutions
imported (a bad row shown, fixed, re-imported), an evaluator account, invitations e-mailed to a
real SMTP server on loopback, a respondent answering through the e-mailed link (skip logic, no
empty page), the evaluator's simulated-user test, verification, the review in which the
institution sees its scores (right of reply), publication, and the public
state report showing the campaign's own scores. No shell, no SQL."""
from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest

from tests.e2e.test_browser import ARGS, CHROMIUM, server  # noqa: F401  (fixtures)
from tests.web.conftest import closed_answers
from tests.web.smtp import SmtpServer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "surveys" / "definitions"
ADMIN, ADMIN_PASSWORD = "titular@itei.example", "una clave bastante larga"
EVALUATOR, EVALUATOR_PASSWORD = "evaluadora@sociedad.example", "otra clave bastante larga"
ROSTER = ("clave,nombre,estado,orden,tipo,correo\n"
          "JAL-CON,Congreso del Estado de Jalisco,Jalisco,estatal,legislativo,ut@congreso.example\n"
          "JAL-SH,Secretaría de la Hacienda Pública,Jalsco,estatal,ejecutivo,ut@hacienda.example\n"
          "JAL-ZAP,Municipio de Zapopan,Jalisco,municipal,municipio,transparencia@zapopan.example\n")


def flatten(answers: dict) -> dict[str, object]:
    """Nested answers → the form's field paths (`requests[0].topic`)."""
    flat: dict[str, object] = {}
    for name, value in answers.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for index, instance in enumerate(value):
                for child, child_value in instance.items():
                    flat[f"{name}[{index}].{child}"] = child_value
        else:
            flat[name] = value
    return flat


def _visible_names(page) -> list[str]:
    return page.eval_on_selector_all(
        "main form [name]",
        "els => [...new Set(els.filter(e => !e.disabled && e.type !== 'hidden' && e.type !== 'submit'"
        " && e.offsetParent !== null).map(e => e.name))]")


def fill_page(page, answers: dict[str, object]) -> int:
    """Give every control on the page its answer, again as skip logic shows more; how many
    controls the page showed."""
    filled: set[str] = set()
    for _ in range(6):
        names = [n for n in _visible_names(page) if n not in filled]
        if not names:
            break
        for name in names:
            filled.add(name)
            value = answers.get(name)
            if value is None:
                continue
            control = page.locator(f'[name="{name}"]').first
            kind = control.evaluate("e => e.tagName === 'SELECT' ? 'select' : (e.type || 'text')")
            if kind == "radio":
                page.locator(f'input[name="{name}"][value="{value}"]').check()
            elif kind == "checkbox":
                wanted = value if isinstance(value, list) else [value]
                for option in page.locator(f'input[name="{name}"]').all():
                    option.set_checked(option.get_attribute("value") in wanted)
            elif kind == "select":
                control.select_option(str(value))
            else:
                control.fill(str(value))
    return len(filled)


def answer_questionnaire(page, answers: dict, screenshots: Path, prefix: str, *, every_page_asks: bool = True) -> list[str]:
    """Walk the questionnaire page by page with "Guardar y continuar" up to the review; the
    page labels seen. Fails on a page that shows no question (an empty page)."""
    flat = flatten(answers)
    seen = []
    for step in range(40):
        forward = page.get_by_role("button", name=re.compile("^Guardar y (continuar|revisar)$"))
        if forward.count() == 0:
            break
        shown = fill_page(page, flat)
        heading = page.locator("h2, .page-label").first.inner_text() if page.locator("h2, .page-label").count() else ""
        assert shown > 0 or not every_page_asks, f"page {step} ({page.url}) shows no question"
        seen.append(heading)
        page.screenshot(path=str(screenshots / f"{prefix}-{step:02d}.png"), full_page=True)
        forward.first.click()
        page.wait_for_load_state()
        problems = page.locator(".errors, .error-summary, [role=alert]")
        if page.get_by_role("button", name="Continuar sin completar").count():
            raise AssertionError(f"required answers missing on {page.url}: {problems.first.inner_text()}")
    else:
        raise AssertionError("the questionnaire never reached its review page")
    return seen


def sign_in(page, server_url: str, email: str, password: str) -> None:
    page.goto(f"{server_url}/auth/login")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()


def confirm_status(page, button: str) -> None:
    """Press a status button on the campaign page and confirm on the page that says what changes."""
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_role("button", name=f"Sí, {button.lower()}").click()


@pytest.fixture
def smtp():
    with SmtpServer() as running:
        yield running


def test_a_campaign_from_an_empty_database_to_a_published_state_report(app, server, smtp, tmp_path):  # noqa: F811
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed; `make test` installs it")
    from playwright.sync_api import expect, sync_playwright

    app.config.update(smtp.config(), PUBLIC_URL=server)
    created = app.test_cli_runner().invoke(args=["users", "create", ADMIN, "--role", "admin",
                                                 "--password", ADMIN_PASSWORD])
    assert created.exit_code == 0, created.output
    shots = tmp_path / "shots"
    shots.mkdir()
    bad, fixed = tmp_path / "instituciones.csv", tmp_path / "instituciones-corregido.csv"
    bad.write_text(ROSTER, encoding="utf-8")
    fixed.write_text(ROSTER.replace("Jalsco", "Jalisco"), encoding="utf-8")
    deadline = date(date.today().year + 1, 6, 30).isoformat()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        staff = browser.new_context(locale="es-MX", viewport={"width": 1366, "height": 900}).new_page()
        staff.set_default_timeout(20000)

        # 1. the admin sets the campaign up
        sign_in(staff, server, ADMIN, ADMIN_PASSWORD)
        staff.goto(f"{server}/admin/")
        staff.get_by_label("Nombre").fill("Diagnóstico Jalisco")
        staff.get_by_label("Año").fill("2026")
        staff.locator("input[name=closes_at]").fill(deadline)
        staff.get_by_role("button", name="Crear campaña").click()
        expect(staff.locator("#campaign-status")).to_have_text("Borrador")
        campaign_url = staff.url
        slug = campaign_url.rstrip("/").rsplit("/", 1)[-1]

        for purpose, filename in (("institution", "gobierno.yaml"), ("evaluator", "ciudadana.yaml")):
            staff.locator("select[name=purpose]").select_option(purpose)
            staff.locator("#instrument-file").set_input_files(str(DEFINITIONS / filename))
            staff.get_by_role("button", name="Asignar instrumento").click()
            expect(staff.get_by_text("Instrumento asignado")).to_be_visible()
        staff.locator("#model-file").set_input_files(str(DEFINITIONS / "apertura.model.yaml"))
        staff.get_by_role("button", name="Elegir modelo").click()
        expect(staff.locator("#modelo")).to_contain_text("apertura.model.yaml")

        staff.click("#roster-link")
        staff.set_input_files("#import-file", str(bad))
        staff.get_by_role("button", name="Ver vista previa").click()
        error_row = staff.locator("#import-errors tbody tr")
        expect(error_row).to_have_count(1)
        expect(error_row).to_contain_text("Jalsco")
        staff.screenshot(path=str(shots / "01-import-error.png"), full_page=True)
        staff.set_input_files("#import-file", str(fixed))
        staff.get_by_role("button", name="Ver vista previa").click()
        staff.get_by_role("button", name="Confirmar e importar").click()
        expect(staff.locator("#roster tbody tr")).to_have_count(3)

        staff.goto(f"{server}/admin/users")
        staff.locator("#u-email").fill(EVALUATOR)
        staff.locator("#u-name").fill("Evaluadora de sociedad civil")
        staff.locator("#u-role").select_option("evaluator")
        staff.locator("#u-password").fill(EVALUATOR_PASSWORD)
        staff.get_by_role("button", name="Crear cuenta").click()
        expect(staff.get_by_text(EVALUATOR)).to_be_visible()

        staff.goto(campaign_url)
        chooser = staff.locator("select[name=evaluator_id]")
        chooser.select_option(chooser.locator("option", has_text="Evaluadora").first.get_attribute("value"))
        staff.locator("textarea[name=keys]").fill("JAL-CON")
        staff.get_by_role("button", name="Asignar", exact=True).click()

        confirm_status(staff, "Abrir")
        expect(staff.locator("#campaign-status")).to_have_text("Abierta")
        staff.screenshot(path=str(shots / "02-open.png"), full_page=True)

        # 2. invitations by e-mail, to the SMTP server on loopback
        staff.get_by_role("link", name=re.compile("Enviar invitaciones")).click()
        staff.get_by_role("button", name=re.compile("^Enviar invitaciones")).click()
        staff.get_by_role("button", name=re.compile(r"^Enviar \d+ mensajes?$")).click()
        expect(staff.locator("#send-result dd[data-col=sent]")).to_have_text("3")
        arrived = {m.rcpt_tos[0]: m for m in smtp.received}
        assert set(arrived) == {"ut@congreso.example", "ut@hacienda.example", "transparencia@zapopan.example"}
        link = re.search(r"https?://\S+/r/\S+", arrived["ut@congreso.example"].body).group(0).rstrip(".,)>")
        assert link.startswith(server)

        # 3. the respondent answers through the e-mailed link; "No" to a participation mechanism
        respondent = browser.new_context(locale="es-MX", viewport={"width": 390, "height": 844}).new_page()
        respondent.set_default_timeout(20000)
        respondent.goto(link)
        respondent.get_by_role("link", name="Comenzar").click()
        answers = closed_answers()
        pages = answer_questionnaire(respondent, answers, shots, "respondent")
        assert len(pages) >= 2
        respondent.locator("input[type=checkbox][required]").check()
        respondent.get_by_role("button", name="Enviar respuesta").click()
        expect(respondent.locator("body")).to_contain_text(re.compile("acuse de envío", re.I))
        respondent.screenshot(path=str(shots / "03-receipt.png"), full_page=True)

        # 4. the evaluator records the simulated-user test of the Congress
        evaluator = browser.new_context(locale="es-MX").new_page()
        evaluator.set_default_timeout(20000)
        sign_in(evaluator, server, EVALUATOR, EVALUATOR_PASSWORD)
        evaluator.goto(f"{server}/evaluate/")
        evaluator.get_by_role("link", name=re.compile("Congreso del Estado de Jalisco")).first.click()
        start = evaluator.get_by_role("link", name=re.compile("^(Comenzar|Continuar)$"))
        if start.count():
            start.first.click()
        with app.app_context():
            from surveys import check
            from surveys.sample import sample_answers

            ciudadana = check(DEFINITIONS / "ciudadana.yaml").definition
            evaluation = sample_answers(ciudadana, random.Random(7))
        for name, value in list(evaluation.items()):  # the form shows the repeat's minimum of instances
            if isinstance(value, list) and value and isinstance(value[0], dict):
                evaluation[name] = value[:2]
        answer_questionnaire(evaluator, evaluation, shots, "evaluator", every_page_asks=False)  # opens with instructions
        evaluator.locator("input[type=checkbox][required]").check()
        evaluator.get_by_role("button", name="Enviar respuesta").click()
        expect(evaluator.locator("body")).to_contain_text(re.compile("acuse de envío", re.I))

        # 5. verification and publication
        staff.goto(f"{server}/analyst/{slug}/responses")
        staff.get_by_role("link", name=re.compile("Congreso del Estado de Jalisco")).first.click()
        staff.locator("#accept-remaining").click()
        staff.locator("#mark-verified").click()
        expect(staff.locator("#status")).to_have_text("Verificada")
        staff.goto(campaign_url)
        confirm_status(staff, "Cerrar")
        expect(staff.locator("#campaign-status")).to_have_text("Cerrada")
        expect(staff.get_by_role("button", name="Publicar", exact=True)).to_have_count(0)  # not straight from closed

        # 6. right of reply (methodology §9.5): the institutions see their scores before publication
        staff.get_by_role("button", name="Pasar a revisión (réplica)").click()
        expect(staff.locator("main")).to_contain_text("pueden impugnar reactivos")
        staff.get_by_role("button", name="Sí, pasar a revisión").click()
        expect(staff.locator("#campaign-status")).to_have_text("En revisión")
        respondent.goto(link)
        expect(respondent.get_by_role("heading", level=1)).to_have_text("Sus puntajes antes de la publicación")
        expect(respondent.locator("#reply-window")).to_contain_text("puede impugnar cualquier reactivo hasta el")
        respondent.screenshot(path=str(shots / "03b-reply.png"), full_page=True)
        confirm_status(staff, "Publicar")  # refused while the window runs, with its close date
        expect(staff.locator("main")).to_contain_text("el plazo de réplica de las instituciones corre hasta el")
        staff.goto(f"{campaign_url}/reply-window")
        staff.get_by_label("Días hábiles").fill("0")  # the admin shortens the window: it closes now
        staff.get_by_role("button", name="Guardar").click()
        confirm_status(staff, "Publicar")
        expect(staff.locator("#campaign-status")).to_have_text("Publicada")

        # 7. the public reads Jalisco's report with the campaign's own scores
        public = browser.new_context(locale="es-MX").new_page()
        public.goto(f"{server}/resultados/{slug}/")
        public.get_by_role("link", name="Jalisco").first.click()
        expect(public.get_by_role("heading", level=1)).to_contain_text("Jalisco")
        public.screenshot(path=str(shots / "04-report.png"), full_page=True)
        report_text = public.locator("main").inner_text()
        browser.close()

    with app.app_context():
        from diagnostic.services import campaigns, scores

        computed = scores.compute(campaigns.get_by_slug(slug))
        jalisco = computed.table("state").set_index("state").loc["14"]
        index = float(jalisco["GA"])
    assert 0 <= index <= 1
    shown = {f"{index:.2f}", f"{index:.3f}", f"{index:.2f}".replace(".", ","), f"{index:.3f}".replace(".", ",")}
    assert any(text in report_text for text in shown), (index, report_text[:2000])
