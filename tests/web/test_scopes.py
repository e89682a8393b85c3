"""State scopes (issue 12 §1): setting an account's states (service, CLI, admin page) and what a
state-scoped analyst gets from each service: only its states' institutions, national aggregates,
another state's response not found. The route-by-route matrix is in test_authorization.py."""
from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from diagnostic.extensions import db
from diagnostic.models import AuditEvent, Role, User
from diagnostic.security import NATIONAL, Scope, scope_of
from diagnostic.services import (
    NotFound,
    Refusal,
    ServiceError,
    audit,
    campaigns,
    exports,
    review,
    scores,
    users,
)
from tests.web.conftest import csrf_token, login
from tests.web.scoped import OAXACA_MARKERS, PASSWORD, leaked, seed_scoped

JALISCO = Scope(frozenset({"14"}))


@pytest.fixture
def data(app):
    return seed_scoped(app)


# ------------------------------------------------------------------ setting scopes (service)
def test_states_by_code_or_name_and_refusals_name_the_value(app):
    with app.app_context():
        user = users.create("g@x.example", "G", "analyst", PASSWORD, states=["Jalisco", "20", "14", "Edo. de México"])
        assert user.state_codes == {"14", "15", "20"}
        assert scope_of(user).allows("20") and not scope_of(user).allows("09")
        with pytest.raises(ServiceError) as refused:
            users.create("h@x.example", "H", "analyst", PASSWORD, states=["Jalisco", "Narnia"])
        assert refused.value.refusal is Refusal.UNKNOWN_SCOPE_STATE
        assert "«Narnia»" in refused.value.message_for("es") and "«Narnia»" in refused.value.message_for("en")
        assert users.get_by_email("h@x.example") is None  # nothing half-created
        with pytest.raises(ServiceError) as federal:
            users.create("h@x.example", "H", "analyst", PASSWORD, states=["00"])
        assert federal.value.refusal is Refusal.UNKNOWN_SCOPE_STATE
        for role, refusal in (("admin", Refusal.ADMIN_IS_NATIONAL), ("evaluator", Refusal.EVALUATOR_NOT_SCOPED)):
            with pytest.raises(ServiceError) as wrong:
                users.create(f"{role}@x.example", role, role, PASSWORD, states=["14"])
            assert wrong.value.refusal is refusal and wrong.value.status == 400


def test_changing_states_is_audited_and_empty_means_national(app):
    with app.app_context():
        admin = users.create("a@x.example", "A", "admin", PASSWORD)
        user = users.create("g@x.example", "G", "analyst", PASSWORD, states=["14"])
        from diagnostic.services.audit import Actor

        assert users.set_states(user, ["14", "Oaxaca"], actor=Actor.for_user(admin)) is True
        assert users.set_states(user, ["20", "jalisco"]) is False  # same states: nothing recorded
        assert sorted(user.state_codes) == ["14", "20"]
        assert users.set_states(user, []) is True
        assert scope_of(user) is NATIONAL
        events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.states")
                                         .order_by(AuditEvent.id)))
        assert [(e.old_value, e.new_value, e.user_id) for e in events] == [
            ("14", "14 20", admin.id), ("14 20", None, None)]
        assert review.label_of(review.ACTION_LABELS, "user.states", "en") == "Changed an account's states"
        admin_row = db.session.get(User, admin.id)
        assert admin_row.role == Role.ADMIN and scope_of(admin_row) is NATIONAL


# ------------------------------------------------------------------ what each service returns
def test_services_narrow_to_the_scope(app, data):
    with app.app_context():
        campaign = campaigns.get_by_slug(data.slug)
        oax = data.responses["OAX-TLACO-77"]
        # submissions table and its filters
        mine = review.submissions(campaign, scope=JALISCO)
        assert [r.institution.key for r in mine.rows] == ["JAL-HAC-1"]
        assert mine.states == [("14", "Jalisco")]
        assert len(review.submissions(campaign, scope=NATIONAL).rows) == 2
        assert review.submissions(campaign, review.SubmissionQuery(state="20"), scope=JALISCO).rows == []
        # one response: another state's is not found, as an unknown id is
        with pytest.raises(NotFound):
            review.get_response(campaign, oax, scope=JALISCO)
        assert review.get_response(campaign, oax, scope=NATIONAL).id == oax
        assert review.next_to_review(review.get_response(campaign, data.responses["JAL-HAC-1"]), scope=JALISCO) is None
        # bulk accept leaves another state's submission alone
        nothing = review.bulk_plan(campaign, [str(oax)], scope=JALISCO)
        assert (nothing.responses, nothing.answers, nothing.skipped) == ([], 0, 0)  # as for an unknown id
        assert [r.id for r in review.bulk_plan(campaign, [str(oax), str(data.responses["JAL-HAC-1"])],
                                                scope=JALISCO).responses] == [data.responses["JAL-HAC-1"]]
        # progress: own rows only, other tiles blank, counts of the scope
        progress = review.progress(campaign, scope=JALISCO)
        assert [row.key for row in progress.by_state] == ["14"]
        assert progress.total.institutions == 2 and progress.counts["institutions"] == 2
        assert {p.institution.key for p in progress.pending} == {"JAL-ZAP-2"}
        assert next(t for t in progress.tiles if t.rate.key == "20").rate.institutions == 0
        assert review.progress(campaign, scope=NATIONAL).total.institutions == 4
        # audit log
        log = audit.campaign_events(campaign, states=JALISCO)
        named = {i.key for i in log.institutions.values()} | {i.key for i in log.choices}
        assert named == {"JAL-HAC-1"}
        assert any(e.action == "answer.verify" for e in log.events)
        assert {i.key for i in audit.campaign_events(campaign, states=NATIONAL).choices} == {"JAL-HAC-1", "OAX-TLACO-77"}


def test_scores_keep_own_rows_and_national_aggregates(app, data):
    with app.app_context():
        campaign = campaigns.get_by_slug(data.slug)
        national = scores.compute(campaign)
        seen = scores.for_reader(campaign, scope=JALISCO)
        assert set(seen.table("institution")["institution"]) == {"JAL-HAC-1", "JAL-ZAP-2"}
        assert list(seen.table("state")["state"]) == ["14"]
        assert seen.table("nation").equals(national.table("nation"))  # the national aggregate is shown
        assert len(national.table("institution")) == 4 and len(national.table("state")) == 2  # not narrowed
        # the same numbers for the rows it keeps
        own = national.table("institution").set_index("institution").loc["JAL-HAC-1"]
        assert seen.table("institution").set_index("institution").loc["JAL-HAC-1"].equals(own)
        view = scores.table_view(campaign, scores.TableQuery(by="institution"), scope=JALISCO)
        assert view.total == 2 and {r["institution"] for r in view.rows} == {"JAL-HAC-1", "JAL-ZAP-2"}
        for text in (exports.scores_csv(seen, "institution"), exports.scores_csv(seen, "institution", shape="long"),
                     exports.scores_json(campaign, seen, "institution")):
            assert leaked(text.encode()) == []
        assert leaked(exports.scores_xlsx(campaign, seen, "institution")) == []
        assert leaked(exports.scores_csv(national, "institution").encode())  # the check can fail


def test_offline_import_refuses_another_states_rows_as_unknown(app, data):
    from diagnostic.services import submissions

    csv = b"institution,_uuid,ai_unit\nOAX-MITLA-78,uuid-1,no\n"
    with app.app_context():
        campaign = campaigns.get_by_slug(data.slug)
        mine = submissions.preview(campaign, csv, "kobo.csv", scope=JALISCO)
        national = submissions.preview(campaign, csv, "kobo.csv", scope=NATIONAL)
        message = [e.format("en") for e in mine.errors]
        assert any("institution not in the campaign: OAX-MITLA-78" in m for m in message)
        assert not any("not in the campaign" in e.format("en") for e in national.errors)


def test_mail_roster_and_wording_for_a_state_account(app, data):
    client = app.test_client()
    login(client, "jalisco@alcance.example")
    page = client.get(f"/correo/c/{data.slug}").get_data(as_text=True)
    assert "Zapopan" in page and leaked(page.encode()) == []
    token = csrf_token(client, f"/correo/c/{data.slug}/mensajes")
    refused = client.post(f"/correo/c/{data.slug}/mensajes", data={
        "csrf_token": token, "kind": "invitation", "lang": "es", "subject": "Hola", "body": "{enlace}",
        "action": "save"})
    assert refused.status_code == 403 and "Jalisco" in refused.get_data(as_text=True)
    assert client.get(f"/correo/c/{data.slug}/i/{data.institutions['OAX-MITLA-78']}").status_code == 404
    # a send reaches only the account's states
    with app.app_context():
        from diagnostic.services import mailings

        campaign = campaigns.get_by_slug(data.slug)
        assert {r.institution.state_code for r in mailings.roster(campaign, scope=JALISCO)} == {"14"}
        assert {r.institution.state_code for r in mailings.roster(campaign, scope=NATIONAL)} == {"14", "20"}


def test_unpublished_results_for_state_accounts(app, data):
    client = app.test_client()
    login(client, "jalisco@alcance.example")
    assert client.get(f"/resultados/{data.slug}/14").status_code == 200
    for url in ("/20", "/oaxaca", "/", "/nacional", "/datos-institution.csv", "/datapackage.json"):
        assert client.get(f"/resultados/{data.slug}{url}").status_code == 404, url
    index = client.get("/analyst/").get_data(as_text=True)
    assert "Reporte de Jalisco" in index and "limitada a: Jalisco" in index
    # once published, results are public to everyone, every state and the nation
    with app.app_context():
        campaign = campaigns.get_by_slug(data.slug)
        campaigns.set_status(campaign, "closed")
        campaign.reply_days = 0  # no right-of-reply window to wait for (methodology §9.5)
        campaigns.set_status(campaign, "in_review")
        campaigns.set_status(campaign, "published")
    assert client.get(f"/resultados/{data.slug}/20").status_code == 200
    assert app.test_client().get(f"/resultados/{data.slug}/nacional").status_code == 200


# ------------------------------------------------------------------ admin page
def test_admin_creates_and_changes_an_accounts_states(app, data):
    client = app.test_client()
    login(client, "admin@alcance.example")
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'data-scope="jalisco@alcance.example">Jalisco' in page
    assert 'data-scope="nacional@alcance.example">nacional' in page
    token = csrf_token(client, "/admin/users")
    made = client.post("/admin/users", data={"csrf_token": token, "email": "oax2@alcance.example", "name": "O",
                                             "role": "analyst", "password": PASSWORD, "states": ["20", "14"]})
    assert made.status_code == 302
    refused = client.post("/admin/users", data={"csrf_token": token, "email": "adm2@alcance.example", "name": "A",
                                                "role": "admin", "password": PASSWORD, "states": ["20"]})
    assert refused.status_code == 400 and "siempre nacional" in refused.get_data(as_text=True)
    with app.app_context():
        assert users.get_by_email("oax2@alcance.example").state_codes == {"14", "20"}
        assert users.get_by_email("adm2@alcance.example") is None
        target = users.get_by_email("jalisco@alcance.example").id
    changed = client.post(f"/admin/users/{target}/states", data={"csrf_token": token, "states": ["20"]})
    assert changed.status_code == 302
    assert "Oaxaca" in client.get("/admin/users").get_data(as_text=True)
    bad = client.post(f"/admin/users/{target}/states", data={"csrf_token": token, "states": ["99"]})
    assert bad.status_code == 400 and "«99»" in bad.get_data(as_text=True)
    assert client.post("/admin/users/999999/states", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        user = db.session.get(User, target)
        assert user.state_codes == {"20"}
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.states"))
        assert (event.old_value, event.new_value, event.entity_id) == ("14", "20", target)
    # the account's next request already sees Oaxaca, not Jalisco
    analyst = app.test_client()
    login(analyst, "jalisco@alcance.example")
    assert analyst.get(f"/analyst/{data.slug}/responses/{data.responses['OAX-TLACO-77']}").status_code == 200
    assert analyst.get(f"/analyst/{data.slug}/responses/{data.responses['JAL-HAC-1']}").status_code == 404


# ------------------------------------------------------------------ command line
def test_cli_users_create_list_and_scope(app, runner):
    made = runner.invoke(args=["users", "create", "g@x.example", "--role", "analyst", "--state", "14",
                               "--state", "Oaxaca", "--password", PASSWORD])
    assert made.exit_code == 0, made.output
    assert "Jalisco, Oaxaca" in made.output
    unknown = runner.invoke(args=["users", "create", "h@x.example", "--role", "analyst", "--state", "Atlantis",
                                  "--password", PASSWORD])
    assert unknown.exit_code == 1 and "«Atlantis»" in unknown.output
    admin = runner.invoke(args=["users", "create", "a@x.example", "--role", "admin", "--state", "14",
                                "--password", PASSWORD])
    assert admin.exit_code == 1 and "siempre nacional" in admin.output
    evaluator = runner.invoke(args=["users", "create", "e@x.example", "--role", "evaluator", "--state", "14",
                                    "--password", PASSWORD])
    assert evaluator.exit_code == 1 and "asignadas" in evaluator.output
    national = runner.invoke(args=["users", "create", "n@x.example", "--role", "analyst", "--password", PASSWORD])
    assert national.exit_code == 0
    listing = runner.invoke(args=["users", "list"])
    assert "g@x.example\tanalyst\t14 20 (Jalisco, Oaxaca)\tactiva" in listing.output
    assert "n@x.example\tanalyst\tnacional\tactiva" in listing.output
    assert "h@x.example" not in listing.output and "a@x.example" not in listing.output
    assert runner.invoke(args=["users", "scope", "g@x.example", "--national"]).exit_code == 0
    assert "g@x.example\tanalyst\tnacional" in runner.invoke(args=["users", "list"]).output
    assert runner.invoke(args=["users", "scope", "g@x.example", "--state", "Yucatán"]).exit_code == 0
    assert "31 (Yucatán)" in runner.invoke(args=["users", "list"]).output
    assert runner.invoke(args=["users", "scope", "g@x.example"]).exit_code == 2  # neither --state nor --national
    assert runner.invoke(args=["users", "scope", "nadie@x.example", "--national"]).exit_code == 1


def test_cli_outputs_as_national_unless_user_given(app, runner, data, tmp_path):
    everything = runner.invoke(args=["score", "--campaign", data.slug, "--by", "institution"])
    assert everything.exit_code == 0 and "OAX-TLACO-77" in everything.output
    mine = runner.invoke(args=["score", "--campaign", data.slug, "--by", "institution",
                               "--user", "jalisco@alcance.example", "--format", "json"])
    assert mine.exit_code == 0, mine.output
    rows = json.loads(mine.output)["rows"]
    assert {r["institution"] for r in rows} == {"JAL-HAC-1", "JAL-ZAP-2"}
    assert leaked(mine.output.encode()) == []
    nobody = runner.invoke(args=["score", "--campaign", data.slug, "--user", "nadie@x.example"])
    assert nobody.exit_code == 1 and "nadie@x.example" in nobody.output
    # reports of an unpublished campaign: own states only
    refused = runner.invoke(args=["report", "--campaign", data.slug, "--national", "--out", str(tmp_path / "a"),
                                  "--user", "jalisco@alcance.example"])
    assert refused.exit_code == 1 and "Jalisco" in refused.output
    some = runner.invoke(args=["report", "--campaign", data.slug, "--all", "--out", str(tmp_path / "b"),
                               "--user", "jalisco@alcance.example"])
    assert some.exit_code == 0, some.output
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [f"apertura-{data.slug}-jal.html"]
    every = runner.invoke(args=["report", "--campaign", data.slug, "--all", "--out", str(tmp_path / "c")])
    assert every.exit_code == 0 and len(list((tmp_path / "c").iterdir())) == 2
    # an offline import as a state account: another state's row is "not in the campaign"
    kobo = tmp_path / "kobo.csv"
    kobo.write_text("institution,_uuid,ai_unit\nOAX-MITLA-78,uuid-1,no\n", encoding="utf-8")
    imported = runner.invoke(args=["responses", "import", str(kobo), "--campaign", data.slug, "--dry-run",
                                   "--user", "jalisco@alcance.example", "--lang", "en"])
    assert imported.exit_code == 1 and "institution not in the campaign: OAX-MITLA-78" in imported.output


def test_xlsx_exports_of_a_state_account(app, data):
    client = app.test_client()
    login(client, "jalisco@alcance.example")
    body = client.get(f"/analyst/{data.slug}/export/scores-institution.xlsx").get_data()
    sheet = load_workbook(io.BytesIO(body))["scores"]
    keys = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert keys == {"JAL-HAC-1", "JAL-ZAP-2"}
    body = client.get(f"/analyst/{data.slug}/export/submissions.xlsx").get_data()
    assert leaked(body, OAXACA_MARKERS) == [] and leaked(body, ("Hacienda de Jalisco",))
