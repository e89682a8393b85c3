"""Score tables: the web tables equal a direct `scoring` call on the campaign's answers, the
`apertura score` command prints the same numbers, and sorting/filtering work without JS."""
from __future__ import annotations

import csv
import io
import json
import re

import pandas as pd
import pytest
import sqlalchemy as sa

import scoring
from scoring import IndexModel, groups, stats
from scoring.uncertainty import uncertainty
from tests.web.conftest import sign_in


def _direct(app, slug: str):
    """Score the campaign straight from the database tables with `scoring`, bypassing the service."""
    from diagnostic.extensions import db
    from diagnostic.models import (
        Answer,
        Campaign,
        Institution,
        Participation,
        Response,
        ResponseStatus,
    )

    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == slug))
        rows = db.session.execute(
            sa.select(Institution.key, Answer.field, Answer.repeat_index, Answer.value, Answer.verified_value,
                      Answer.verification)
            .join(Response, Response.id == Answer.response_id)
            .join(Institution, Institution.id == Response.institution_id)
            .where(Response.campaign_id == campaign.id,
                   Response.status.in_([ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED]))).all()
        answers = pd.DataFrame(
            [(k, f, i, vv if how == "corrected" else v) for k, f, i, v, vv, how in rows],
            columns=["institution", "field", "repeat_index", "value"])
        insts = pd.DataFrame(
            [(i.key, i.name, i.state_code, i.order.value, i.type) for i in db.session.scalars(
                sa.select(Institution).join(Participation).where(Participation.campaign_id == campaign.id)
                .order_by(Institution.state_code, Institution.name))],  # the sample's order seeds resampling
            columns=["institution", "name", "state", "order", "type"])
        model = IndexModel.from_text(campaign.index_model.source)
    return scoring.score(answers, insts, model)


def _web_values(html: str) -> list[dict[str, str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = dict(re.findall(r'data-col="(\w+)" data-value="([^"]+)"', row))
        for key, low, high in re.findall(r'data-col="(\w+)" data-value="[^"]+" data-low="([^"]*)" data-high="([^"]*)"', row):
            cells[f"{key}_low"], cells[f"{key}_high"] = low, high
        cells.update({k: v.strip() for k, v in re.findall(r'data-col="(\w+)">([^<]*)<', row)})
        rows.append(cells)
    return rows


def test_state_and_institution_tables_match_a_direct_scoring_call(app, client, scored):
    from diagnostic.services import scores as service

    result = _direct(app, scored.slug)
    codes = ["GA", "T", "TG", "TC", "P", "PG", "PC"]  # tree order: per-node seeds follow it
    wide = result.wide(None)[codes]
    expected = groups.state_table(wide, result.institutions, codes).set_index("state")
    seed = service.DEFAULT_SEED
    intervals = stats.group_intervals(wide, result.institutions, "state", codes, n_resamples=service.BOOTSTRAP_RESAMPLES,
                                      seed=seed).set_index(["state", "code"])
    tests = stats.rest_of_nation_gaps(wide, result.institutions, codes, n_resamples=service.BOOTSTRAP_RESAMPLES,
                                      permutations=service.PERMUTATIONS, seed=seed).set_index(["state", "code"])
    ranks = uncertainty(result, n=service.UNCERTAINTY_RUNS, seed=seed)
    sign_in(client, scored.users["analyst"])
    for code in codes:
        html = client.get(f"/analyst/{scored.slug}/scores?by=state&detail={code}").get_data(as_text=True)
        rows = _web_values(html)
        assert [r["state"] for r in rows] == ["22", "14", "09"]  # sorted by GA, highest first
        for row in rows:
            state = row["state"]
            for other in codes:  # every node's mean with its bootstrap interval
                assert float(row[other]) == pytest.approx(expected.loc[state, other], abs=5e-7)
                assert float(row[f"{other}_low"]) == pytest.approx(intervals.loc[(state, other), "low"], abs=5e-7)
                assert float(row[f"{other}_high"]) == pytest.approx(intervals.loc[(state, other), "high"], abs=5e-7)
            # the detailed node: rest of nation, gap with interval, tests and BH q-value
            assert float(row[f"{code}_rest"]) == pytest.approx(expected.loc[state, f"{code}_rest"], abs=5e-7)
            gap = expected.loc[state, code] - expected.loc[state, f"{code}_rest"]
            assert float(row[f"{code}_gap"]) == pytest.approx(gap, abs=5e-7)
            assert float(row[f"{code}_gap_low"]) == pytest.approx(tests.loc[(state, code), "gap_low"], abs=5e-7)
            assert float(row[f"{code}_q"]) == pytest.approx(tests.loc[(state, code), "q_value"], abs=5e-7)
            assert float(row[f"{code}_perm_p"]) == pytest.approx(tests.loc[(state, code), "permutation_p"], abs=5e-7)
            assert f"{'TC' if code != 'TC' else 'T'}_q" not in row
    state_ranks = ranks.states.set_index("state")
    for row in rows:
        assert float(row["rank"]) == state_ranks.loc[row["state"], "rank"]
        assert float(row["rank_low"]) == state_ranks.loc[row["state"], "rank_low"]
        assert float(row["rank_high"]) == state_ranks.loc[row["state"], "rank_high"]

    wide = result.wide(None)
    coverage = result.wide(None, coverage=True)
    institution_ranks = ranks.institutions.set_index("institution")
    rows = _web_values(client.get(f"/analyst/{scored.slug}/scores?by=institution&sort=name&dir=asc")
                       .get_data(as_text=True))
    assert len(rows) == 5
    for row in rows:
        assert float(row["GA"]) == pytest.approx(wide.loc[row["institution"], "GA"], abs=5e-7)
        assert float(row["GA_coverage"]) == pytest.approx(coverage.loc[row["institution"], "GA"], abs=5e-7)
        assert float(row["rank_high"]) == institution_ranks.loc[row["institution"], "rank_high"]


def test_type_order_and_nation_tables(app, client, scored):
    result = _direct(app, scored.slug)
    sign_in(client, scored.users["admin"])
    by_type = groups.group_means(result.wide("index"), result.institutions, "type").set_index("type")
    rows = _web_values(client.get(f"/analyst/{scored.slug}/scores?by=type&level=index").get_data(as_text=True))
    assert {r["type"] for r in rows} == {"ejecutivo", "legislativo", "municipio"}
    for row in rows:
        assert float(row["GA"]) == pytest.approx(by_type.loc[row["type"], "GA"], abs=5e-7)
        assert row["n"] == str(by_type.loc[row["type"], "n"])
    rows = _web_values(client.get(f"/analyst/{scored.slug}/scores?by=nation").get_data(as_text=True))
    assert float(rows[0]["GA"]) == pytest.approx(result.wide("index")["GA"].mean(), abs=5e-7)
    html = client.get(f"/analyst/{scored.slug}/scores?by=order&level=component").get_data(as_text=True)
    assert 'data-col="AI"' in html and {r["order"] for r in _web_values(html)} == {"estatal", "municipal"}


def test_sort_and_filter_by_query_arguments(client, scored):
    sign_in(client, scored.users["analyst"])
    url = f"/analyst/{scored.slug}/scores?by=institution"
    ascending = [r["institution"] for r in _web_values(client.get(url + "&sort=GA&dir=asc").get_data(as_text=True))]
    descending = [r["institution"] for r in _web_values(client.get(url + "&sort=GA&dir=desc").get_data(as_text=True))]
    assert ascending[-1] in ("Q1", "J1") and descending[0] in ("Q1", "J1")
    assert set(ascending) == set(descending) == {"Q1", "Q2", "J1", "J2", "C1"}
    filtered = _web_values(client.get(url + "&state=22").get_data(as_text=True))
    assert {r["institution"] for r in filtered} == {"Q1", "Q2"}
    found = _web_values(client.get(url + "&q=zapopan").get_data(as_text=True))
    assert [r["institution"] for r in found] == ["J2"]
    assert _web_values(client.get(url + "&type=municipio&order=municipal").get_data(as_text=True))[0]["name"]
    # unknown sort columns and groupings fall back instead of failing; unknown levels are a 400
    assert client.get(url + "&sort=nope&by=nope").status_code == 200
    assert client.get(url + "&level=nope").status_code == 400
    html = client.get(url + "&sort=GA&dir=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in html and "dir=asc" in html
    # pages keep the sort and filters
    names = [r["name"] for r in _web_values(client.get(url + "&sort=name&dir=asc").get_data(as_text=True))]
    first = client.get(url + "&sort=name&dir=asc&per_page=2").get_data(as_text=True)
    assert [r["name"] for r in _web_values(first)] == names[:2] and 'aria-current="page">1<' in first
    assert "page=3" in first and "sort=name" in first.split('class="pages"')[1]
    third = _web_values(client.get(url + "&sort=name&dir=asc&per_page=2&page=3").get_data(as_text=True))
    assert [r["name"] for r in third] == names[4:]
    assert _web_values(client.get(url + "&per_page=2&page=99").get_data(as_text=True))


def test_verified_values_change_the_tables_and_the_cache_follows(app, client, scored):
    from diagnostic.services import campaigns, responses, scores
    from diagnostic.services.audit import Actor
    from diagnostic.services.users import get

    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        first = scores.compute(campaign)
        assert scores.compute(campaign) is first  # cached while the data is unchanged
        analyst = get(scored.users["analyst"])
        responses.verify_answer(responses.get(scored.responses["J1"]), "ta_share", None, Actor.for_user(analyst),
                                corrected="0", reason="El SIPOT no muestra la información")
        second = scores.compute(campaign)
        assert second.fingerprint != first.fingerprint
        before = first.table("institution").set_index("institution").loc["J1", "GA"]
        after = second.table("institution").set_index("institution").loc["J1", "GA"]
        assert after < before
    assert _direct(app, scored.slug).wide("index").loc["J1", "GA"] == pytest.approx(after)


@pytest.mark.parametrize("by", ["state", "institution", "type", "order", "nation"])
def test_cli_prints_the_web_numbers(app, client, runner, scored, by, tmp_path):
    sign_in(client, scored.users["analyst"])
    web = _web_values(client.get(f"/analyst/{scored.slug}/scores?by={by}").get_data(as_text=True))
    result = runner.invoke(args=["score", "--campaign", scored.slug, "--by", by, "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["metadata"]["campaign"] == scored.slug and payload["metadata"]["by"] == by
    key = {"state": "state", "institution": "institution", "type": "type", "order": "order", "nation": "group"}[by]
    cli = {str(r[key]): r for r in payload["rows"]}
    assert len(cli) == len(web)
    for row in web:
        for column, value in row.items():
            if re.fullmatch(r"-?\d+\.\d{6}", value):
                assert f"{cli[row[key]][column]:.6f}" == value, (by, column)
    out = tmp_path / "scores.csv"
    result = runner.invoke(args=["score", "--campaign", scored.slug, "--by", by, "--out", str(out), "--seed", "7"])
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {r[key] for r in table} == set(cli)
    for row in table:
        assert float(row["GA"]) == pytest.approx(cli[row[key]]["GA"])


def test_cli_errors_are_clear(runner, scored):
    result = runner.invoke(args=["score", "--campaign", "no-existe"])
    assert result.exit_code == 1 and "Campaña no encontrada" in result.output
    result = runner.invoke(args=["score", "--campaign", scored.slug, "--by", "planet"])
    assert result.exit_code == 2


def test_campaign_without_index_model_is_a_clear_409(app, client, scored):
    from diagnostic.services import campaigns

    with app.app_context():
        campaigns.create("Sin modelo", 2025, slug="sin-modelo")
    sign_in(client, scored.users["analyst"])
    response = client.get("/analyst/sin-modelo/scores")
    assert response.status_code == 409 and "modelo de índice" in response.get_data(as_text=True)


def test_every_grouping_and_level_renders(app, client, scored):
    from diagnostic.extensions import db
    from diagnostic.models import Institution, Order
    from diagnostic.services import campaigns, institutions, instruments

    with app.app_context():  # a second campaign nobody answered yet
        empty = campaigns.create("Sin respuestas", 2025, slug="sin-respuestas")
        campaigns.set_instrument(empty, "institution", instruments.store_shipped("gobierno"))
        campaigns.set_index_model(empty, instruments.store_shipped_index_model("apertura"))
        lone = Institution(key="A1", name="Única", state_code="01", order=Order.ESTATAL, type="ejecutivo")
        db.session.add(lone)
        db.session.commit()
        institutions.add_to_campaign(empty, [lone])
    sign_in(client, scored.users["analyst"])
    for slug in (scored.slug, "sin-respuestas"):
        for by in ("institution", "state", "type", "order", "nation"):
            for level in ("headline", "index", "dimension", "subindex", "component", "item"):
                response = client.get(f"/analyst/{slug}/scores?by={by}&level={level}")
                assert response.status_code == 200, (slug, by, level)
        assert client.get(f"/analyst/{slug}/export/scores-state-long.csv?level=item").status_code == 200
