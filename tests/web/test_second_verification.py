"""Two-stage verification (methodology §9.2–9.4): settings, a seeded stratified draw, the blind
second verification, resolution back into the scored value, publishing refused while open,
agreement in the report annex."""
from __future__ import annotations

import re
import subprocess
from collections import Counter

import pytest
import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import AuditEvent, Campaign, SecondVerdict, User, UserState
from diagnostic.services import (
    Conflict,
    Refusal,
    ServiceError,
    campaigns,
    responses,
    review,
    scores,
)
from diagnostic.services import second_verification as second
from diagnostic.services.audit import Actor
from tests.web.conftest import csrf_token, sign_in

FIRST_REASON = "MOTIVO-DE-LA-PRIMERA-ETAPA"
FIRST_VALUE = "987"


def _campaign(scored) -> Campaign:
    return campaigns.get_by_slug(scored.slug)


def _user(scored, role: str) -> User:
    return db.session.get(User, scored.users[role])


def first_stage(scored) -> None:
    """The state verifies Q1, Q2 and J1; on Q2 it corrects the number of datasets with a reason."""
    analyst = _user(scored, "analyst")
    q2 = responses.get(scored.responses["Q2"])
    review.verify(q2, {"field": "da_datasets", "decision": "correct", "value": FIRST_VALUE,
                       "reason": FIRST_REASON}, analyst)
    for key in ("Q1", "Q2", "J1"):
        response = responses.get(scored.responses[key])
        review.accept_remaining(response, analyst)
        review.mark_verified(response, analyst)


def test_plan_is_reproducible_stratified_and_sized_by_the_settings():
    population = [(i, "14" if i < 40 else ("22" if i < 43 else "09"), "a" if i % 3 else "b") for i in range(60)]
    one = second.plan(population, 0.10, 5, seed=11)
    assert one == second.plan(population, 0.10, 5, seed=11)
    assert one != second.plan(population, 0.10, 5, seed=12)
    states = Counter("14" if i < 40 else ("22" if i < 43 else "09") for i in one)
    # 40 in Jalisco: max(ceil(4), 5) = 5; 3 in Querétaro: all 3; 17 in CDMX: max(ceil(1.7), 5) = 5
    assert states == {"14": 5, "22": 3, "09": 5}
    # both types of Jalisco are drawn; with a larger share the share wins: ceil(0.5·40) = 20
    assert {("a" if i % 3 else "b") for i in one if i < 40} == {"a", "b"}
    assert Counter("14" if i < 40 else "x" for i in second.plan(population, 0.5, 5, seed=1))["14"] == 20
    assert second.state_size(1, 0.1, 5) == 1 and second.state_size(0, 0.1, 5) == 0


def test_settings_are_validated_and_locked_after_the_draw(app, scored):
    with app.app_context():
        campaign, admin = _campaign(scored), _user(scored, "admin")
        with pytest.raises(ServiceError) as bad:
            second.update_settings(campaign, Actor.for_user(admin), share="1.5")
        assert bad.value.refusal is Refusal.SECOND_SETTING_INVALID and "share" in bad.value.message
        with pytest.raises(ServiceError):
            second.update_settings(campaign, Actor.for_user(admin), min_per_state="cinco")
        sample = second.update_settings(campaign, Actor.for_user(admin), share="50 %", min_per_state="2", seed="77")
        assert (sample.share, sample.min_per_state, sample.seed) == (0.5, 2, 77)
        first_stage(scored)
        second.draw(campaign, admin)
        with pytest.raises(Conflict) as locked:
            second.update_settings(campaign, Actor.for_user(admin), share="0.2")
        assert locked.value.refusal is Refusal.SECOND_SAMPLE_DRAWN
        assert second.settings_of(campaign).share == 0.5


def test_full_two_stage_verification(app, scored):
    with app.app_context():
        campaign, admin, analyst = _campaign(scored), _user(scored, "admin"), _user(scored, "analyst")
        with pytest.raises(Conflict) as nothing:
            second.draw(campaign, admin)
        assert nothing.value.refusal is Refusal.SECOND_NOTHING_TO_DRAW
        first_stage(scored)
        # A Jalisco analyst is refused the draw; national staff draw.
        scoped = User(email="jal@example.org", name="Jalisco", role=analyst.role, password_hash="x")
        db.session.add(scoped)
        db.session.flush()
        db.session.add(UserState(user_id=scoped.id, state_code="14"))
        db.session.commit()
        with pytest.raises(ServiceError) as refused:
            second.draw(campaign, db.session.get(User, scoped.id))
        assert refused.value.refusal is Refusal.SECOND_NATIONAL_ONLY and refused.value.status == 403
        sample = second.draw(campaign, admin)
        assert sample.seed is not None and sample.drawn_by_id == admin.id and sample.population == 3
        assert len(sample.members) == 3  # every state has fewer than 5: all drawn
        drawn = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "second.draw"))
        assert f'"seed": {sample.seed}' in drawn.new_value
        with pytest.raises(Conflict):
            second.draw(campaign, admin)

        # The first stage is frozen from the draw on.
        q1 = responses.get(scored.responses["Q1"])
        with pytest.raises(Conflict) as frozen:
            review.verify(q1, {"field": "ai_unit", "decision": "accept"}, analyst)
        assert frozen.value.refusal is Refusal.FIRST_STAGE_FROZEN
        with pytest.raises(Conflict):
            responses.reopen(q1, Actor.for_user(analyst), "otra vez")

        # The snapshot kept the first verdict; the first verifier cannot give the second one.
        q2_member = second.member_of(responses.get(scored.responses["Q2"]))
        snap = next(v for v in q2_member.verdicts if v.field == "da_datasets")
        assert (snap.first_value, snap.first_verification, snap.first_reason) == (FIRST_VALUE, "corrected", FIRST_REASON)
        with pytest.raises(Conflict) as same:
            second.record_verdict(q2_member, {"verdict": snap.id, "decision": "accept"}, analyst)
        assert same.value.refusal is Refusal.SECOND_SAME_VERIFIER

        # Blind second verification by the admin: Q1 ai_unit corrected to "no"; the rest accepted.
        q1_member = second.member_of(q1)
        ai_unit = next(v for v in q1_member.verdicts if v.field == "ai_unit")
        with pytest.raises(ServiceError) as no_reason:
            second.record_verdict(q1_member, {"verdict": ai_unit.id, "decision": "correct", "value": "no"}, admin)
        assert no_reason.value.refusal is Refusal.CORRECTION_REASON_REQUIRED
        with pytest.raises(ServiceError) as invalid:
            second.record_verdict(q1_member, {"verdict": ai_unit.id, "decision": "correct", "value": "quizá",
                                              "reason": "x"}, admin)
        assert invalid.value.refusal is Refusal.INVALID_CORRECTION
        db.session.rollback()
        second.record_verdict(q1_member, {"verdict": ai_unit.id, "decision": "correct", "value": "no",
                                          "reason": "La página de la unidad no existe"}, admin)
        for member in second.overview(campaign).rows:
            second.accept_remaining(member.member, admin)

        # Q2: the second stage accepted the respondent's 0 datasets where the first corrected to 987.
        view = second.overview(campaign)
        assert view.pending_items == 0 and view.disagreements == 2 and view.unresolved == 2
        campaigns.set_status(campaign, "closed")
        campaign.reply_days = 0  # no right-of-reply window to wait for (methodology §9.5)
        campaigns.set_status(campaign, "in_review")
        with pytest.raises(Conflict) as publish:
            campaigns.set_status(campaign, "published")
        assert publish.value.refusal is Refusal.SECOND_VERIFICATION_OPEN and "2" in publish.value.message

        # Agreement: compared on item score categories, per component and overall.
        data = second.agreement_of(campaign, resamples=200)
        overall = data["groups"][-1]
        assert overall["overall"] and overall["units"] == 3 and overall["compared"] > overall["agreed"] >= 1
        assert 0 < overall["percent"] < 1 and overall["kappa"] is not None

        # Resolution: both values and reasons listed; the resolved value reaches the scores.
        before = scores.compute(campaign).items_by_field("Q1").get("ai_unit")
        listed = {d.verdict.field: d for d in second.disagreements(campaign)}
        assert listed["da_datasets"].verdict.first_reason == FIRST_REASON
        with pytest.raises(ServiceError) as no_why:
            second.resolve(campaign, ai_unit.id, "second", "  ", admin)
        assert no_why.value.refusal is Refusal.SECOND_RESOLUTION_REASON
        second.resolve(campaign, ai_unit.id, "second", "Se revisó el portal: no hay unidad", admin)
        second.resolve(campaign, snap.id, "first", "El portal de datos lista 987 conjuntos", admin)
        answer = next(a for a in responses.get(scored.responses["Q1"]).answers if a.field == "ai_unit")
        assert answer.effective_value == "no" and "no hay unidad" in answer.verification_reason
        after = scores.compute(campaign).items_by_field("Q1").get("ai_unit")
        assert before != after
        kept = db.session.get(SecondVerdict, ai_unit.id)
        assert (kept.first_value, kept.second_value, kept.resolved_value) == ("yes", "no", "no")
        assert kept.second_reason == "La página de la unidad no existe" and kept.resolved_by_id == admin.id
        actions = [e.action for e in db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.response_id == q1.id).order_by(AuditEvent.id))]
        assert actions[-2:] == ["answer.verify", "second.resolve"]
        with pytest.raises(Conflict):
            second.record_verdict(q1_member, {"verdict": ai_unit.id, "decision": "accept"}, admin)
        campaigns.set_status(campaign, "published")
        assert _campaign(scored).status.value == "published"


def test_blind_page_hides_the_first_stage_and_state_analysts_are_refused(app, client, scored):
    with app.app_context():
        first_stage(scored)
        second.draw(_campaign(scored), _user(scored, "admin"))
        member = second.member_of(responses.get(scored.responses["Q2"]))
        member_id = member.id
        verdict_id = next(v.id for v in member.verdicts if v.field == "da_datasets")
        scoped = User(email="jal@example.org", name="Jalisco", role=_user(scored, "analyst").role, password_hash="x")
        db.session.add(scoped)
        db.session.flush()
        db.session.add(UserState(user_id=scoped.id, state_code="14"))
        db.session.commit()
        scoped_id = scoped.id
    sign_in(client, scoped_id)
    for url in (f"/analyst/{scored.slug}/second", f"/analyst/{scored.slug}/second/{member_id}",
                f"/analyst/{scored.slug}/agreement", f"/analyst/{scored.slug}/second/resolution"):
        assert client.get(url).status_code == 403, url
    sign_in(client, scored.users["admin"])
    page = client.get(f"/analyst/{scored.slug}/second/{member_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Verificación ciega" in html
    assert FIRST_REASON not in html and FIRST_VALUE not in html
    assert "corregida" not in html and "aceptada" not in html
    # The admin corrects it back to 987 through the page; a correction without a reason is refused in place.
    token = csrf_token(client, f"/analyst/{scored.slug}/second")
    bad = client.post(f"/analyst/{scored.slug}/second/{member_id}",
                      data={"csrf_token": token, "verdict": verdict_id, "decision": "correct", "value": "12"})
    assert bad.status_code == 400 and "motivo" in bad.get_data(as_text=True).lower()
    ok = client.post(f"/analyst/{scored.slug}/second/{member_id}",
                     data={"csrf_token": token, "verdict": verdict_id, "decision": "correct", "value": "12",
                           "reason": "El portal lista 12"})
    assert ok.status_code == 302
    assert client.post(f"/analyst/{scored.slug}/second/{member_id}/accept-remaining",
                       data={"csrf_token": token}).status_code == 302
    resolution = client.get(f"/analyst/{scored.slug}/second/resolution").get_data(as_text=True)
    assert FIRST_REASON in resolution and "El portal lista 12" in resolution
    agreement = client.get(f"/analyst/{scored.slug}/agreement").get_data(as_text=True)
    assert 'id="agreement-institution"' in agreement and "Todos los reactivos" in agreement
    assert "built-in" not in agreement and re.search(r'<td class="num">1</td><td class="num">\d+</td>', agreement)


def test_report_annex_states_the_sample_and_flags_low_kappa(app, client, scored, monkeypatch, tmp_path):
    with app.app_context():
        first_stage(scored)
        campaign, admin = _campaign(scored), _user(scored, "admin")
        second.update_settings(campaign, Actor.for_user(admin), seed="4242")
        second.draw(campaign, admin)
        for row in second.overview(campaign).rows:
            for v in row.member.verdicts:
                if v.field in ("ai_unit", "ai_guide", "ta_site_links"):
                    answer = next(a for a in row.member.response.answers if a.field == v.field)
                    flipped = "no" if answer.value == "yes" else "yes"
                    second.record_verdict(row.member, {"verdict": v.id, "decision": "correct", "value": flipped,
                                                       "reason": "otra lectura"}, admin)
            second.accept_remaining(row.member, admin)
        digest_before = second.report_digest(campaign)
    sign_in(client, scored.users["analyst"])
    html = client.get(f"/resultados/{scored.slug}/22").get_data(as_text=True)
    assert "Segunda verificación y acuerdo entre verificadores" in html
    assert "semilla 4242" in html and "Advertencia de confiabilidad" in html and "built-in" not in html
    section = html[html.index('id="acuerdo"'):]
    assert re.search(r"Querétaro</th><td class=\"n\">2</td><td class=\"n\">2</td>", section)
    national = client.get(f"/resultados/{scored.slug}/nacional").get_data(as_text=True)
    assert "semilla 4242" in national
    pdf = client.get(f"/resultados/{scored.slug}/22.pdf")
    assert pdf.status_code == 200
    path = tmp_path / "22.pdf"
    path.write_bytes(pdf.data)
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "acuerdo entre verificadores" in text and "semilla 4242" in text
    assert "Advertencia de confiabilidad" in text
    with app.app_context():
        listed = second.disagreements(_campaign(scored))
        second.resolve(_campaign(scored), listed[0].verdict.id, "first", "se queda", _user(scored, "admin"))
        assert second.report_digest(_campaign(scored)) != digest_before
    # The threshold is data: raise nothing below 0 → no warning.
    from diagnostic.services import report

    conf = dict(report.settings())
    conf["agreement"] = {"kappa_warning": -1.0, "resamples": 50}
    monkeypatch.setattr(report, "settings", lambda: conf)
    with app.app_context():
        section = second.report_section(_campaign(scored))
        assert section["threshold"] == -1.0 and not any(g["warning"] for g in section["institution"]["groups"])


def test_cli_settings_draw_and_agreement(app, runner, scored):
    with app.app_context():
        first_stage(scored)
    out = runner.invoke(args=["second", "settings", "--campaign", scored.slug, "--share", "10%",
                              "--min-per-state", "1", "--seed", "99"])
    assert out.exit_code == 0 and "share 0.1, minimum per state 1, seed 99, not drawn" in out.output
    bad = runner.invoke(args=["second", "settings", "--campaign", scored.slug, "--share", "dos"])
    assert bad.exit_code == 1 and "share" in bad.output
    scoped = runner.invoke(args=["second", "draw", "--campaign", scored.slug, "--by", "nadie@example.org"])
    assert scoped.exit_code == 1
    drawn = runner.invoke(args=["second", "draw", "--campaign", scored.slug, "--by", "admin@example.org"])
    # share 10 % and minimum 1: one per state (Querétaro has 2 verified, Jalisco 1)
    assert drawn.exit_code == 0 and "drew 2 of 3 verified responses (seed 99)" in drawn.output
    assert "22 Querétaro: 1 of 2" in drawn.output
    locked = runner.invoke(args=["second", "settings", "--campaign", scored.slug, "--share", "0.5"])
    assert locked.exit_code == 1 and "ya se sorteó" in locked.output
    shown = runner.invoke(args=["second", "agreement", "--campaign", scored.slug, "--resamples", "50"])
    assert shown.exit_code == 0 and "sample 2 (finished 0), seed 99" in shown.output
    assert "no items were compared" in shown.output


def test_civil_society_coassessors_double_code_citizen_evaluations(app, client, runner):
    from diagnostic.models import SampledResponse
    from diagnostic.services import demo, users

    with app.app_context():
        demo.build(seed=7, n_institutions=80)
        campaign = campaigns.get_by_slug(demo.SLUG)
        admin = users.get_by_email("admin@apertura.demo")
        second.update_settings(campaign, Actor.for_user(admin), share="0.05", min_per_state="1", seed="5",
                               purpose="evaluator")
        sample = second.draw(campaign, admin, "evaluator")
        assert sample.members and all(m.response.purpose.value == "evaluator" for m in sample.members)
        assert second.sample_of(campaign) is None  # the national sample is another one
        coders = [users.get_by_email(f"evaluador{i}@apertura.demo") for i in (1, 2)]
        with pytest.raises(ServiceError) as not_evaluator:
            second.assign_assessors(campaign, [admin], Actor.for_user(admin))
        assert not_evaluator.value.refusal is Refusal.NOT_AN_EVALUATOR
        assert second.assign_assessors(campaign, coders, Actor.for_user(admin)) == len(sample.members)
        members = db.session.scalars(sa.select(SampledResponse).where(SampledResponse.sample_id == sample.id)).all()
        assert all(m.assessor_id != m.response.evaluator_id for m in members)
        mine = next(m for m in members if m.assessor_id == coders[0].id)
        other = next((m for m in members if m.assessor_id != coders[0].id), None)
        mine_id, other_id = mine.id, other.id if other else None
        coder_id, outsider_id = coders[0].id, users.get_by_email("evaluador8@apertura.demo").id
        first = next(v for v in mine.verdicts if v.first_value)
        first_id, first_value = first.id, first.first_value
    sign_in(client, coder_id)
    assert "Mis co-evaluaciones" in client.get("/evaluate/").get_data(as_text=True)
    listing = client.get("/analyst/coassessment").get_data(as_text=True)
    assert f"/analyst/{demo.SLUG}/second/{mine_id}" in listing
    assert client.get(f"/analyst/{demo.SLUG}/second").status_code == 403  # not national staff
    page = client.get(f"/analyst/{demo.SLUG}/second/{mine_id}")
    assert page.status_code == 200 and "Verificación ciega" in page.get_data(as_text=True)
    if other_id:
        assert client.get(f"/analyst/{demo.SLUG}/second/{other_id}").status_code == 403
    token = csrf_token(client, "/analyst/coassessment")
    changed = "__otro__" if first_value != "__otro__" else "__otro2__"
    with app.app_context():
        member = db.session.get(SampledResponse, mine_id)
        verdict = db.session.get(SecondVerdict, first_id)
        question = responses.definition_of(member.response).fields.get(verdict.field)
        qtype = question.type if question is not None else "text"
    if qtype in ("text", "string"):
        client.post(f"/analyst/{demo.SLUG}/second/{mine_id}", data={
            "csrf_token": token, "verdict": first_id, "decision": "correct", "value": changed,
            "reason": "La solicitud no se presentó así"})
    assert client.post(f"/analyst/{demo.SLUG}/second/{mine_id}/accept-remaining",
                       data={"csrf_token": token}).status_code == 302
    sign_in(client, outsider_id)
    assert client.get(f"/analyst/{demo.SLUG}/second/{mine_id}").status_code == 403
    with app.app_context():
        campaign = campaigns.get_by_slug(demo.SLUG)
        view = second.overview(campaign, "evaluator")
        assert any(r.finished for r in view.rows)
        data = second.report_section(campaign)
        assert data["institution"] is None and data["evaluator"]["finished"] >= 1
        assert data["evaluator"]["groups"][-1]["overall"]
        with pytest.raises(Conflict) as publish:
            second.check_publishable(campaign)
        assert publish.value.refusal is Refusal.SECOND_VERIFICATION_OPEN
        state = db.session.get(SampledResponse, mine_id).state_code
        admin_id = users.get_by_email("admin@apertura.demo").id
    sign_in(client, admin_id)
    html = client.get(f"/resultados/{demo.SLUG}/{state}").get_data(as_text=True)
    assert "Doble codificación de la evaluación ciudadana" in html and "semilla 5" in html
    agreement = client.get(f"/analyst/{demo.SLUG}/agreement").get_data(as_text=True)
    assert 'id="agreement-evaluator"' in agreement
    queue = client.get(f"/analyst/{demo.SLUG}/second?purpose=evaluator").get_data(as_text=True)
    assert 'id="assign"' in queue and "Evaluador 1" in queue


def second_cases(member_id: int, verdict_id: int) -> list[tuple[str, str, dict | None, dict]]:
    """(method, url, form, expected status by role) of every second-verification route of the
    analyst area, once the state (the analyst) verified and an admin drew the sample."""
    base = f"/analyst/{SLUG}"
    staff = {"evaluator": 403, "analyst": 200, "admin": 200}
    return [
        ("GET", f"{base}/second", None, staff),
        ("GET", f"{base}/second?purpose=evaluator", None, staff),
        ("POST", f"{base}/second/draw", {}, {"evaluator": 403, "analyst": 409, "admin": 409}),
        ("POST", f"{base}/second/assign", {}, {"evaluator": 403, "analyst": 409, "admin": 409}),
        ("GET", "/analyst/coassessment", None, {"evaluator": 200, "analyst": 200, "admin": 200}),
        ("GET", f"{base}/second/{member_id}", None, staff),
        ("POST", f"{base}/second/{member_id}", {"verdict": verdict_id, "decision": "accept"},
         {"evaluator": 403, "analyst": 409, "admin": 302}),  # the analyst verified it first
        ("POST", f"{base}/second/{member_id}/accept-remaining", {}, {"evaluator": 403, "analyst": 409, "admin": 302}),
        ("GET", f"{base}/second/resolution", None, staff),
        ("POST", f"{base}/second/resolution", {"verdict": verdict_id, "choice": "second", "reason": "x"},
         {"evaluator": 403, "analyst": 409, "admin": 409}),  # nothing to resolve
        ("GET", f"{base}/agreement", None, staff),
    ]


SLUG = "metrica-prueba"


@pytest.mark.parametrize("role", ("anonymous", "evaluator", "analyst", "admin"))
def test_second_verification_routes_by_role(app, scored, role):
    with app.app_context():
        first_stage(scored)
        sample = second.draw(_campaign(scored), _user(scored, "admin"))
        member = sample.members[0]
        member_id, verdict_id = member.id, member.verdicts[0].id
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, scored.users[role])
    token = csrf_token(client, "/" if role != "anonymous" else "/auth/login")
    for method, url, form, expected in second_cases(member_id, verdict_id):
        response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token, **form})
        if role == "anonymous":
            assert response.status_code in (302, 401), (url, response.status_code)
            if response.status_code == 302:
                assert "/auth/login" in response.headers["Location"]
        else:
            assert response.status_code == expected[role], (role, method, url, response.status_code)
