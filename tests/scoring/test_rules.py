"""Item rule families on plain Series: scores, missing and *no aplica*."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring import rules


def s(*values):
    return pd.Series(list(values), dtype="object")


def test_options_scores_missing_and_no_aplica():
    score, na = rules.r_options(s("yes", "no", None, "", " yes ", "na", "maybe"), {"yes": 1, "no": 0, "na": None})
    assert score.tolist()[:2] == [1.0, 0.0]
    assert np.isnan(score[2]) and np.isnan(score[3]) and score[4] == 1.0
    assert na.tolist() == [False, False, False, False, False, True, False]
    assert np.isnan(score[5]) and np.isnan(score[6])


def test_options_not_applicable_list():
    score, na = rules.r_options(s("yes", "na"), {"yes": 1, "no": 0}, not_applicable=["na"])
    assert score[0] == 1.0 and na.tolist() == [False, True]


def test_share_of_listed_options():
    score, na = rules.r_share(s("pnt email", "", "pnt other", "pnt email in_person phone post", None),
                              ["pnt", "email", "in_person", "phone", "post"])
    assert score.tolist()[0] == pytest.approx(0.4)
    assert np.isnan(score[1]) and score[2] == pytest.approx(0.2) and score[3] == 1.0 and np.isnan(score[4])
    assert not na.any()


def test_ratio_clips_and_zero_denominator_is_missing():
    score, _ = rules.r_ratio(s("5", "12", "3", None, "0"), s("10", "10", "0", "4", "0"))
    assert score[0] == 0.5 and score[1] == 1.0
    assert np.isnan(score[2]) and np.isnan(score[3]) and np.isnan(score[4])


def test_scale_linear_clipped_and_reversed():
    score, _ = rules.r_scale(s("0", "50", "100", "150", "-5", "x"), 0, 100)
    assert score.tolist()[:5] == [0.0, 0.5, 1.0, 1.0, 0.0] and np.isnan(score[5])
    rev, _ = rules.r_scale(s("0", "30"), 30, 0)
    assert rev.tolist() == [1.0, 0.0]


def test_thresholds_first_match_wins():
    bounds = [("min", 10, 1.0), ("min", 3, 2 / 3), ("min", 1, 1 / 3)]
    score, _ = rules.r_thresholds(s("0", "1", "2", "3", "9", "10", "250", None), bounds, 0.0)
    assert score.tolist()[:7] == pytest.approx([0, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 1, 1])
    assert np.isnan(score[7])
    days = [("max", 5, 1.0), ("max", 10, 2 / 3), ("max", 20, 1 / 3)]
    score, _ = rules.r_thresholds(s("5", "6", "20", "21"), days, 0.0)
    assert score.tolist() == pytest.approx([1, 2 / 3, 1 / 3, 0])


def test_expression_rule_uses_the_questionnaire_language():
    frame = pd.DataFrame({"a": ["yes", "no", None], "b": ["3", "1", "2"]})
    score, na = rules.r_expression(frame, "if(${a} = 'yes', ${b} div 2, if(${a} = 'no', 0, ''))")
    assert score[0] == 1.0 and score[1] == 0.0 and np.isnan(score[2]) and not na.any()


def test_repeat_reducers():
    idx = pd.MultiIndex.from_tuples([("a", 0), ("a", 1), ("b", 0), ("c", 0), ("c", 1)])
    score = pd.Series([1.0, 0.5, np.nan, 0.7, 0.6], index=idx)
    na = pd.Series([False, False, False, False, False], index=idx)
    for how, expected in (("mean", [0.75, 0.65]), ("min", [0.5, 0.6]), ("max", [1.0, 0.7]), ("sum", [1.0, 1.0])):
        out, all_na = rules.reduce_repeat(score, na, how)
        assert out[["a", "c"]].tolist() == pytest.approx(expected)
        assert np.isnan(out["b"]) and not all_na.any()
    na2 = pd.Series([False, False, True, False, False], index=idx)
    out, all_na = rules.reduce_repeat(score.where(~na2), na2, "mean")
    assert all_na["b"] and not all_na["a"]
