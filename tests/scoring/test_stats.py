"""Statistics against known values and scipy: Welch, Hedges' g, BH, permutation, bootstrap,
Cronbach's α with Feldt's interval, and the group tables of methodology §7."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from scoring import groups, stats


def test_welch_matches_scipy():
    x = np.array([0.2, 0.4, 0.5, 0.7, 0.9])
    y = np.array([0.1, 0.2, 0.2, 0.3, 0.35, 0.4, 0.6])
    t, p = stats.welch(x, y)
    ref = sps.ttest_ind(x, y, equal_var=False)
    assert t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    assert np.isnan(stats.welch([1.0], y)[0])


def test_hedges_g_by_hand():
    x, y = np.array([2.0, 4.0, 6.0]), np.array([1.0, 2.0, 3.0])
    # means 4 and 2; variances 4 and 1; pooled sd sqrt((2·4 + 2·1) / 4) = sqrt(2.5);
    # J = 1 − 3 / (4 · 6 − 9) = 0.8; g = 2 / sqrt(2.5) · 0.8.
    assert stats.hedges_g(x, y) == pytest.approx(2 / np.sqrt(2.5) * 0.8)


def test_benjamini_hochberg_known_vector():
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    # sorted 0.005, 0.01, 0.03, 0.04 → p·m/i = 0.02, 0.02, 0.04, 0.04 (already monotone).
    q = stats.benjamini_hochberg(p)
    assert q[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02]) and np.isnan(q[4])


def test_cronbach_alpha_textbook_example():
    x = np.array([[2, 3, 3], [4, 4, 5], [3, 3, 3], [5, 4, 4], [1, 2, 2]], dtype=float)
    # item variances (ddof 1): 2.5, 0.7, 1.3 → sum 4.5; totals 8, 13, 9, 13, 5 (mean 9.6,
    # squared deviations 2.56 + 11.56 + 0.36 + 11.56 + 21.16 = 47.2) → variance 11.8.
    # α = 3/2 · (1 − 4.5 / 11.8) = 0.9280…
    out = stats.cronbach_alpha(x)
    assert out["alpha"] == pytest.approx(1.5 * (1 - 4.5 / 11.8))
    # Feldt: 1 − (1 − α) F(0.975; 4, 8) and 1 − (1 − α) F(0.025; 4, 8).
    assert out["low"] == pytest.approx(1 - (1 - out["alpha"]) * sps.f.ppf(0.975, 4, 8))
    assert out["high"] == pytest.approx(1 - (1 - out["alpha"]) * sps.f.ppf(0.025, 4, 8))
    assert out["low"] < out["alpha"] < out["high"] and (out["n"], out["k"]) == (5, 3)
    assert np.isnan(stats.cronbach_alpha(x[:, :1])["alpha"])


def test_permutation_pvalues_agree_with_scipy():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(0.55, 0.1, 12), rng.normal(0.45, 0.1, 60)])
    labels = np.array(["a"] * 12 + ["b"] * 60, dtype=object)
    observed, p = stats.permutation_pvalues(values, labels, ["a", "b"], n_resamples=20000, seed=1)
    ref = sps.permutation_test((values[:12], values[12:]), lambda a, b, axis: a.mean(axis) - b.mean(axis),
                               vectorized=True, n_resamples=20000, rng=np.random.default_rng(2))
    assert observed[0] == pytest.approx(ref.statistic)
    assert p[0] == pytest.approx(ref.pvalue, abs=0.01)
    assert p[0] == pytest.approx(p[1])  # two groups: the same test seen from both sides


def test_bootstrap_mean_ci_is_scipy_and_seeded():
    x = np.array([0.1, 0.3, 0.35, 0.5, 0.6, 0.62, 0.8, np.nan])
    clean = x[~np.isnan(x)]
    low, high = stats.bootstrap_mean_ci(x, seed=5)
    ref = sps.bootstrap((clean,), np.mean, n_resamples=2000, confidence_level=0.95, method="BCa",
                        rng=np.random.default_rng(5)).confidence_interval
    assert (low, high) == pytest.approx((ref.low, ref.high))  # NaN dropped, seed passed through
    assert low < clean.mean() < high
    assert (low, high) == stats.bootstrap_mean_ci(x, seed=5)
    # The percentile interval against a bootstrap written out by hand (another generator).
    rng = np.random.default_rng(11)
    means = clean[rng.integers(0, len(clean), size=(40000, len(clean)))].mean(axis=1)
    by_hand = np.quantile(means, [0.025, 0.975])
    assert stats.bootstrap_mean_ci(x, n_resamples=40000, method="percentile", seed=5) == pytest.approx(by_hand, abs=0.01)
    assert stats.bootstrap_mean_ci([0.4, 0.4, np.nan]) == (0.4, 0.4)  # no spread: the mean itself


def small_frame():
    institutions = pd.DataFrame({
        "institution": list("abcdef"), "name": list("abcdef"),
        "state": ["01", "01", "02", "02", "00", "02"],
        "type": ["ejecutivo", "partido", "ejecutivo", "ejecutivo", "ejecutivo", "partido"],
        "order": ["estatal"] * 4 + ["federal", "estatal"],
    }).set_index("institution", drop=False)
    scores = pd.DataFrame({"GA": [0.6, 0.2, 0.5, 0.7, 0.8, 0.1]}, index=list("abcdef"))
    return scores, institutions


def test_group_means_and_rest_of_nation():
    scores, inst = small_frame()
    by_state = groups.group_means(scores, inst, "state").set_index("state")
    assert by_state.loc["01", "GA"] == pytest.approx(0.4) and by_state.loc["00", "n"] == 1
    assert by_state.loc["01", "abbr"] == "AGS"
    nation = groups.group_means(scores, inst, "nation")
    assert nation.loc[0, "GA"] == pytest.approx(2.9 / 6) and nation.loc[0, "n"] == 6  # federal counts
    rest = groups.rest_of_nation(scores, inst).set_index("state")
    assert rest.loc["01", "GA"] == pytest.approx((0.5 + 0.7 + 0.8 + 0.1) / 4)
    st_type = groups.group_means(scores, inst, "state_type")
    assert len(st_type) == 5


def test_type_adjusted_state_score_by_hand():
    scores, inst = small_frame()
    adjusted = groups.type_adjusted(scores, inst).set_index("state")
    national = 2.9 / 6
    ejecutivo = (0.6 + 0.5 + 0.7 + 0.8) / 4   # 0.65
    partido = (0.2 + 0.1) / 2                 # 0.15
    # state 01: one ejecutivo (0.6, gap −0.05) and one partido (0.2, gap +0.05) → national + 0.
    assert adjusted.loc["01", "GA"] == pytest.approx(national + (0.6 - ejecutivo + 0.2 - partido) / 2)
    # state 02: ejecutivo mean 0.6 (two), partido 0.1 (one): gaps −0.05 ×2 and −0.05 → −0.05.
    assert adjusted.loc["02", "GA"] == pytest.approx(national + (2 * (0.6 - ejecutivo) + (0.1 - partido)) / 3)
    table = groups.state_table(scores, inst).set_index("state")
    assert {"GA", "GA_adjusted", "GA_rest", "GA_national"} <= set(table.columns)


def test_group_intervals_and_gap_table():
    scores, inst = small_frame()
    table = stats.group_intervals(scores, inst, "state", seed=1)
    row = table.set_index("state").loc["02"]
    assert row["low"] <= row["mean"] <= row["high"] and row["n"] == 3
    assert table.equals(stats.group_intervals(scores, inst, "state", seed=1))
    gaps = stats.rest_of_nation_gaps(scores, inst, n_resamples=500, permutations=999, seed=2).set_index("state")
    assert gaps.loc["01", "gap"] == pytest.approx(0.4 - 2.1 / 4)
    assert gaps.loc["01", "gap_low"] <= gaps.loc["01", "gap"] <= gaps.loc["01", "gap_high"]
    np.testing.assert_allclose(gaps["q_value"], stats.benjamini_hochberg(gaps["permutation_p"].to_numpy()))
    assert 0 < gaps.loc["01", "permutation_p"] <= 1


def test_reliability_per_dimension(metrica_model, mga_fixture_path):
    from scoring.io import read_csv
    from scoring.rollup import rollup

    result = rollup(read_csv(mga_fixture_path).frame, metrica_model)
    table = stats.reliability(result, "dimension").set_index("code")
    assert table.loc["T", "items"] == "TG, TC" and table.loc["T", "k"] == 2
    assert table.loc["T", "low"] < table.loc["T", "alpha"] < table.loc["T", "high"]


def test_rest_of_nation_resample_draws_exactly_the_rest():
    # One column per institution (one-hot): a resample mean of column i is how often i was
    # drawn over the number of draws. Every resample of the rest must draw only outside the
    # group, exactly m = N − n_group times, each institution of the rest equally often.
    n = 12
    state = np.array(["01"] * 3 + ["02"] * 4 + ["03"] * 5, dtype=object)
    x = np.eye(n)
    rng = np.random.default_rng(7)
    national = stats._NationalResample.draw(x, 20000, rng)
    for group in ("01", "02", "03"):
        inside = state == group
        m = int((~inside).sum())
        share = national.rest_means(inside, rng)
        assert (share[:, inside] == 0).all()
        np.testing.assert_allclose(share.sum(axis=1), 1.0)
        np.testing.assert_allclose(share * m, np.round(share * m), atol=1e-9)  # whole draws
        np.testing.assert_allclose(share[:, ~inside].mean(axis=0), 1 / m, atol=0.01 / m * 10)
        # a bootstrap count is Binomial(m, 1/m): variance (1 − 1/m)
        np.testing.assert_allclose((share[:, ~inside] * m).var(axis=0), 1 - 1 / m, rtol=0.08)


def test_rest_of_nation_resample_matches_a_bootstrap_by_hand():
    rng = np.random.default_rng(5)
    n = 60
    x = np.column_stack([rng.normal(0.5, 0.2, n), rng.uniform(0, 1, n)])
    x[rng.random(n) < 0.2, 1] = np.nan  # NaN-aware: means over the drawn rows with a value
    inside = np.arange(n) < 9
    national = stats._NationalResample.draw(x, 40000, np.random.default_rng(1))
    ours = national.rest_means(inside, np.random.default_rng(2))
    rest = x[~inside]
    idx = np.random.default_rng(3).integers(0, len(rest), size=(40000, len(rest)))
    by_hand = np.nanmean(rest[idx], axis=1)
    np.testing.assert_allclose(ours.mean(axis=0), by_hand.mean(axis=0), atol=0.002)
    np.testing.assert_allclose(ours.std(axis=0), by_hand.std(axis=0), rtol=0.03)
    np.testing.assert_allclose(np.quantile(ours, [0.025, 0.975], axis=0),
                               np.quantile(by_hand, [0.025, 0.975], axis=0), atol=0.005)


def test_permutation_pvalues_of_a_matrix_are_each_columns_test():
    rng = np.random.default_rng(4)
    values = np.column_stack([np.concatenate([rng.normal(0.6, 0.1, 10), rng.normal(0.45, 0.1, 50)]),
                              rng.uniform(0, 1, 60), rng.uniform(0, 1, 60)])
    values[[3, 20, 41], 2] = np.nan  # the third column is tested on its own rows
    labels = np.array(["a"] * 10 + ["b"] * 20 + ["c"] * 30, dtype=object)
    observed, p = stats.permutation_pvalues(values, labels, ["a", "b", "c"], n_resamples=20000, seed=1)
    assert observed.shape == p.shape == (3, 3)
    for j in range(3):
        one_observed, one_p = stats.permutation_pvalues(values[:, j], labels, ["a", "b", "c"], n_resamples=20000,
                                                        seed=9)
        np.testing.assert_allclose(observed[:, j], one_observed)
        np.testing.assert_allclose(p[:, j], one_p, atol=0.015)
    assert p[0, 0] < 0.01


def test_gap_table_welch_is_scipys_per_state():
    rng = np.random.default_rng(8)
    n = 40
    institutions = pd.DataFrame({"institution": [f"i{k}" for k in range(n)],
                                 "state": ["01"] * 12 + ["02"] * 27 + ["03"],
                                 "type": "ejecutivo"}).set_index("institution", drop=False)
    scores = pd.DataFrame({"GA": rng.uniform(0, 1, n), "T": rng.uniform(0, 1, n)}, index=institutions.index)
    scores.loc[["i0", "i1", "i5"], "T"] = np.nan
    gaps = stats.rest_of_nation_gaps(scores, institutions, n_resamples=200, permutations=199, seed=1)
    for row in gaps.itertuples(index=False):
        inside = (institutions["state"] == row.state).to_numpy()
        t, p = stats.welch(scores[row.code].to_numpy()[inside], scores[row.code].to_numpy()[~inside])
        assert row.welch_t == pytest.approx(t, nan_ok=True) and row.welch_p == pytest.approx(p, nan_ok=True)
    assert np.isnan(gaps.set_index(["state", "code"]).loc[("03", "GA"), "welch_p"])  # one institution
