"""Every service refusal is coded and shown in the reader's language: the whole catalogue in
Spanish and English, real refusals through the app in both interfaces, and no raw strings."""
from __future__ import annotations

import ast
import html
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.services import Conflict, NotFound, ServiceError
from diagnostic.services.refusals import Both, Refusal, RowProblem, placeholders
from tests.web.conftest import csrf_token, login

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = [*Refusal, *RowProblem]


def dummy_params(member) -> dict[str, object]:
    """A value for every placeholder of a member (a bilingual one, to check both are used)."""
    return {name: Both(f"<{name}-es>", f"<{name}-en>") for name in placeholders(member.es) | placeholders(member.en)}


@pytest.mark.parametrize("member", CATALOGUE, ids=lambda m: f"{type(m).__name__}.{m.name}")
def test_every_refusal_renders_in_spanish_and_english(member):
    params = dummy_params(member)
    spanish, english = member.render("es", **params), member.render("en", **params)
    for text in (spanish, english):
        assert text.strip() and not re.search(r"(?<!\{)\{[a-z_]+(![rs])?\}(?!\})", text), text
    assert english != spanish
    for name in params:  # each parameter appears in its own language only
        assert f"<{name}-es>" in spanish and f"<{name}-en>" not in spanish
        assert f"<{name}-en>" in english and f"<{name}-es>" not in english
    if isinstance(member, Refusal):
        assert member.status in (400, 403, 404, 409, 410, 413, 415, 422, 501, 503)  # 503: transient; 403: national staff only
        error = ServiceError(member, **params)
        assert (error.status, error.code) == (member.status, member.name.lower())
        assert error.message_for("en") == english and error.message == spanish == str(error)


def test_status_comes_from_the_code_unless_given_and_only_coded_refusals_exist():
    assert NotFound(Refusal.CAMPAIGN_NOT_FOUND).status == 404
    assert Conflict(Refusal.RESPONSE_SUBMITTED).status == 409
    assert ServiceError(Refusal.CAMPAIGN_NOT_OPEN, status=400).status == 400
    with pytest.raises(TypeError):  # a raw string is no refusal: it could not be shown in English
        NotFound("Institución no encontrada")
    with pytest.raises(KeyError):  # a missing parameter fails where the refusal is raised
        ServiceError(Refusal.CAMPAIGN_EXISTS)


# ---------------------------------------------------------------- no raw strings in raises

# Raises outside this helper's files that still pass a raw Spanish string; each has its code
# in `Refusal` already. The coordinator empties this list when those files settle.
KNOWN_RAW = {
}


def _refusal_classes(trees: dict[Path, ast.Module]) -> set[str]:
    names = {"ServiceError", "NotFound", "Conflict"}
    grown = True
    while grown:
        grown = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        (b.id if isinstance(b, ast.Name) else getattr(b, "attr", None)) in names for b in node.bases):
                    names.add(node.name)
                    grown = True
    return names


def _raw_text(node: ast.expr) -> str | None:
    """The literal text of a message built from string literals (plain, f-string, + or %), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _raw_text(node.left) or _raw_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _raw_text(node.func.value)
    return None


def test_the_raw_string_scan_sees_literals_f_strings_and_concatenation():
    calls = [ast.parse(code).body[0].exc for code in (
        'raise NotFound("x")', 'raise Conflict(f"x {a}")', 'raise ServiceError("x: " + a)',
        'raise ServiceError("x {}".format(a))', 'raise ServiceError(Refusal.X)', 'raise ServiceError(_("x"))')]
    assert [_raw_text(c.args[0]) for c in calls] == ["x", "x ", "x: ", "x {}", None, None]


def test_no_refusal_is_raised_with_a_raw_string():
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "diagnostic").rglob("*.py"))}
    classes = _refusal_classes(trees)
    raw, known_seen = [], set()
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name not in classes:
                continue
            text = _raw_text(node.args[0])
            if text is None:
                continue
            known = next((k for k in KNOWN_RAW if text.startswith(k)), None)
            if known is not None:
                known_seen.add(known)
                continue
            raw.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}({text!r})")
    assert raw == [], "raise a coded Refusal (diagnostic/services/refusals.py), not a raw string"
    assert len(classes) >= 9  # the scan really found the refusal classes (Incomplete, ImportRejected, ...)


# ---------------------------------------------------------------- through the app, both languages

def in_language(client, lang: str):
    """Choose the interface language as a user does (?lang= remembered in a cookie)."""
    assert client.get(f"/?lang={lang}").status_code < 400
    assert client.get_cookie("lang").value == lang
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def shows(response, lang: str, refusal, **params) -> None:
    """The page or JSON shows the refusal in `lang` and not in the other language."""
    other = "es" if lang == "en" else "en"
    body = text_of(response)
    assert refusal.render(lang, **params) in body, body[:1500]
    assert refusal.render(other, **params) not in body


LANGS = pytest.mark.parametrize("lang", ["en", "es"])


@LANGS
def test_a_state_conflict_on_a_response_is_refused_in_the_interface_language(app, setup, lang):
    from diagnostic.models import Response

    respondent = app.test_client()
    # the draft exists from the first save (opening the link stores nothing)
    assert respondent.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "1"}}).status_code == 200
    with app.app_context():
        response_id = db.session.scalar(sa.select(Response.id))
    client = app.test_client()
    login(client, setup.analyst)
    in_language(client, lang)
    token = csrf_token(client, "/analyst/")
    refused = client.post(f"/analyst/{setup.slug}/responses/{response_id}/verified", data={"csrf_token": token})
    assert refused.status_code == 409  # a draft cannot become verified
    shows(refused, lang, Refusal.VERIFIED_ONLY_SUBMITTED)
    missing = client.post(f"/analyst/{setup.slug}/responses/{response_id}/verify", data={"csrf_token": token})
    assert missing.status_code == 400
    shows(missing, lang, Refusal.FORM_INVALID)  # the form names what is wrong
    assert ("Pregunta" if lang == "es" else "Question") in text_of(missing)
    unknown = client.get(f"/analyst/{setup.slug}/responses/99999")
    assert unknown.status_code == 404
    shows(unknown, lang, Refusal.RESPONSE_NOT_FOUND)


@LANGS
def test_unknown_campaign_is_refused_in_the_interface_language(app, setup, lang):
    client = app.test_client()
    login(client, setup.admin)
    in_language(client, lang)
    page = client.get("/admin/c/no-such-campaign")
    assert page.status_code == 404
    shows(page, lang, Refusal.CAMPAIGN_NOT_FOUND)
    assert 'data-refusal="campaign_not_found"' in page.get_data(as_text=True)
    as_json = client.get("/admin/c/no-such-campaign", headers={"Accept": "application/json"})
    body = as_json.get_json()
    assert as_json.status_code == 404 and body["error"] == 404 and body["code"] == "campaign_not_found"
    assert body["message"] == Refusal.CAMPAIGN_NOT_FOUND.render(lang)


@LANGS
def test_bad_expired_and_closed_links_are_refused_in_the_interface_language(app, setup, lang):
    from datetime import timedelta

    from diagnostic.models import Invitation, utcnow
    from diagnostic.services import campaigns

    client = in_language(app.test_client(), lang)
    tampered = client.get(f"/r/{setup.token[:-2]}xx")
    assert tampered.status_code == 404
    shows(tampered, lang, Refusal.LINK_INVALID)
    autosave = client.post(f"/r/{setup.token[:-2]}xx/autosave", json={"answers": {}})
    assert autosave.status_code == 404 and autosave.get_json()["message"] == Refusal.LINK_INVALID.render(lang)
    with app.app_context():
        db.session.scalar(sa.select(Invitation)).expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    expired = client.get(f"/r/{setup.token}")
    assert expired.status_code == 410
    shows(expired, lang, Refusal.LINK_EXPIRED)
    with app.app_context():
        db.session.scalar(sa.select(Invitation)).expires_at = None
        campaigns.set_status(campaigns.get_by_slug(setup.slug), "closed")
    closed = client.get(f"/r/{setup.token}/p/0")
    assert closed.status_code == 410
    shows(closed, lang, Refusal.CAMPAIGN_CLOSED)


@LANGS
def test_a_forged_field_in_an_autosave_is_refused_in_the_interface_language(app, setup, lang):
    client = in_language(app.test_client(), lang)
    forged = client.post(f"/r/{setup.token}/autosave", json={"answers": {"x]; DROP": "1"}})
    assert forged.status_code == 400
    assert forged.get_json()["message"] == Refusal.INVALID_FIELD.render(lang, path="x]; DROP")


@LANGS
def test_an_invalid_import_file_lists_every_row_in_the_interface_language(app, setup, lang):
    client = app.test_client()
    login(client, setup.admin)
    in_language(client, lang)
    data = (b"nombre,estado,orden,tipo\n"
            b"Instituto X,Atlantis,estatal,autonomo\n"
            b",CDMX,estatal,ejecutivo\n")
    token = csrf_token(client, "/admin/")
    response = client.post(f"/admin/c/{setup.slug}/import", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(data), "inst.csv")})
    assert response.status_code == 422
    shows(response, lang, Refusal.IMPORT_ROWS_REJECTED, count=2)
    shows(response, lang, RowProblem.STATE_UNKNOWN, value="Atlantis")
    shows(response, lang, RowProblem.NAME_EMPTY)
    empty = client.post(f"/admin/c/{setup.slug}/import", content_type="multipart/form-data",
                        data={"csrf_token": token, "file": (io.BytesIO(b""), "inst.csv")})
    assert empty.status_code == 422
    shows(empty, lang, Refusal.IMPORT_EMPTY)


@LANGS
def test_opening_a_campaign_without_questionnaire_is_refused_in_the_interface_language(app, setup, lang):
    client = app.test_client()
    login(client, setup.admin)
    in_language(client, lang)
    token = csrf_token(client, "/admin/")
    client.post("/admin/campaigns", data={"name": "Otra", "year": "2026", "csrf_token": token})
    refused = client.post("/admin/c/otra-2026/status", data={"status": "open", "csrf_token": token})
    assert refused.status_code == 409
    shows(refused, lang, Refusal.INSTITUTIONAL_INSTRUMENT_REQUIRED)


@LANGS
def test_a_campaign_that_cannot_be_scored_is_refused_in_the_interface_language(app, setup, lang):
    client = app.test_client()
    login(client, setup.analyst)
    in_language(client, lang)
    refused = client.get(f"/analyst/{setup.slug}/scores")
    assert refused.status_code == 409
    shows(refused, lang, Refusal.NO_INDEX_MODEL)


def test_scoring_issues_become_located_detail_lines_in_both_languages():
    from types import SimpleNamespace

    from diagnostic.services.scores import _located

    # the fields scoring's model and input issues carry (scoring.model.Issue, scoring.pipeline.InputIssue)
    model = SimpleNamespace(file="indice.yaml", line=12, node="D1", message_es="los pesos no suman 1",
                            message_en="weights do not add up to 1")
    data = SimpleNamespace(row=4, column="ai_unit", message_es="valor no válido", message_en="invalid value")
    lines = _located([model, data])
    assert [line.text("es") for line in lines] == ["indice.yaml:12: D1: los pesos no suman 1", "fila 4: valor no válido"]
    assert [line.text("en") for line in lines] == ["indice.yaml:12: D1: weights do not add up to 1", "row 4: invalid value"]


@LANGS
def test_a_broken_definition_lists_its_located_errors_in_the_interface_language(app, setup, lang):
    from tests.web.conftest import INSTRUMENT

    client = app.test_client()
    login(client, setup.admin)
    in_language(client, lang)
    token = csrf_token(client, "/admin/")
    client.post("/admin/campaigns", data={"name": "Borrador", "year": "2026", "csrf_token": token})
    broken = INSTRUMENT.replace("relevant: \"${has_unit} = 'yes'\"", "relevant: \"${no_such_field} = 'yes'\"")
    response = client.post("/admin/c/borrador-2026/instrument", content_type="multipart/form-data",
                           data={"csrf_token": token, "purpose": "institution",
                                 "file": (io.BytesIO(broken.encode()), "roto.yaml")})
    assert response.status_code == 422
    shows(response, lang, Refusal.DEFINITION_INVALID, filename="roto.yaml", count=1)
    body = text_of(response)
    located = re.search(r"<li>(roto\.yaml:\d+: [^<]*no_such_field[^<]*)</li>", body)
    assert located, body[-1500:]
    question = "is not a question of the questionnaire"
    assert (question in located.group(1)) == (lang == "en")
    assert ("no es una pregunta del cuestionario" in located.group(1)) == (lang == "es")
