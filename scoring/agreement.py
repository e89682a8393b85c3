"""Agreement between two verifications of the same responses (methodology §9.3): percent
agreement and Cohen's kappa, per component and overall, with a 95 % interval from a cluster
bootstrap over responses (all items of a resampled response move together).

Pure library (pandas, numpy): no Flask, no database. For scored items the two stages are
compared on the item's score category, the score the model's own rule gives the value
(`item_categories`, through `scoring.score`), so two spellings of the same answer agree and
two answers that score differently do not. A statistic that cannot be computed (no items;
one category only in both stages, where kappa is 0/0) is `None` with a plain reason, never NaN.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring.model import IndexModel
from scoring.pipeline import score

OVERALL = "__overall__"
NOT_APPLICABLE = "no aplica"
MISSING = "sin valor"
# Why a statistic is missing (a code the caller turns into words; Spanish and English here).
REASONS = {
    "no_items": ("no hay reactivos comparados", "no items were compared"),
    "one_category": ("no calculable: ambas etapas usan una sola categoría", "not computable: both stages use a single category"),
    "few_units": ("no calculable: se necesitan al menos dos respuestas", "not computable: at least two responses are needed"),
}


@dataclass(slots=True)
class Agreement:
    """Agreement of one group of items (a component, or every item: `OVERALL`)."""

    group: str
    units: int  # responses with at least one item in the group
    items: int  # item comparisons (response × item)
    agreed: int
    percent: float | None  # share of items with the same category in both stages, 0–1
    kappa: float | None
    kappa_low: float | None = None
    kappa_high: float | None = None
    percent_low: float | None = None
    percent_high: float | None = None
    kappa_reason: str | None = None  # a REASONS key when kappa is None
    interval_reason: str | None = None  # a REASONS key when the interval is None
    extra: dict = field(default_factory=dict)

    def reason_text(self, lang: str = "es", *, interval: bool = False) -> str:
        """Why kappa (or its interval) is missing, in `lang`; empty when it is there."""
        code = self.interval_reason if interval else self.kappa_reason
        if not code:
            return ""
        es, en = REASONS[code]
        return en if lang == "en" else es


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> tuple[float | None, str | None]:
    """Cohen's kappa of two equal-length label arrays: (kappa, None) or (None, reason code).

    kappa = (p_o − p_e) / (1 − p_e), p_o the observed share of agreement, p_e the agreement
    expected from the two stages' category shares.
    """
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if len(a) == 0:
        return None, "no_items"
    codes, uniques = pd.factorize(np.concatenate([a, b]))
    ca, cb = codes[: len(a)], codes[len(a):]
    k = len(uniques)
    pa = np.bincount(ca, minlength=k) / len(a)
    pb = np.bincount(cb, minlength=k) / len(a)
    po = float(np.mean(ca == cb))
    pe = float(pa @ pb)
    if pe >= 1.0 - 1e-12:
        return None, "one_category"
    return (po - pe) / (1.0 - pe), None


def _kappas(agree: np.ndarray, total: np.ndarray, ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """Kappa per row from counts: agreed items, items, and per-category counts of each stage
    (NaN where not computable); vectorised over bootstrap replicates."""
    with np.errstate(divide="ignore", invalid="ignore"):
        po = agree / total
        pe = np.sum(ca * cb, axis=-1) / (total * total)
        kappa = (po - pe) / (1.0 - pe)
    kappa[(total <= 0) | (pe >= 1.0 - 1e-12)] = np.nan
    return kappa


def agreement(pairs: pd.DataFrame, *, resamples: int = 1000, seed: int = 0, level: float = 0.95) -> list[Agreement]:
    """Percent agreement and Cohen's kappa per `group` and overall, with bootstrap intervals.

    `pairs`: one row per compared item, columns `unit` (the response, the bootstrap cluster),
    `group` (the component), `a` and `b` (the two stages' categories, compared as text).
    Returns one `Agreement` per group (sorted) and a last one for `OVERALL`.
    """
    for column in ("unit", "group", "a", "b"):
        if column not in pairs:
            raise KeyError(f"pairs needs a {column!r} column")
    frame = pairs.assign(a=pairs["a"].astype(str), b=pairs["b"].astype(str))
    groups = sorted(frame["group"].astype(str).unique())
    out = [_one(frame[frame["group"].astype(str) == g], g, resamples, seed, level) for g in groups]
    out.append(_one(frame, OVERALL, resamples, seed, level))
    return out


def _one(frame: pd.DataFrame, group: str, resamples: int, seed: int, level: float) -> Agreement:
    n = len(frame)
    if n == 0:
        return Agreement(group, 0, 0, 0, None, None, kappa_reason="no_items", interval_reason="no_items")
    a, b = frame["a"].to_numpy(dtype=object), frame["b"].to_numpy(dtype=object)
    same = a == b
    kappa, why = cohen_kappa(a, b)
    unit_codes, units = pd.factorize(frame["unit"])
    result = Agreement(group, len(units), n, int(same.sum()), float(same.mean()), kappa, kappa_reason=why)
    if len(units) < 2:
        result.interval_reason = "few_units"
        return result
    # Per-response counts, then each replicate's counts as a weighted sum of responses.
    cat_codes, cats = pd.factorize(np.concatenate([a, b]))
    k, u = len(cats), len(units)
    count_a = np.zeros((u, k))
    count_b = np.zeros((u, k))
    np.add.at(count_a, (unit_codes, cat_codes[:n]), 1)
    np.add.at(count_b, (unit_codes, cat_codes[n:]), 1)
    agree_u = np.bincount(unit_codes, weights=same.astype(float), minlength=u)
    total_u = np.bincount(unit_codes, minlength=u).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, u, (resamples, u)) + (np.arange(resamples) * u)[:, None]
    weights = np.bincount(draws.ravel(), minlength=resamples * u).reshape(resamples, u).astype(float)
    agree_r, total_r = weights @ agree_u, weights @ total_u
    kappas = _kappas(agree_r, total_r, weights @ count_a, weights @ count_b)
    percents = agree_r / total_r
    tail = (1.0 - level) / 2.0
    result.percent_low, result.percent_high = (float(np.quantile(percents, tail)), float(np.quantile(percents, 1 - tail)))
    finite = kappas[np.isfinite(kappas)]
    if kappa is None or len(finite) < resamples / 2:
        result.interval_reason = why or "one_category"
    else:
        result.kappa_low, result.kappa_high = float(np.quantile(finite, tail)), float(np.quantile(finite, 1 - tail))
    return result


def _category(score: float, removed: bool) -> str:
    if removed:
        return NOT_APPLICABLE
    if score is None or not np.isfinite(score):
        return MISSING
    return f"{float(score):.6g}"


def component_of(model: IndexModel) -> dict[str, str]:
    """Each leaf code → the code of the component it belongs to (its nearest ancestor at the
    `component` level; its parent when there is none)."""
    parents = model.parents()
    out = {}
    for leaf in model.leaves():
        code = parents.get(leaf.code)
        while code is not None and model.node(code).level != "component":
            code = parents.get(code)
        out[leaf.code] = code or parents.get(leaf.code) or leaf.code
    return out


def item_categories(first: pd.DataFrame, second: pd.DataFrame, institutions: pd.DataFrame,
                    model: IndexModel) -> pd.DataFrame:
    """The two stages' score category of every scored item of every institution: a `pairs`
    frame for `agreement` (`unit, group, item, a, b`).

    `first` and `second`: long-form answers (`institution, field, repeat_index, value`) as each
    stage left them; `institutions`: the institutions compared (as `scoring.score` takes them).
    The item scores come from the model's own rules (`scoring.score`). Items without a value
    in either stage are left out; *no aplica* is a category of its own.
    """
    columns = ["unit", "group", "item", "a", "b"]
    if institutions.empty or not model.leaves():
        return pd.DataFrame(columns=columns)
    results = [score(frame, institutions, model) for frame in (first, second)]
    items = [r.datasets["items"] for r in results]
    removed = [r.datasets["items_removed"] for r in results]
    components = component_of(model)
    codes = list(items[0].columns)
    second_items = items[1].reindex(index=items[0].index, columns=codes)
    second_removed = removed[1].reindex(index=items[0].index, columns=codes, fill_value=False)
    cat_a = _categories(items[0].to_numpy(dtype=float), removed[0].to_numpy(dtype=bool))
    cat_b = _categories(second_items.to_numpy(dtype=float), second_removed.to_numpy(dtype=bool))
    keep = ~((cat_a == MISSING) & (cat_b == MISSING))
    rows_i, cols_j = np.nonzero(keep)
    units = items[0].index.to_numpy(dtype=object)
    return pd.DataFrame({"unit": units[rows_i],
                         "group": np.asarray([components.get(c, c) for c in codes], dtype=object)[cols_j],
                         "item": np.asarray(codes, dtype=object)[cols_j],
                         "a": cat_a[rows_i, cols_j], "b": cat_b[rows_i, cols_j]}, columns=columns)


def _categories(scores: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Score categories of a units × items matrix (see `_category`)."""
    out = np.empty(scores.shape, dtype=object)
    for index in np.ndindex(scores.shape):
        out[index] = _category(scores[index], removed[index])
    return out
