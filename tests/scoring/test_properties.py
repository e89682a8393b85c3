"""Hypothesis properties: scores stay in [0, 1], more openness never lowers a score,
weights renormalise to 1, and the same seed gives the same intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as hs

from scoring import uncertainty as unc
from scoring.model import IndexModel
from scoring.pipeline import score
from scoring.rollup import rollup

from .conftest import METRICA_YAML, SMALL_YAML, long_answers

SMALL = IndexModel.from_text(SMALL_YAML)
METRICA = IndexModel.from_text(METRICA_YAML)
POLICIES = hs.sampled_from(["zero", "reweight", "impute"])
AGGREGATIONS = hs.sampled_from(["arithmetic", "geometric", "harmonic"])
FIELD_VALUES = {
    "ai_unit": hs.sampled_from(["yes", "no", ""]),
    "ai_channels": hs.lists(hs.sampled_from(["pnt", "email", "in_person", "phone", "fax"]), max_size=5).map(" ".join),
    "answered": hs.integers(0, 50).map(str),
    "received": hs.integers(0, 50).map(str),
    "ta_share": hs.integers(-10, 120).map(str),
    "da": hs.integers(0, 20).map(str),
    "sex": hs.sampled_from(["yes", "no", "na"]),
    "pg_has": hs.sampled_from(["yes", "no"]),
}


@hs.composite
def answer_sets(draw):
    n = draw(hs.integers(1, 6))
    rows = []
    for i in range(n):
        for field, strategy in FIELD_VALUES.items():
            if draw(hs.booleans()):
                rows.append((f"i{i}", field, None, draw(strategy)))
        for k in range(draw(hs.integers(0, 3))):
            rows.append((f"i{i}", "requests.days", k, str(draw(hs.integers(0, 40)))))
    institutions = pd.DataFrame({"institution": [f"i{i}" for i in range(n)], "state": ["09"] * n,
                                 "type": [draw(hs.sampled_from(["a", "b"])) for _ in range(n)]})
    return long_answers(rows), institutions


@settings(max_examples=60)
@given(answer_sets(), POLICIES, AGGREGATIONS)
def test_every_score_in_unit_interval(data, missing, aggregation):
    answers, institutions = data
    result = score(answers, institutions, SMALL, missing=missing, aggregation=aggregation)
    values = result.wide().to_numpy()
    ok = values[~np.isnan(values)]
    assert ((ok >= 0) & (ok <= 1)).all()
    cov = result.wide(coverage=True).to_numpy()
    cov = cov[~np.isnan(cov)]
    assert ((cov >= 0) & (cov <= 1 + 1e-12)).all()


unit = hs.floats(0, 1, allow_nan=False)


@settings(max_examples=80)
@given(hs.lists(hs.tuples(unit, unit, unit, unit), min_size=1, max_size=5), hs.integers(0, 3), unit,
       AGGREGATIONS, hs.sampled_from(["zero", "reweight"]))
def test_raising_an_answer_never_lowers_a_score(rows, which, bump, aggregation, missing):
    frame = pd.DataFrame(rows, columns=["TG", "TC", "PG", "PC"])
    frame.insert(0, "SO", [f"x{i}" for i in range(len(rows))])
    frame.insert(1, "edo", "Jalisco")
    raised = frame.copy()
    code = ["TG", "TC", "PG", "PC"][which]
    raised.loc[0, code] = min(1.0, raised.loc[0, code] + bump)
    model = METRICA.with_overrides(aggregation=aggregation, missing=missing)
    before = rollup(frame.astype(str), model).wide().to_numpy()
    after = rollup(raised.astype(str), model).wide().to_numpy()
    assert (after >= before - 1e-12).all()


@settings(max_examples=40)
@given(hs.lists(hs.floats(0.01, 100, allow_nan=False), min_size=2, max_size=2),
       hs.lists(hs.floats(0.01, 100, allow_nan=False), min_size=2, max_size=2),
       hs.lists(hs.floats(0.01, 100, allow_nan=False), min_size=2, max_size=2))
def test_weights_renormalise_to_one(top, t, p):
    model = METRICA.with_overrides(weights={"T": top[0], "P": top[1], "TG": t[0], "TC": t[1], "PG": p[0], "PC": p[1]})
    for node in model.nodes():
        if node.children:
            assert abs(sum(model.normalised_weights(node)) - 1) < 1e-12
    assert abs(sum(model.effective_weights("subindex").values()) - 1) < 1e-12


MGA_SMALL = pd.DataFrame({
    "SO": [f"s{i}" for i in range(12)],
    "edo": ["CDMX", "Jalisco", "Sonora", "Yucatán"] * 3,
    "TG": np.linspace(0.1, 0.9, 12).round(3).astype(str), "TC": np.linspace(0.9, 0.2, 12).round(3).astype(str),
    "PG": (np.arange(12) % 5 / 5).astype(str), "PC": (np.arange(12) % 3 / 3).round(3).astype(str),
})


@settings(max_examples=10)
@given(hs.integers(0, 2**32 - 1))
def test_same_seed_same_intervals(seed):
    result = rollup(MGA_SMALL, METRICA)
    a = unc.uncertainty(result, n=64, seed=seed)
    b = unc.uncertainty(result, n=64, seed=seed)
    pd.testing.assert_frame_equal(a.states, b.states)
    pd.testing.assert_frame_equal(a.institutions, b.institutions)
