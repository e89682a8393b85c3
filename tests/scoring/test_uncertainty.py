"""Monte-Carlo uncertainty: the vectorised simulator equals the engine, intervals are
seeded, Sobol indices are well formed, brechas are hand-computed."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring import uncertainty as unc
from scoring.aggregate import aggregate
from scoring.io import read_csv
from scoring.rollup import rollup


@pytest.fixture
def mga(metrica_model, mga_fixture_path):
    return rollup(read_csv(mga_fixture_path).frame, metrica_model)


def with_holes(result):
    """A copy of the MGA result where some sub-indices are missing (to exercise policies)."""
    agg = result.aggregation
    scores = agg.scores.copy()
    rng = np.random.default_rng(0)
    for code in ("TG", "PC"):
        col = agg.codes.index(code)
        scores[rng.random(len(scores)) < 0.2, col] = np.nan
    result.aggregation = type(agg)(agg.codes, agg.levels, scores, agg.coverage, agg.removed)
    return result


@pytest.mark.parametrize("aggregation", ["arithmetic", "geometric", "harmonic"])
@pytest.mark.parametrize("missing", ["zero", "reweight", "impute"])
def test_vectorised_simulator_equals_the_engine(mga, aggregation, missing):
    src = unc._source(with_holes(mga))
    factors = unc.Factors(["T", "TG", "PC"], np.array([0.3, 0.3, 0.3]), np.array([0.7, 0.7, 0.7]),
                          [aggregation], [missing])
    sim = unc._Simulator(src, factors, "GA")
    weights = np.array([[0.6, 0.35, 0.65], [0.4, 0.5, 0.5]])
    got = sim.run(weights, np.zeros(2, dtype=int), np.zeros(2, dtype=int))
    for r, (w_t, w_tg, w_pc) in enumerate(weights):
        model = src.model.with_overrides(weights={"T": w_t, "TG": w_tg, "PC": w_pc},
                                         aggregation=aggregation, missing=missing)
        ref = aggregate(model, src.leaf_scores, src.leaf_removed, src.groups, tree=src.tree_of(model))
        np.testing.assert_allclose(got[:, r], ref.scores[:, ref.codes.index("GA")], rtol=1e-12, atol=1e-12)


def test_same_seed_same_intervals(mga):
    a = unc.uncertainty(mga, n=300, seed=11)
    b = unc.uncertainty(mga, n=300, seed=11)
    c = unc.uncertainty(mga, n=300, seed=12)
    pd.testing.assert_frame_equal(a.states, b.states)
    pd.testing.assert_frame_equal(a.institutions, b.institutions)
    assert not a.samples.equals(c.samples)
    s = a.states.set_index("state")
    assert np.isnan(s.loc["00", "rank"])  # federal bodies are a group, not a ranked state
    ranked = s.drop(index="00")
    assert (ranked["rank_low"] <= ranked["rank_median"]).all() and (ranked["rank_median"] <= ranked["rank_high"]).all()
    assert sorted(ranked["rank"].astype(int)) == list(range(1, 33))
    assert (a.institutions["rank_low"] <= a.institutions["rank_high"]).all()
    assert set(a.samples["aggregation"]) == {"arithmetic", "geometric"}


def test_no_variation_collapses_the_interval(mga):
    fixed = unc.Factors([], np.array([]), np.array([]), ["arithmetic"], ["zero"])
    res = unc.uncertainty(mga, n=50, seed=1, factors=fixed).states.set_index("state").drop(index="00")
    assert (res["rank_low"] == res["rank_high"]).all()
    np.testing.assert_allclose(res["score_low"], res["score"])


def test_sobol_indices(mga):
    table = unc.sobol(mga, n=128, seed=3)
    assert set(table["factor"]) == {"w:T", "w:P", "w:TG", "w:TC", "w:PG", "w:PC", "aggregation", "missing"}
    assert table["first_order"].between(0, 1).all() and table["total"].between(0, 1).all()
    assert len(table) == 32 * 8
    pd.testing.assert_frame_equal(table, unc.sobol(mga, n=128, seed=3))
    grouped = unc.sobol(mga, n=64, seed=3, group_weights=True)
    assert set(grouped["factor"]) == {"weights", "aggregation", "missing"}


def test_brechas_by_hand(metrica_model):
    frame = pd.DataFrame({"SO": ["a", "b", "c", "d"], "edo": ["CDMX", "CDMX", "Jalisco", "Jalisco"],
                          "TG": ["0.2", "0.4", "0.6", "0.8"], "TC": ["0.5", "0.5", "0.5", "0.5"],
                          "PG": ["0.1", "0.1", "0.3", "0.3"], "PC": ["0.9", "0.9", "0.1", "0.1"]})
    result = rollup(frame, metrica_model)
    table = unc.brechas(result, "CDMX", level="subindex").set_index("code")
    # TG: nation 0.5, CDMX 0.3 → gap 0.2 × weight 0.25 = 0.05; PG: gap 0.1 → 0.025; PC ahead → 0.
    assert table.loc["TG", "gap"] == pytest.approx(0.2) and table.loc["TG", "potential"] == pytest.approx(0.05)
    assert table.loc["PG", "potential"] == pytest.approx(0.025)
    assert table.loc["PC", "potential"] == 0 and table.loc["TC", "potential"] == 0
    assert list(table.index[:2]) == ["TG", "PG"]
    all_states = unc.brechas(result, level="subindex")
    assert set(all_states["state"]) == {"09", "14"}


@pytest.mark.parametrize("aggregation", ["arithmetic", "geometric"])
@pytest.mark.parametrize("missing", ["zero", "reweight", "impute"])
def test_simulator_on_scored_answers_with_items(small_model, aggregation, missing):
    from scoring.pipeline import score

    from .conftest import long_answers

    rng = np.random.default_rng(5)
    rows = []
    for i in range(40):
        for field, pool in (("ai_unit", ["yes", "no"]), ("ai_channels", ["pnt", "pnt email", ""]),
                            ("ta_share", ["10", "50", "90"]), ("da", ["0", "4", "12"]), ("sex", ["yes", "na"]),
                            ("pg_has", ["yes", "no"])):
            if rng.random() < 0.8:
                rows.append((f"i{i}", field, None, pool[rng.integers(len(pool))]))
    institutions = pd.DataFrame({"institution": [f"i{i}" for i in range(40)],
                                 "state": [["09", "14", "19", "00"][i % 4] for i in range(40)],
                                 "type": [["a", "b"][i % 2] for i in range(40)]})
    result = score(long_answers(rows), institutions, small_model)
    src = unc._source(result)
    factors = unc.Factors(["T", "AI", "TA"], np.array([0.5, 1, 0.5]), np.array([1.5, 4, 2]), [aggregation], [missing])
    sim = unc._Simulator(src, factors, "GA")
    weights = np.array([[0.7, 2.0, 1.5], [1.2, 3.5, 0.6]])
    got = sim.run(weights, np.zeros(2, dtype=int), np.zeros(2, dtype=int))
    for r, (w_t, w_ai, w_ta) in enumerate(weights):
        varied = unc.varied_settings(result.model, result.model.tree, aggregation, missing)
        ref = result.rerun(weights={"T": w_t, "AI": w_ai, "TA": w_ta}, **varied)
        np.testing.assert_allclose(got[:, r], ref.wide("index")["GA"].to_numpy(), rtol=1e-12, atol=1e-12)
    table = unc.uncertainty(result, n=200, seed=4)
    assert set(table.states["state"]) == {"00", "09", "14", "19"}


def test_varied_aggregation_spares_items_and_declared_settings(small_model):
    """A geometric mean of 0/1 items would zero almost every component: only the declared
    levels vary, and a node's own aggregation or policy is kept."""
    varied = unc.varied_settings(small_model, small_model.tree, "geometric", "reweight")
    levels = {n.code: n.level for n in small_model.tree.walk()}
    assert varied["aggregation"] and all(levels[c] in ("index", "dimension", "subindex") for c in varied["aggregation"])
    assert all(small_model.node(c).missing is None for c in varied["missing"])
    declared = [n.code for n in small_model.tree.walk() if n.children and n.missing is not None]
    assert not set(declared) & set(varied["missing"])
