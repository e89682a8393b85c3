"""Item rule families (COINr style: small pure functions chosen by name). Each takes the raw
text answers as pandas Series and returns `(score, not_applicable)`: float scores in [0, 1]
with NaN for missing, and a boolean mask of *no aplica* answers (removed, not zero)."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

RuleOutput = tuple[pd.Series, pd.Series]


def _text(values: pd.Series) -> pd.Series:
    """Stripped text with empty strings as missing."""
    out = values.astype("object")
    mask = out.notna()
    stripped = out[mask].map(lambda v: str(v).strip())
    out = pd.Series(np.nan, index=values.index, dtype="object")
    out[mask] = stripped
    return out.where(out != "", np.nan)


def _numeric(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    return pd.to_numeric(_text(values), errors="coerce").astype("float64")


def _na_mask(text: pd.Series, listed: Sequence[str]) -> pd.Series:
    tokens = set(listed)
    return text.isin(tokens) if tokens else pd.Series(False, index=text.index)


def r_options(values: pd.Series, options: Mapping[str, float | None],
              not_applicable: Sequence[str] = ()) -> RuleOutput:
    """Score per option (select_one, yes_no); an option mapped to None is *no aplica*."""
    text = _text(values)
    na = _na_mask(text, list(not_applicable) + [k for k, v in options.items() if v is None])
    table = {k: float(v) for k, v in options.items() if v is not None}
    score = text.map(table).astype("float64")
    return score.where(~na), na


def r_share(values: pd.Series, options: Sequence[str], not_applicable: Sequence[str] = ()) -> RuleOutput:
    """Share of the listed options selected (select_multiple, space-separated)."""
    text = _text(values)
    listed = set(options)
    na_tokens = set(not_applicable)
    present = text.notna()
    tokens = text[present].str.split()
    chosen = tokens.map(lambda ts: len(listed.intersection(ts)))
    is_na = tokens.map(lambda ts: bool(na_tokens) and bool(na_tokens.intersection(ts)) and not listed.intersection(ts))
    score = pd.Series(np.nan, index=values.index, dtype="float64")
    score[present] = chosen.astype("float64") / len(listed)
    na = pd.Series(False, index=values.index)
    na[present] = is_na.astype(bool)
    return score.where(~na), na


def r_ratio(numerator: pd.Series, denominator: pd.Series) -> RuleOutput:
    """numerator / denominator clipped to [0, 1]; a zero or missing denominator is missing."""
    num, den = _numeric(numerator), _numeric(denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (num / den.where(den != 0)).clip(0.0, 1.0)
    return score.astype("float64"), pd.Series(False, index=numerator.index)


def r_scale(values: pd.Series, lo: float, hi: float, not_applicable: Sequence[str] = ()) -> RuleOutput:
    """Linear from lo → 0 to hi → 1, clipped (hi < lo reverses the direction)."""
    text = _text(values)
    na = _na_mask(text, not_applicable)
    score = ((_numeric(values) - lo) / (hi - lo)).clip(0.0, 1.0)
    return score.where(~na), na


def r_thresholds(values: pd.Series, thresholds: Sequence[tuple[str, float, float]], otherwise: float = 0.0,
                 not_applicable: Sequence[str] = ()) -> RuleOutput:
    """First matching bound wins: (`min`, x, s) matches value ≥ x, (`max`, x, s) value ≤ x."""
    text = _text(values)
    na = _na_mask(text, not_applicable)
    num = _numeric(values).to_numpy()
    conditions = [num >= bound if kind == "min" else num <= bound for kind, bound, _ in thresholds]
    choices = [score for _, _, score in thresholds]
    with np.errstate(invalid="ignore"):
        score = np.select(conditions, choices, default=otherwise) if conditions else np.full(num.shape, otherwise)
    score = np.where(np.isnan(num), np.nan, score)
    return pd.Series(score, index=values.index, dtype="float64").where(~na), na


def r_expression(frame: pd.DataFrame, text: str) -> RuleOutput:
    """Evaluate a questionnaire expression per row (`surveys.expressions`); clipped, empty → missing."""
    from surveys import expressions  # lazy: scoring depends on surveys only for expressions

    expression = expressions.parse(text)
    names = sorted(expression.references)
    columns = {n: frame[n] if n in frame else pd.Series(np.nan, index=frame.index) for n in names}
    records = pd.DataFrame(columns, index=frame.index).astype("object")
    records = records.where(records.notna(), None)
    out = np.full(len(frame), np.nan)
    for i, row in enumerate(records.itertuples(index=False, name=None)):
        value = expression.evaluate(dict(zip(names, row, strict=True)))
        if value is None or value == "" or isinstance(value, bool) and value is None:
            continue
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            continue
    score = pd.Series(out, index=frame.index, dtype="float64").clip(0.0, 1.0)
    return score, pd.Series(False, index=frame.index)


def apply_rule(rule: Any, frame: pd.DataFrame, field: str) -> RuleOutput:
    """Apply an `ItemRule` to the pivoted answers `frame` (rows = units, columns = fields)."""
    family, params, na = rule.family, rule.params, rule.not_applicable

    def column(name: str) -> pd.Series:
        bare = name.split(".")[-1]
        if bare in frame:
            return frame[bare]
        return pd.Series(np.nan, index=frame.index, dtype="object")

    if family == "options":
        return r_options(column(field), params["options"], na)
    if family == "share":
        return r_share(column(field), params["share"], na)
    if family == "ratio":
        num, den = params["ratio"]
        return r_ratio(column(str(num)), column(str(den)))
    if family == "scale":
        lo, hi = params["scale"]
        return r_scale(column(field), lo, hi, na)
    if family == "thresholds":
        return r_thresholds(column(field), params["thresholds"], params.get("else", 0.0), na)
    if family == "expression":
        bare = frame.rename(columns=lambda c: str(c).split(".")[-1])
        return r_expression(bare, params["expression"])
    raise KeyError(family)


def reduce_repeat(score: pd.Series, na: pd.Series, how: str, fill_missing: float | None = None) -> RuleOutput:
    """Reduce per-instance scores (index: institution, repeat_index) to one per institution:
    `mean | min | max | sum` (sum clipped to 1); all instances *no aplica* → *no aplica*.
    `fill_missing` scores an instance that exists but lacks this item (the parent's `zero`
    policy applied per instance); None leaves it out of the reduction (`reweight`, `impute`)."""
    units = score.index.get_level_values(0)
    if fill_missing is not None:
        score = score.where(score.notna() | na, fill_missing)
    kept = score.where(~na)
    grouped = kept.groupby(units, sort=False)
    if how == "sum":
        reduced = grouped.sum(min_count=1).clip(upper=1.0)
    else:
        reduced = getattr(grouped, how)()
    counts = pd.DataFrame({"na": na.to_numpy(), "all": 1}, index=units).groupby(level=0, sort=False).sum()
    all_na = (counts["na"] == counts["all"]) & (counts["all"] > 0)
    return reduced.astype("float64"), all_na.reindex(reduced.index, fill_value=False)


class CodedFrame:
    """Raw answers as a units × fields matrix of codes into one array of distinct texts
    (-1 = no answer). Rules run once per distinct value and are mapped back by code."""

    def __init__(self, codes: np.ndarray, uniques: np.ndarray, columns: Sequence[str], index: pd.Index):
        self.codes, self.uniques, self.columns, self.index = codes, uniques, list(columns), index
        self._pos = {c: j for j, c in enumerate(self.columns)}
        self._tables: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def table(self, key: tuple, fn: Callable[[pd.Series], RuleOutput]) -> tuple[np.ndarray, np.ndarray]:
        """(score, no-aplica) of rule `key` for every distinct text, slot 0 = no answer; cached."""
        if key not in self._tables:
            texts = pd.Series(np.insert(self.uniques.astype(object), 0, np.nan), dtype="object")
            score, na = fn(texts)
            self._tables[key] = (score.to_numpy(dtype=float), na.to_numpy(dtype=bool))
        return self._tables[key]

    def __contains__(self, name: str) -> bool:
        return name.split(".")[-1] in self._pos

    def column_codes(self, name: str) -> np.ndarray:
        """Codes of one field (all -1 when the field has no answers)."""
        j = self._pos.get(name.split(".")[-1])
        return np.full(len(self.index), -1, dtype=self.codes.dtype) if j is None else self.codes[:, j]

    def to_frame(self) -> pd.DataFrame:
        """The text matrix as a DataFrame (NaN = no answer)."""
        lookup = np.append(self.uniques.astype(object), np.nan)
        return pd.DataFrame(lookup[self.codes], index=self.index, columns=self.columns)


LOOKUP_LIMIT = 50_000  # distinct texts up to which a rule is tabulated once for all of them


def _by_distinct(coded: CodedFrame, field: str, key: tuple,
                 fn: Callable[[pd.Series], RuleOutput]) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = coded.column_codes(field), coded.uniques
    shifted = codes + 1  # 0 = no answer
    if len(uniques) <= LOOKUP_LIMIT:
        score, na = coded.table(key, fn)
        return score[shifted], na[shifted]
    present = np.flatnonzero(np.bincount(shifted, minlength=len(uniques) + 1))
    position = np.zeros(len(uniques) + 1, dtype=np.int64)
    position[present] = np.arange(len(present))
    lookup = np.insert(uniques.astype(object), 0, np.nan)
    score, na = fn(pd.Series(lookup[present], dtype="object"))
    inverse = position[shifted]
    return score.to_numpy(dtype=float)[inverse], na.to_numpy(dtype=bool)[inverse]


def apply_rule_coded(rule: Any, coded: CodedFrame, field: str) -> tuple[np.ndarray, np.ndarray]:
    """`apply_rule` on a CodedFrame: each family evaluated once per distinct answer (or
    distinct combination of answers for ratios and expressions)."""
    family, params, na = rule.family, rule.params, rule.not_applicable
    u = coded.uniques
    key = (family, repr(sorted(params.items())), na)
    if family == "options":
        return _by_distinct(coded, field, key, lambda s: r_options(s, params["options"], na))
    if family == "share":
        return _by_distinct(coded, field, key, lambda s: r_share(s, params["share"], na))
    if family == "scale":
        lo, hi = params["scale"]
        return _by_distinct(coded, field, key, lambda s: r_scale(s, lo, hi, na))
    if family == "thresholds":
        return _by_distinct(coded, field, key,
                            lambda s: r_thresholds(s, params["thresholds"], params.get("else", 0.0), na))
    names = [str(f) for f in params["ratio"]] if family == "ratio" else [f.split(".")[-1] for f in rule.fields]
    stacked = np.stack([coded.column_codes(n) for n in names], axis=1) if names else np.zeros((len(coded.index), 0), int)
    combos, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    lookup = np.append(u.astype(object), np.nan)
    frame = pd.DataFrame({n.split(".")[-1]: lookup[combos[:, k]] for k, n in enumerate(names)}, dtype="object")
    if family == "ratio":
        score, flag = r_ratio(frame.iloc[:, 0], frame.iloc[:, 1])
    else:
        frame.index = pd.RangeIndex(len(combos))
        score, flag = r_expression(frame if names else pd.DataFrame(index=range(len(combos))), params["expression"])
    return score.to_numpy(dtype=float)[inverse], flag.to_numpy(dtype=bool)[inverse]
