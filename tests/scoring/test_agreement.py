"""Agreement between two verifications (methodology §9.3): percent agreement, Cohen's kappa per
component and overall, item score categories from the model's own rules, cluster bootstrap."""
from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from scoring.agreement import (
    NOT_APPLICABLE,
    OVERALL,
    agreement,
    cohen_kappa,
    component_of,
    item_categories,
)
from tests.scoring.conftest import long_answers


def pairs(rows):
    return pd.DataFrame(rows, columns=["unit", "group", "a", "b"])


def by_group(results):
    return {r.group: r for r in results}


def test_kappa_by_hand():
    # a: 1 1 1 1 1 1 0 0 0 0 ; b: 1 1 1 1 1 0 1 0 0 0
    # observed p_o = 8/10 = 0.8 ; both stages say "1" 6 times out of 10
    # expected p_e = 0.6·0.6 + 0.4·0.4 = 0.52 ; kappa = (0.8 − 0.52) / (1 − 0.52) = 0.28 / 0.48 = 0.58333…
    a = list("1111110000")
    b = list("1111101000")
    kappa, why = cohen_kappa(a, b)
    assert why is None
    assert kappa == pytest.approx(0.28 / 0.48)


def test_small_campaign_per_component_and_overall(small_model):
    """Three institutions verified twice; categories come from the model's rules."""
    insts = pd.DataFrame({"institution": ["A", "B", "C"], "state": ["14", "14", "20"], "type": ["x", "x", "y"]})
    first = long_answers([("A", "ai_unit", None, "yes"), ("A", "pg_has", None, "yes"),
                          ("B", "ai_unit", None, "no"), ("B", "pg_has", None, "no"),
                          ("C", "ai_unit", None, "yes"), ("C", "pg_has", None, "no")])
    second = long_answers([("A", "ai_unit", None, "yes"), ("A", "pg_has", None, "yes"),
                           ("B", "ai_unit", None, "yes"), ("B", "pg_has", None, "no"),
                           ("C", "ai_unit", None, " yes "), ("C", "pg_has", None, "no")])
    compared = item_categories(first, second, insts, small_model)
    # Items nobody answered (ai_channels, ai_term, ta_share, da, cel, sex) are left out;
    # " yes " scores like "yes" (the rule strips), so C agrees on ai_unit.
    assert sorted(compared["item"].unique()) == ["ai_unit", "pg_has"]
    assert len(compared) == 6
    got = by_group(agreement(compared, resamples=200, seed=7))
    # AI: a = 1 0 1, b = 1 1 1 → p_o = 2/3 ; p_e = (2/3)(1) + (1/3)(0) = 2/3 ; kappa = 0 / (1/3) = 0
    assert got["AI"].percent == pytest.approx(2 / 3)
    assert got["AI"].kappa == pytest.approx(0.0)
    # PG: a = b = 1 0 0 → p_o = 1 ; p_e = (1/3)² + (2/3)² = 5/9 ; kappa = (4/9) / (4/9) = 1
    assert got["PG"].kappa == pytest.approx(1.0)
    # Overall: a = 1 0 1 | 1 0 0, b = 1 1 1 | 1 0 0 → p_o = 5/6 ;
    # share of "1": a 3/6, b 4/6 → p_e = (1/2)(2/3) + (1/2)(1/3) = 1/2 ; kappa = (5/6 − 1/2) / (1/2) = 2/3
    overall = got[OVERALL]
    assert (overall.items, overall.agreed, overall.units) == (6, 5, 3)
    assert overall.kappa == pytest.approx(2 / 3)
    assert overall.kappa_low is not None and overall.kappa_low <= overall.kappa_high <= 1.0
    assert overall.percent_low <= overall.percent <= overall.percent_high


def test_not_applicable_is_a_category(small_model):
    insts = pd.DataFrame({"institution": ["A", "B"], "state": ["14", "14"]})
    first = long_answers([("A", "sex", None, "na"), ("B", "sex", None, "yes")])
    second = long_answers([("A", "sex", None, "no"), ("B", "sex", None, "yes")])
    compared = item_categories(first, second, insts, small_model)
    row = compared[compared["unit"] == "A"].iloc[0]
    assert (row["a"], row["b"]) == (NOT_APPLICABLE, "0")


def test_components_follow_the_tree(small_model):
    components = component_of(small_model)
    assert components["ai_unit"] == "AI" and components["cel"] == "TA" and components["pg_has"] == "PG"


def test_degenerate_cases_say_not_computable():
    empty = agreement(pairs([]))
    assert len(empty) == 1 and empty[0].group == OVERALL
    assert empty[0].kappa is None and empty[0].percent is None and empty[0].kappa_reason == "no_items"
    one = by_group(agreement(pairs([(1, "X", "1", "1"), (2, "X", "1", "1")])))["X"]
    assert one.percent == 1.0 and one.kappa is None
    assert one.reason_text("es").startswith("no calculable") and "single category" in one.reason_text("en")
    assert one.kappa_low is None and one.interval_reason == "one_category"
    single_unit = by_group(agreement(pairs([(1, "X", "1", "0"), (1, "X", "0", "0")])))["X"]
    assert single_unit.kappa is not None and single_unit.kappa_low is None
    assert single_unit.interval_reason == "few_units"
    for result in (empty[0], one, single_unit):
        for value in (result.percent, result.kappa, result.kappa_low, result.kappa_high):
            assert value is None or math.isfinite(value)


def test_bootstrap_is_reproducible_and_clustered():
    rows = [(u, "X", str((u * 7 + i) % 3), str((u * 5 + i) % 3 if i % 2 else (u * 7 + i) % 3))
            for u in range(12) for i in range(6)]
    one = agreement(pairs(rows), resamples=300, seed=3)[-1]
    two = agreement(pairs(rows), resamples=300, seed=3)[-1]
    assert (one.kappa_low, one.kappa_high) == (two.kappa_low, two.kappa_high)
    assert one.units == 12 and one.items == 72
    # Clusters, not items, are resampled: with every item in one response there is no interval.
    lumped = agreement(pairs([(0, g, a, b) for _u, g, a, b in rows]), resamples=300, seed=3)[-1]
    assert lumped.kappa == pytest.approx(one.kappa) and lumped.kappa_low is None


labels = hs.lists(hs.sampled_from(["0", "0.5", "1", NOT_APPLICABLE]), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(labels)
def test_perfect_agreement_is_one(a):
    kappa, why = cohen_kappa(a, list(a))
    if len(set(a)) == 1:
        assert kappa is None and why == "one_category"
    else:
        assert kappa == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.tuples(hs.sampled_from("abc"), hs.sampled_from("abc")), min_size=1, max_size=40))
def test_kappa_bounds_and_symmetry(items):
    a = [x for x, _ in items]
    b = [y for _, y in items]
    kappa, _why = cohen_kappa(a, b)
    back, _ = cohen_kappa(b, a)
    if kappa is None:
        assert back is None
    else:
        assert -1.0 - 1e-9 <= kappa <= 1.0 + 1e-9
        assert kappa == pytest.approx(back)
    result = agreement(pairs([(i % 5, "X", x, y) for i, (x, y) in enumerate(items)]), resamples=50)[-1]
    assert 0.0 <= result.percent <= 1.0
    assert result.agreed == sum(x == y for x, y in items)
