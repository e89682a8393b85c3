"""score(): a hand-computed case end to end, each aggregation and missing-data policy."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.aggregate import a_amean, a_gmean, a_hmean
from scoring.model import IndexModel
from scoring.pipeline import InputError, InputIssueCode, compare, score

from .conftest import long_answers

INSTITUTIONS = pd.DataFrame({
    "institution": ["a", "b", "c"],
    "name": ["Alfa", "Beta", "Gama"],
    "state": ["Edo. de México", "CDMX", "1"],
    "order": ["estatal", "estatal", "municipal"],
    "type": ["ejecutivo", "ejecutivo", "municipio"],
})
ANSWERS = long_answers([
    ("a", "ai_unit", None, "yes"), ("a", "ai_channels", None, "pnt email"), ("a", "answered", None, "5"),
    ("a", "received", None, "10"), ("a", "ta_share", None, "80"), ("a", "da", None, "4"),
    ("a", "requests.days", 0, "3"), ("a", "requests.days", 1, "12"), ("a", "sex", None, "na"),
    ("a", "pg_has", None, "yes"),
    ("b", "ai_unit", None, "no"),
])


def test_hand_computed_end_to_end(small_model):
    result = score(ANSWERS, INSTITUTIONS, small_model)
    items = result.datasets["items"].loc["a"]
    # ai_unit yes → 1; channels 2 of 4 → 0.5; ratio 5/10 → 0.5.
    assert items[["ai_unit", "ai_channels", "ai_term"]].tolist() == [1.0, 0.5, 0.5]
    # ta_share 80/100 → 0.8; da 4 ≥ 3 → 0.5; requests 3 days → 1 and 12 days → 0, mean 0.5.
    assert items[["ta_share", "da", "cel"]].tolist() == [0.8, 0.5, 0.5]
    # sex = na: *no aplica*, removed (not zero).
    assert np.isnan(items["sex"]) and result.datasets["items_removed"].loc["a", "sex"]
    wide = result.wide()
    ai = (1 + 0.5 + 0.5) / 3            # 0.666…
    ta = (0.8 + 0.5 + 0.5) / 3          # 0.6: three items, `sex` removed
    t = 0.75 * ai + 0.25 * ta           # weights 3 : 1 → 0.65
    ga = (t + 1.0) / 2                  # P = PG = pg_has = 1 → 0.825
    assert wide.loc["a", "AI"] == pytest.approx(ai)
    assert wide.loc["a", "TA"] == pytest.approx(ta)
    assert wide.loc["a", "T"] == pytest.approx(t)
    assert wide.loc["a", "GA"] == pytest.approx(0.825)
    assert ga == pytest.approx(0.825)
    # b answered one item (ai_unit = no): under `zero` everything else is 0; coverage is the
    # weight share with data: AI 1/3 → T 0.75 · 1/3 = 0.25 → GA 0.5 · 0.25 = 0.125.
    assert wide.loc["b", "GA"] == 0.0
    cov = result.wide(coverage=True)
    assert cov.loc["b", "AI"] == pytest.approx(1 / 3)
    assert cov.loc["b", "GA"] == pytest.approx(0.125)
    # c never responded: 0 under `zero`, flagged.
    tidy = result.table("index").set_index("institution")
    assert tidy.loc["c", "score"] == 0.0 and not tidy.loc["c", "responded"] and tidy.loc["a", "responded"]
    assert result.institutions.loc["a", "state"] == "15" and result.institutions.loc["c", "state"] == "01"


def test_reweight_drops_missing_and_nonrespondent_becomes_missing(small_model):
    result = score(ANSWERS, INSTITUTIONS, small_model).rerun(missing="reweight")
    wide = result.wide()
    assert wide.loc["a", "GA"] == pytest.approx(0.825)
    # b: AI = ai_unit only (0); TA has no data → missing, dropped; T = AI = 0; P missing → GA = T = 0.
    assert wide.loc["b", "AI"] == 0.0 and np.isnan(wide.loc["b", "TA"]) and wide.loc["b", "GA"] == 0.0
    assert np.isnan(wide.loc["c", "GA"])
    assert result.params["overrides"] == {"missing": "reweight"}
    assert result.params["nodes"]["T"]["missing"] == "reweight"


def test_impute_uses_group_mean_by_type(small_model):
    result = score(ANSWERS, INSTITUTIONS, small_model, missing="impute")
    items = result.wide("component")
    # b (ejecutivo) gets a's (ejecutivo) values for its missing items: AI = (0 + 0.5 + 0.5) / 3.
    assert items.loc["b", "AI"] == pytest.approx(1 / 3)
    # c (municipio) has no group data: the overall mean of those who answered.
    assert items.loc["c", "PG"] == pytest.approx(1.0)
    assert result.wide(coverage=True).loc["c", "GA"] == 0.0


def test_min_coverage_makes_a_node_missing(small_model):
    result = score(ANSWERS, INSTITUTIONS, small_model, min_coverage=0.5)
    wide = result.wide()
    assert wide.loc["a", "GA"] == pytest.approx(0.825)
    assert np.isnan(wide.loc["b", "AI"])  # coverage 1/3 < 0.5: reported missing, not a number
    assert np.isnan(wide.loc["c", "GA"])


def test_weights_override_and_geometric(small_model):
    base = score(ANSWERS, INSTITUTIONS, small_model)
    heavier = base.rerun(weights={"AI": 1, "TA": 1})
    assert heavier.wide().loc["a", "T"] == pytest.approx((2 / 3 + 0.6) / 2)
    geo = base.rerun(aggregation="geometric")
    assert geo.wide().loc["a", "AI"] == pytest.approx((1 * 0.5 * 0.5) ** (1 / 3))
    harm = base.rerun(aggregation="harmonic")
    assert harm.wide().loc["a", "AI"] == pytest.approx(3 / (1 + 2 + 2))
    table = compare(base, heavier)
    assert list(table.columns) == ["institution", "score_a", "score_b", "difference", "rank_a", "rank_b", "rank_change"]
    assert table.loc[0, "institution"] == "a"
    assert set(base.datasets) >= {"raw", "raw_repeat", "items", "index", "dimension", "component", "item"}


def test_aggregators_by_hand():
    v = np.array([[0.25, 1.0], [0.0, 0.5], [np.nan, 0.4]])
    w = np.array([[1.0, 3.0], [1.0, 1.0], [0.0, 1.0]])
    assert a_amean(v, w).tolist() == pytest.approx([(0.25 + 3) / 4, 0.25, 0.4])
    assert a_gmean(v, w).tolist() == pytest.approx([0.25 ** 0.25, 0.0, 0.4])
    assert a_hmean(v, w).tolist() == pytest.approx([4 / (4 + 3), 0.0, 0.4])
    assert np.isnan(a_amean(v, np.zeros_like(w))).all()


def test_bad_inputs_are_reported(small_model):
    with pytest.raises(InputError) as info:
        score(ANSWERS.drop(columns=["value"]), INSTITUTIONS, small_model)
    assert "value" in info.value.issues[0].message_en and "Faltan" in info.value.issues[0].message_es
    bad_state = INSTITUTIONS.assign(state=["Narnia", "CDMX", "1"])
    with pytest.raises(InputError) as info:
        score(ANSWERS, bad_state, small_model)
    assert info.value.issues[0].code is InputIssueCode.UNKNOWN_STATE and info.value.issues[0].row == 2
    dup = pd.concat([INSTITUTIONS, INSTITUTIONS.iloc[[0]]])
    with pytest.raises(InputError):
        score(ANSWERS, dup, small_model)
    extra = pd.concat([ANSWERS, long_answers([("zz", "ai_unit", None, "yes"), ("a", "ai_unit", None, "no")])])
    result = score(extra, INSTITUTIONS, small_model)
    codes = {i.code for i in result.issues}
    assert {InputIssueCode.UNKNOWN_INSTITUTION, InputIssueCode.DUPLICATE_ANSWER} <= codes
    assert result.datasets["items"].loc["a", "ai_unit"] == 0.0  # the last answer wins, and it is reported
    with pytest.raises(TypeError):
        score(ANSWERS, INSTITUTIONS, small_model, colour="red")


def test_shipped_apertura_model_scores_synthetic_answers():
    model = IndexModel.load("apertura")
    answers = long_answers([("a", "tc_requests.tc_answered", 0, "yes"), ("a", "tc_requests.tc_days", 0, "3"),
                            ("a", "tc_requests.tc_answered", 1, "no")])
    inst = pd.DataFrame({"institution": ["a"], "state": ["09"], "type": ["x"]})
    result = score(answers, inst, model)
    assert result.datasets["items"].loc["a", "tc_days"] == pytest.approx(0.5)
    assert 0.0 <= result.wide("index").loc["a", "GA"] <= 1.0
