"""Skip logic never shows an empty page (issue 9 §3): pages whose questions are all irrelevant
are left out of "Guardar y continuar", "Anterior", the page list, the page label and progress."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.web.test_respond import stored

# Page 2 is gated as a group, page 3 has only gated questions: both are empty after "No".
SKIP_INSTRUMENT = """
settings:
  id: saltos
  version: "1"
  title: {es: Cuestionario con saltos, en: Questionnaire with skips}
  languages: [es, en]
  default_language: es
  unit: institution
survey:
  - type: group
    name: mecanismo
    label: {es: Mecanismo, en: Mechanism}
    children:
      - type: yes_no
        name: has_mech
        label: {es: "¿Tiene un mecanismo de participación?", en: "Does it have a participation mechanism?"}
        required: true
      - type: text
        name: mech_name
        label: {es: Nombre del mecanismo, en: Mechanism name}
  - type: group
    name: actores
    label: {es: Actores, en: Actors}
    relevant: "${has_mech} = 'yes'"
    children:
      - type: text
        name: actors
        label: {es: Quiénes participan, en: Who takes part}
        required: true
  - type: group
    name: operacion
    label: {es: Operación, en: Operation}
    children:
      - type: integer
        name: sessions
        label: {es: Sesiones celebradas, en: Sessions held}
        relevant: "${has_mech} = 'yes'"
  - type: group
    name: cierre
    label: {es: Cierre, en: Closing}
    children:
      - type: text
        name: comments
        label: {es: Comentarios, en: Comments}
"""


@dataclass
class SkipSetup:
    """An open campaign answering SKIP_INSTRUMENT, with one invited institution."""

    token: str


@pytest.fixture
def skip_setup(app) -> SkipSetup:
    from diagnostic.models import InstrumentPurpose
    from diagnostic.services import campaigns, institutions, instruments, invitations

    with app.app_context():
        campaign = campaigns.create("Saltos", 2025, slug="saltos-2025")
        campaigns.set_instrument(campaign, InstrumentPurpose.INSTITUTION,
                                 instruments.store(SKIP_INSTRUMENT.encode(), "saltos.yaml"))
        report = institutions.import_file("nombre,estado,orden,tipo\nInstituto de Saltos,Querétaro,estatal,ejecutivo\n"
                                          .encode(), "inst.csv", campaign=campaign)
        campaigns.set_status(campaign, "open")
        return SkipSetup(invitations.create(campaign, report.institutions[0]))


def url(skip: SkipSetup, n: int) -> str:
    return f"/r/{skip.token}/p/{n}"


def test_answering_no_skips_the_pages_left_empty(app, client, skip_setup):
    first = client.post(url(skip_setup, 0), data={"has_mech": "no", "action": "next", "_fields": "has_mech mech_name"})
    assert first.status_code == 302 and first.headers["Location"].endswith("/p/3")  # not /p/1, not /p/2
    html = client.get(url(skip_setup, 3)).get_data(as_text=True)
    assert "Página 2 de 2" in html  # the label counts the pages that are shown
    nav = re.search(r'<nav class="pages".*?</nav>', html, re.S).group(0)
    assert "/p/1" not in nav and "/p/2" not in nav and "/p/0" in nav
    back = client.post(url(skip_setup, 3), data={"comments": "", "action": "prev", "_fields": "comments"})
    assert back.headers["Location"].endswith("/p/0")
    empty = client.get(url(skip_setup, 1))  # an empty page reached by its address sends on
    assert empty.status_code == 302 and empty.headers["Location"].endswith("/p/3")
    review = client.get(f"/r/{skip_setup.token}/review").get_data(as_text=True)
    assert "Actores" not in review and "Operación" not in review
    assert stored(app) == {"has_mech": "no"}


def test_answering_yes_walks_every_page_and_progress_counts_relevant_questions(client, skip_setup):
    landing = client.get(f"/r/{skip_setup.token}").get_data(as_text=True)
    assert "tiene 2 páginas" in landing  # before any answer, the gated pages are not counted
    assert "Avance: 0 de 3 preguntas" in landing
    yes = client.post(url(skip_setup, 0), data={"has_mech": "yes", "mech_name": "Consejo", "action": "next",
                                                "_fields": "has_mech mech_name"})
    assert yes.headers["Location"].endswith("/p/1")
    html = client.get(url(skip_setup, 1)).get_data(as_text=True)
    assert "Página 2 de 4" in html and "Avance: 2 de 5 preguntas" in html


def test_the_progress_follows_each_autosave(client, skip_setup):
    body = client.post(f"/r/{skip_setup.token}/autosave", json={"answers": {"has_mech": "yes"}}).get_json()
    assert body["progress"] == {"answered": 1, "total": 5, "label": "Avance: 1 de 5 preguntas"}
    body = client.post(f"/r/{skip_setup.token}/autosave", json={"answers": {"has_mech": "no"}}).get_json()
    assert body["progress"]["total"] == 3  # the questions "No" skips leave the count at once
