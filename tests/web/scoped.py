"""A campaign shared by a national team and two state guarantor bodies (Jalisco 14, Oaxaca 20),
for the state-scope tests (web matrix, services, CLI, browser).

Each state has one submitted response (with an answer verified by the national analyst) and one
institution that has not started; the Oaxaca names, keys and e-mail are distinctive so a test can
assert that none of them ever reaches a Jalisco analyst."""
from __future__ import annotations

from dataclasses import dataclass, field

PASSWORD = "correct horse"
SLUG = "alcance-2025"
# key, name, state, order, type, contact e-mail
INSTITUTIONS = [
    ("JAL-HAC-1", "Secretaría de Hacienda de Jalisco", "14", "estatal", "ejecutivo", "ut@hacienda-jal.example"),
    ("JAL-ZAP-2", "Municipio de Zapopan", "14", "municipal", "municipio", "ut@zapopan-jal.example"),
    ("OAX-TLACO-77", "Consejo Tlacolula de Transparencia", "20", "estatal", "ejecutivo", "enlace@tlacolula-oax.example"),
    ("OAX-MITLA-78", "Municipio de Mitla Abierta", "20", "municipal", "municipio", "ut@mitla-oax.example"),
]
# What must never reach a Jalisco analyst (names, keys, e-mail domains of Oaxaca's institutions).
OAXACA_MARKERS = ("Tlacolula", "OAX-TLACO-77", "Mitla", "OAX-MITLA-78", "tlacolula-oax.example", "mitla-oax.example")
JALISCO_MARKERS = ("Hacienda de Jalisco", "JAL-HAC-1")
USERS = {  # role name in the tests → (e-mail, role, states)
    "admin": ("admin@alcance.example", "admin", ()),
    "national": ("nacional@alcance.example", "analyst", ()),
    "jalisco": ("jalisco@alcance.example", "analyst", ("14",)),
    "oaxaca": ("oaxaca@alcance.example", "analyst", ("Oaxaca",)),
    "evaluator": ("evaluadora@alcance.example", "evaluator", ()),
}


@dataclass
class ScopedCampaign:
    """What `seed_scoped` made: ids by institution key, response ids, invitation tokens, user ids."""

    slug: str
    institutions: dict[str, int]
    responses: dict[str, int]
    tokens: dict[str, str]
    users: dict[str, int] = field(default_factory=dict)

    def email(self, who: str) -> str:
        """The e-mail of a test account (`admin`, `national`, `jalisco`, `oaxaca`, `evaluator`)."""
        return USERS[who][0]


def seed_scoped(app) -> ScopedCampaign:
    """Campaign `alcance-2025`, open and unpublished, scored by the shipped model."""
    from diagnostic.extensions import db
    from diagnostic.models import Institution, Order
    from diagnostic.services import (
        assignments,
        campaigns,
        institutions,
        instruments,
        invitations,
        responses,
        users,
    )
    from diagnostic.services.audit import SYSTEM, Actor
    from tests.web.conftest import open_answers

    with app.app_context():
        accounts = {who: users.create(email, who.title(), role, PASSWORD, states=states)
                    for who, (email, role, states) in USERS.items()}
        campaign = campaigns.create("Alcance estatal", 2025, slug=SLUG)
        campaigns.set_instrument(campaign, "institution", instruments.store_shipped("gobierno"))
        campaigns.set_instrument(campaign, "evaluator", instruments.store_shipped("ciudadana"))
        campaigns.set_index_model(campaign, instruments.store_shipped_index_model("apertura"))
        created = []
        for key, name, state, order, kind, email in INSTITUTIONS:
            inst = Institution(key=key, name=name, state_code=state, order=Order(order), type=kind,
                               contact_name="Titular", contact_email=email)
            db.session.add(inst)
            created.append(inst)
        db.session.commit()
        institutions.add_to_campaign(campaign, created)
        campaigns.set_status(campaign, "open")
        by_key = {i.key: i for i in created}
        tokens = {link.invitation.institution.key: link.token for link in invitations.issue(campaign, created)}
        assignments.assign(campaign, [by_key["OAX-TLACO-77"], by_key["JAL-HAC-1"]], accounts["evaluator"])
        response_ids = {}
        for key in ("JAL-HAC-1", "OAX-TLACO-77"):
            response = responses.get_or_create(campaign, "institution", by_key[key])
            responses.save_page(response, open_answers(), SYSTEM)
            responses.submit(response, SYSTEM)
            responses.verify_answer(response, "ai_unit", None, Actor.for_user(accounts["national"]),
                                    corrected="no", reason=f"Sin evidencia de {by_key[key].name}")
            db.session.commit()
            response_ids[key] = response.id
        return ScopedCampaign(SLUG, {k: i.id for k, i in by_key.items()}, response_ids, tokens,
                              {who: user.id for who, user in accounts.items()})


def leaked(body: bytes, markers=OAXACA_MARKERS) -> list[str]:
    """The markers found in a response body: HTML, JSON (ASCII-escaped too), CSV, or an XLSX/ZIP's text."""
    import io
    import json
    import zipfile

    texts = [body.decode("utf-8", "replace")]
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            texts = [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    found = []
    for marker in markers:
        escaped = json.dumps(marker)[1:-1]
        if any(marker in text or escaped in text or marker.lower() in text.lower() for text in texts):
            found.append(marker)
    return found
