"""Monte-Carlo uncertainty and sensitivity analysis (methodology §7): weights perturbed
within their declared ranges, the aggregation method and the missing-data policy varied,
vectorised over replications (weights are a replications × nodes array; each node is one
einsum over the institution × children × replications block). Gives rank intervals per
state and per institution, Sobol first-order and total indices of each state's rank, and
*brechas* (the potential effect of closing each component gap)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from . import states as st
from .aggregate import aggregate, group_mean_fill, prune
from .model import IndexModel, Node


@dataclass(slots=True)
class _Source:
    model: IndexModel
    tree: Node
    leaf_scores: np.ndarray
    leaf_removed: np.ndarray
    institutions: pd.DataFrame
    groups: np.ndarray | None

    def tree_of(self, model: IndexModel) -> Node:
        """`model`'s tree cut at this source's leaves (settings and weights from `model`)."""
        return prune(model.tree, {n.code for n in self.tree.walk() if n.is_leaf})


def _source(result: Any) -> _Source:
    """Leaf inputs of a ScoreResult or RollupResult."""
    tree = getattr(result, "tree", None) or result.model.tree
    agg = result.aggregation
    leaves = [n.code for n in tree.walk() if n.is_leaf]
    cols = [agg.codes.index(c) for c in leaves]
    institutions = result.institutions
    groups = pd.factorize(institutions["type"].astype("object").fillna(""))[0] if "type" in institutions else None
    return _Source(result.model, tree, agg.scores[:, cols], agg.removed[:, cols], institutions, groups)


@dataclass(slots=True)
class Factors:
    """What the analysis varies: node weights (with ranges), aggregations and policies."""

    nodes: list[str]
    low: np.ndarray
    high: np.ndarray
    aggregations: list[str]
    missing: list[str]

    @classmethod
    def from_model(cls, model: IndexModel, tree: Node | None = None, spread: float | None = None) -> Factors:
        """Factors declared by the model's `uncertainty` block and `weight_range`s."""
        tree = tree or model.tree
        spec = model.uncertainty or {}
        spread = float(spec.get("weight_spread", 0.25) if spread is None else spread)
        nodes, low, high = [], [], []
        for node in tree.walk():
            for child in node.children:
                if len(node.children) < 2 or (child.level == "item" and child.weight_range is None):
                    continue
                w = 1.0 if child.weight is None else child.weight
                lo, hi = child.weight_range or (w * (1 - spread), w * (1 + spread))
                if hi > lo:
                    nodes.append(child.code)
                    low.append(lo)
                    high.append(hi)
        aggregations = list(spec.get("aggregation") or [model.defaults.get("aggregation", "arithmetic")])
        missing = list(spec.get("missing") or [model.defaults.get("missing", "zero")])
        return cls(nodes, np.array(low), np.array(high), aggregations, missing)

    @property
    def names(self) -> list[str]:
        """Factor names: one per weight, then `aggregation` and `missing` when they vary."""
        out = [f"w:{c}" for c in self.nodes]
        if len(self.aggregations) > 1:
            out.append("aggregation")
        if len(self.missing) > 1:
            out.append("missing")
        return out


DEFAULT_AGGREGATION_LEVELS = ("index", "dimension", "subindex")


def varied_settings(model: IndexModel, tree: Node, aggregation: str, missing: str) -> dict[str, dict[str, str]]:
    """Per-node overrides for one Monte-Carlo setting. The sampled aggregation applies only
    to nodes at `uncertainty.aggregation_levels` (default: index, dimension, sub-index; a
    geometric mean of 0/1 items is 0 whenever one item is) and the sampled policy only
    replaces the model default: a node's own declared `aggregation` or `missing` is kept."""
    spec = model.uncertainty or {}
    levels = set(spec.get("aggregation_levels") or DEFAULT_AGGREGATION_LEVELS)
    parents = [n for n in tree.walk() if n.children]
    return {
        "aggregation": {n.code: aggregation for n in parents if n.level in levels and n.aggregation is None},
        "missing": {n.code: missing for n in parents if n.missing is None},
    }


class _Simulator:
    """Evaluates the index for many (weights, aggregation, policy) settings at once."""

    def __init__(self, src: _Source, factors: Factors, code: str):
        self.src, self.factors, self.code = src, factors, code
        self.order = list(src.tree.walk())
        self.col = {n.code: i for i, n in enumerate(self.order)}
        varying = set(factors.nodes)
        parents = {c.code: n for n in self.order for c in n.children}
        dynamic: set[str] = set()
        for code_ in varying:
            node = parents.get(code_)
            while node is not None:
                dynamic.add(node.code)
                node = parents.get(node.code)
        self.dynamic = dynamic
        self.weight_col = {c: i for i, c in enumerate(factors.nodes)}
        self.static: dict[tuple[str, str], Any] = {}
        for a in factors.aggregations:
            for m in factors.missing:
                model = src.model.with_overrides(**varied_settings(src.model, src.tree, a, m))
                tree = src.tree_of(model)
                self.static[(a, m)] = (model, tree, aggregate(model, src.leaf_scores, src.leaf_removed, src.groups, tree=tree))

    def run(self, weights: np.ndarray, agg_idx: np.ndarray, miss_idx: np.ndarray, chunk: int = 256) -> np.ndarray:
        """Scores of `code` (institutions × replications) for the given settings."""
        n = self.src.leaf_scores.shape[0]
        out = np.full((n, len(agg_idx)), np.nan)
        for a_i, a in enumerate(self.factors.aggregations):
            for m_i, m in enumerate(self.factors.missing):
                reps = np.flatnonzero((agg_idx == a_i) & (miss_idx == m_i))
                for start in range(0, len(reps), chunk):
                    part = reps[start:start + chunk]
                    out[:, part] = self._combo(a, m, weights[part])
        return out

    def _combo(self, a: str, m: str, weights: np.ndarray) -> np.ndarray:
        model, tree, base = self.static[(a, m)]
        r = weights.shape[0]
        if self.code not in self.dynamic:
            return np.repeat(base.scores[:, [self.col[self.code]]], r, axis=1)
        collapsed = _collapse(self, model, tree, base, weights)
        if collapsed is not None:
            return collapsed
        values: dict[str, np.ndarray] = {}
        coverage: dict[str, np.ndarray] = {}
        n = base.scores.shape[0]
        # Coverage per replication matters only where a minimum coverage can cut a node.
        need_cov = any(float(model.setting(nd, "min_coverage") or 0.0) > 0
                       for nd in tree.walk() if nd.code in self.dynamic)
        for node in tree.post_order():
            if node.code not in self.dynamic:
                continue
            kids = node.children
            nominal = np.asarray(model.normalised_weights(node)) * _raw_total(node)
            w = np.stack([weights[:, self.weight_col[c.code]] if c.code in self.weight_col else
                          np.full(r, nominal[i]) for i, c in enumerate(kids)], axis=0)  # k × R
            # Children: static ones are (n × 1) columns, dynamic ones (n × R) blocks.
            kid_v = [values[c.code] if c.code in values else base.scores[:, [self.col[c.code]]] for c in kids]
            kid_c = [coverage[c.code] if c.code in coverage else base.coverage[:, [self.col[c.code]]] for c in kids]
            removed = base.removed[:, [self.col[c.code] for c in kids]]  # n × k
            if all(c.code not in values for c in kids):
                fast = _combine_static(model, node, np.hstack(kid_v), np.hstack(kid_c), removed, w, need_cov)
            else:
                fast = _combine_fast(model, node, kid_v, kid_c, removed, w, need_cov)
            if fast is None:
                v = np.stack([np.broadcast_to(a, (n, r)) for a in kid_v], axis=1)  # n × k × R
                cov = np.stack([np.broadcast_to(a, (n, r)) for a in kid_c], axis=1)
                fast = _combine_many(model, node, v, removed, cov, w, self.src.groups)
            values[node.code], coverage[node.code] = fast
        return values[self.code]


def _finish_node(score: np.ndarray, coverage: np.ndarray | None, ok: np.ndarray,
                 min_cov: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply the static validity mask (some weight with data) and the coverage threshold."""
    if not ok.all():
        score = np.where(ok, score, np.nan)
        if coverage is not None:
            coverage = np.where(ok, coverage, np.nan)
    if coverage is not None and min_cov > 0:
        score = np.where(coverage < min_cov - 1e-12, np.nan, score)
    return score, coverage


def _fast_settings(model: IndexModel, node: Node) -> tuple[str, str, float] | None:
    """(missing policy, aggregation, minimum coverage) of a node for the fast combiners;
    None for `impute`, which needs the stacked path."""
    policy = model.setting(node, "missing")
    if policy == "impute":
        return None
    return policy, model.setting(node, "aggregation"), float(model.setting(node, "min_coverage") or 0.0)


def _combine_static(model: IndexModel, node: Node, v: np.ndarray, cov: np.ndarray, removed: np.ndarray,
                    w: np.ndarray, need_cov: bool = True) -> tuple[np.ndarray, np.ndarray | None] | None:
    """`combine` for R weight vectors when every child is static (n × k): matrix products
    (n × k) @ (k × R) for the weighted sums. None for `impute` (handled by stacking)."""
    settings = _fast_settings(model, node)
    if settings is None:
        return None
    policy, method, min_cov = settings
    active = ~removed
    present = ~np.isnan(v)
    use = active if policy == "zero" else active & present
    val = np.where(present, v, 0.0)
    use_f = use.astype(float)
    total = use_f @ w
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if method == "arithmetic":
            score = (use_f * val) @ w
            score /= total
        else:
            positive = val > 0
            zero_any = (use & ~positive).any(axis=1, keepdims=True)
            safe = np.where(positive, val, 1.0)
            if method == "geometric":
                score = np.exp((use_f * np.log(safe)) @ w / total)
            else:
                score = total / ((use_f / safe) @ w)
            if zero_any.any():
                score = np.where(zero_any, 0.0, score)
        coverage = None
        if need_cov:
            act_f = active.astype(float)
            coverage = (act_f * np.nan_to_num(cov)) @ w / (act_f @ w)
    ok = (use.any(axis=1) & active.any(axis=1))[:, None]
    return _finish_node(score, coverage, ok, min_cov)


def _combine_fast(model: IndexModel, node: Node, kid_v: list[np.ndarray], kid_c: list[np.ndarray | None],
                  removed: np.ndarray, w: np.ndarray, need_cov: bool = True) -> tuple[np.ndarray, np.ndarray | None] | None:
    """`combine` for R weight vectors without stacking children (`zero` and `reweight`):
    children as (n × 1) static columns or (n × R) blocks, w (k × R). None for `impute`."""
    settings = _fast_settings(model, node)
    if settings is None:
        return None
    policy, method, min_cov = settings
    active = ~removed
    uses, vals = [], []
    for k, a in enumerate(kid_v):
        present = ~np.isnan(a)
        full = bool(present.all())
        act = active[:, k:k + 1]
        use = act if policy == "zero" or full else act & present
        uses.append(None if bool(use.all()) else use)
        vals.append(a if full else np.where(present, a, 0.0))
    zero_any = np.zeros((len(active), 1), dtype=bool)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if method == "arithmetic":
            terms = vals
        else:
            terms = []
            for val, use in zip(vals, uses, strict=True):
                positive = val > 0
                bad = ~positive if use is None else use & ~positive
                zero_any = zero_any | bad
                safe = np.where(positive, val, 1.0)
                terms.append(np.log(safe) if method == "geometric" else 1.0 / safe)
        if all(u is None for u in uses):
            total = w.sum(axis=0)[None, :]
            num = terms[0] * w[0]
            for t, wk in zip(terms[1:], w[1:], strict=True):
                num += t * wk
        else:
            total = num = None
            for t, use, wk in zip(terms, uses, w, strict=True):
                uw = wk if use is None else use * wk
                total = uw if total is None else total + uw
                num = t * uw if num is None else num + t * uw
            total = np.broadcast_to(total, num.shape)
        if method == "arithmetic":
            score = num / total
        elif method == "geometric":
            score = np.exp(num / total)
        else:
            score = total / num
        if method != "arithmetic" and zero_any.any():
            score = np.where(zero_any, 0.0, score)
        coverage = None
        if need_cov:
            act_w = cov_num = None
            for k, c in enumerate(kid_c):
                aw = active[:, k:k + 1] * w[k]
                ct = aw * np.nan_to_num(c)
                act_w = aw if act_w is None else act_w + aw
                cov_num = ct if cov_num is None else cov_num + ct
            coverage = np.broadcast_to(cov_num / act_w, score.shape)
    return _finish_node(score, coverage, active.any(axis=1)[:, None], min_cov)


def _collapse(self: _Simulator, model: IndexModel, tree: Node, base: Any, weights: np.ndarray) -> np.ndarray | None:
    """One matrix product for the whole varying part of the tree when it is a composition of
    the same quasi-arithmetic mean (arithmetic, geometric or harmonic) under `zero`, with
    nothing removed and no coverage threshold: the index is then that mean of the static
    frontier with effective weights = products of the normalised weights along each path."""
    nodes = [nd for nd in tree.walk() if nd.code in self.dynamic]
    methods = {model.setting(nd, "aggregation") for nd in nodes}
    if (len(methods) != 1 or any(model.setting(nd, "missing") != "zero" for nd in nodes)
            or any(float(model.setting(nd, "min_coverage") or 0.0) > 0 for nd in nodes)):
        return None
    method = methods.pop()
    r = weights.shape[0]
    share: dict[str, np.ndarray] = {}
    frontier: list[str] = []
    top = next(nd for nd in tree.walk() if nd.code == self.code)
    share[top.code] = np.ones(r)
    for nd in top.walk():
        if nd.code not in self.dynamic:
            continue
        nominal = np.asarray(model.normalised_weights(nd)) * _raw_total(nd)
        w = np.stack([weights[:, self.weight_col[c.code]] if c.code in self.weight_col else np.full(r, nominal[i])
                      for i, c in enumerate(nd.children)], axis=0)
        w = w / w.sum(axis=0)
        for i, c in enumerate(nd.children):
            share[c.code] = share[nd.code] * w[i]
            if c.code not in self.dynamic:
                frontier.append(c.code)
    cols = [self.col[c] for c in frontier]
    if base.removed[:, cols].any():
        return None
    x = np.nan_to_num(base.scores[:, cols], nan=0.0)  # `zero`: a missing child counts 0
    eff = np.stack([share[c] for c in frontier], axis=0)  # F × R
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if method == "arithmetic":
            return x @ eff
        zero = (x <= 0).any(axis=1, keepdims=True)
        safe = np.where(x > 0, x, 1.0)
        out = np.exp(np.log(safe) @ eff) if method == "geometric" else 1.0 / ((1.0 / safe) @ eff)
    return np.where(zero, 0.0, out)


def _raw_total(node: Node) -> float:
    return sum(1.0 if c.weight is None else float(c.weight) for c in node.children)


def _combine_many(model: IndexModel, node: Node, v: np.ndarray, removed: np.ndarray, cov: np.ndarray,
                  w: np.ndarray, groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """`aggregate.combine` for R weight vectors at once: v, cov (n × k × R), w (k × R)."""
    policy = model.setting(node, "missing")
    method = model.setting(node, "aggregation")
    min_cov = float(model.setting(node, "min_coverage") or 0.0)
    n, k, r = v.shape
    active = ~removed[:, :, None]
    has = active & ~np.isnan(v)
    missing = active & ~has
    if policy == "zero":
        filled, use = np.where(missing, 0.0, v), np.broadcast_to(active, v.shape)
    elif policy == "impute":
        flat = group_mean_fill(v.reshape(n, k * r), has.reshape(n, k * r), groups).reshape(n, k, r)
        filled = np.where(missing, flat, v)
        use = active & ~np.isnan(filled)
    else:
        filled, use = v, has
    use_f = use.astype(float)
    total = np.einsum("nkr,kr->nr", use_f, w)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if method == "arithmetic":
            score = np.einsum("nkr,kr->nr", np.where(use, filled, 0.0), w) / total
        else:
            positive = use & (filled > 0)
            zero_any = (use & ~positive).any(axis=1)
            if method == "geometric":
                logs = np.log(np.where(positive, filled, 1.0))
                score = np.exp(np.einsum("nkr,kr->nr", logs, w) / total)
            else:
                score = total / np.einsum("nkr,kr->nr", np.where(positive, 1.0 / np.where(positive, filled, 1.0), 0.0), w)
            score = np.where(zero_any, 0.0, score)
    score = np.where(total > 0, score, np.nan)
    act_w = np.einsum("nk,kr->nr", (~removed).astype(float), w)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        coverage = np.einsum("nkr,kr->nr", np.where(active, np.nan_to_num(cov), 0.0), w) / act_w
    gone = act_w == 0
    coverage = np.where(gone, np.nan, coverage)
    score = np.where(gone | (coverage < min_cov - 1e-12), np.nan, score)
    return score, coverage


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks down each column (1 = highest); NaN rows get NaN. Large matrices are ranked in
    column blocks on a thread per core (numpy's sort releases the GIL); the result is identical."""
    workers = min(os.cpu_count() or 1, 8)
    if workers > 1 and values.size >= 1_000_000 and values.shape[1] >= workers:
        bounds = np.linspace(0, values.shape[1], workers + 1).astype(int)
        out = np.empty(values.shape, dtype=np.float32)

        def block(i: int) -> None:
            out[:, bounds[i]:bounds[i + 1]] = _ranks_serial(values[:, bounds[i]:bounds[i + 1]])

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(block, range(workers)))
        return out
    return _ranks_serial(values)


def _ranks_serial(values: np.ndarray) -> np.ndarray:
    """Ranks down each column in one thread."""
    missing = np.isnan(values)
    any_missing = bool(missing.any())
    keyed = np.negative(values.T, dtype=np.float32)  # replications × units, contiguous
    if any_missing:
        keyed[missing.T] = np.inf
    order = np.argsort(keyed, axis=1)
    ranks = np.empty(keyed.shape, dtype=np.float32)
    np.put_along_axis(ranks, order, np.arange(1, keyed.shape[1] + 1, dtype=np.float32)[None, :], axis=1)
    if any_missing:
        ranks[missing.T] = np.nan
    return np.ascontiguousarray(ranks.T)


def row_quantiles(a: np.ndarray, qs: Sequence[tuple[float, str]]) -> list[np.ndarray]:
    """Row-wise quantiles ignoring NaN, vectorised; each (q, method) with method `linear`,
    `lower` or `higher`; all-NaN rows give NaN. Uses a partial sort when nothing is missing."""
    count = (~np.isnan(a)).sum(axis=1)
    width = a.shape[1]
    complete = bool((count == width).all())
    if complete and width:
        positions = sorted({p for q, _ in qs for p in (int(np.floor(q * (width - 1))), int(np.ceil(q * (width - 1))))})
        ordered = np.partition(a, positions, axis=1)
    else:
        ordered = np.sort(a, axis=1)  # NaN sort last
    rows = np.arange(a.shape[0])
    out = []
    for q, method in qs:
        pos = q * np.maximum(count - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.ceil(pos).astype(int)
        low_v, high_v = ordered[rows, lo], ordered[rows, hi]
        value = low_v if method == "lower" else high_v if method == "higher" else low_v + (high_v - low_v) * (pos - lo)
        out.append(np.where(count > 0, value, np.nan))
    return out


def _state_matrix(institutions: pd.DataFrame, include_federal: bool) -> tuple[list[str], np.ndarray]:
    codes = sorted(set(institutions["state"].dropna()))
    member = np.stack([(institutions["state"] == c).to_numpy() for c in codes], axis=0).astype(float)
    return codes, member


def _state_means(member: np.ndarray, values: np.ndarray) -> np.ndarray:
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if present.all():
            return (member @ values) / member.sum(axis=1, keepdims=True)
        return (member @ np.where(present, values, 0.0)) / (member @ present)


@dataclass(slots=True)
class UncertaintyResult:
    """Rank and score intervals per state and per institution, and the sampled settings."""

    states: pd.DataFrame
    institutions: pd.DataFrame
    samples: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


def _sample(factors: Factors, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u = rng.random((n, len(factors.nodes)))
    weights = factors.low + u * (factors.high - factors.low)
    agg_idx = rng.integers(0, len(factors.aggregations), n)
    miss_idx = rng.integers(0, len(factors.missing), n)
    return weights, agg_idx, miss_idx


def uncertainty(result: Any, *, n: int = 1000, seed: int = 0, code: str | None = None,
                quantiles: tuple[float, float] = (0.05, 0.95), include_federal: bool = False,
                factors: Factors | None = None, chunk: int = 256) -> UncertaintyResult:
    """Monte-Carlo uncertainty of `code` (default: the index) for a ScoreResult/RollupResult:
    rank intervals (5th–95th percentile) per state and per institution."""
    src = _source(result)
    code = code or src.tree.code
    factors = factors or Factors.from_model(src.model, src.tree)
    rng = np.random.default_rng(seed)
    weights, agg_idx, miss_idx = _sample(factors, n, rng)
    sim = _Simulator(src, factors, code)
    values = sim.run(weights, agg_idx, miss_idx, chunk=chunk)
    nominal = aggregate(src.model, src.leaf_scores, src.leaf_removed, src.groups, tree=src.tree_of(src.model))
    nominal_values = nominal.scores[:, nominal.codes.index(code)]
    codes, member = _state_matrix(src.institutions, include_federal)
    ranked = np.array([include_federal or c != st.FEDERAL for c in codes])
    s_values = _state_means(member, values)
    s_nominal = _state_means(member, nominal_values[:, None])[:, 0]
    s_ranks = np.full(s_values.shape, np.nan)
    s_ranks[ranked] = _ranks(s_values[ranked])
    s_nominal_rank = np.full(len(codes), np.nan)
    s_nominal_rank[ranked] = _ranks(s_nominal[ranked, None])[:, 0]
    lo, hi = quantiles
    s_score_low, s_score_high = row_quantiles(s_values, [(lo, "linear"), (hi, "linear")])
    s_rank_low, s_rank_med, s_rank_high = row_quantiles(s_ranks, [(lo, "lower"), (0.5, "linear"), (hi, "higher")])
    with np.errstate(invalid="ignore"):
        states_table = pd.DataFrame({
            "state": codes,
            "abbr": [st.by_code(c).abbr for c in codes],
            "entidad": [st.by_code(c).name for c in codes],
            "score": s_nominal,
            "score_low": s_score_low,
            "score_high": s_score_high,
            "rank": s_nominal_rank,
            "rank_median": s_rank_med,
            "rank_low": s_rank_low,
            "rank_high": s_rank_high,
        })
    i_ranks = _ranks(values)
    i_table = pd.DataFrame({
        "institution": src.institutions.index.to_numpy(),
        "state": src.institutions["state"].to_numpy(),
        "score": nominal_values,
        "rank": _ranks(nominal_values[:, None])[:, 0],
    })
    i_table["score_low"], i_table["score_high"] = row_quantiles(values, [(lo, "linear"), (hi, "linear")])
    i_table["rank_low"], i_table["rank_high"] = row_quantiles(i_ranks, [(lo, "lower"), (hi, "higher")])
    samples = pd.DataFrame(weights, columns=[f"w:{c}" for c in factors.nodes])
    samples["aggregation"] = np.asarray(factors.aggregations, dtype=object)[agg_idx]
    samples["missing"] = np.asarray(factors.missing, dtype=object)[miss_idx]
    params = {"n": n, "seed": seed, "code": code, "quantiles": quantiles, "weights": dict(zip(
        factors.nodes, zip(factors.low.tolist(), factors.high.tolist(), strict=True), strict=True)),
        "aggregations": factors.aggregations, "missing": factors.missing}
    return UncertaintyResult(states_table, i_table, samples, params)


def sobol(result: Any, *, n: int = 512, seed: int = 0, code: str | None = None,
          include_federal: bool = False, factors: Factors | None = None, group_weights: bool | None = None) -> pd.DataFrame:
    """Sobol first-order and total indices of each state's rank w.r.t. the input factors
    (scipy.stats.sobol_indices; `n` a power of two). With many weights (`group_weights`, auto
    above 8) all weights form one factor: a row of a pre-drawn table of weight vectors."""
    src = _source(result)
    code = code or src.tree.code
    factors = factors or Factors.from_model(src.model, src.tree)
    sim = _Simulator(src, factors, code)
    codes, member = _state_matrix(src.institutions, include_federal)
    ranked = np.array([include_federal or c != st.FEDERAL for c in codes])
    rng = np.random.default_rng(seed)
    group_weights = len(factors.nodes) > 8 if group_weights is None else group_weights
    table = factors.low + rng.random((1024, len(factors.nodes))) * (factors.high - factors.low) if group_weights else None
    names: list[str] = (["weights"] if group_weights and factors.nodes else [f"w:{c}" for c in factors.nodes])
    dists: list[Any] = [sps.uniform(0, 1) for _ in names]
    vary_a, vary_m = len(factors.aggregations) > 1, len(factors.missing) > 1
    if vary_a:
        names.append("aggregation")
        dists.append(sps.uniform(0, 1))
    if vary_m:
        names.append("missing")
        dists.append(sps.uniform(0, 1))

    def func(x: np.ndarray) -> np.ndarray:
        i = 0
        if group_weights and factors.nodes:
            weights = table[np.minimum((x[0] * len(table)).astype(int), len(table) - 1)]
            i = 1
        else:
            k = len(factors.nodes)
            weights = (factors.low[:, None] + x[:k] * (factors.high - factors.low)[:, None]).T
            i = k
        agg_idx = np.zeros(x.shape[1], dtype=int)
        miss_idx = np.zeros(x.shape[1], dtype=int)
        if vary_a:
            agg_idx = np.minimum((x[i] * len(factors.aggregations)).astype(int), len(factors.aggregations) - 1)
            i += 1
        if vary_m:
            miss_idx = np.minimum((x[i] * len(factors.missing)).astype(int), len(factors.missing) - 1)
        values = sim.run(weights, agg_idx, miss_idx)
        return _ranks(_state_means(member[ranked], values))

    res = sps.sobol_indices(func=func, n=n, dists=dists, rng=np.random.default_rng(seed))
    ranked_codes = [c for c, keep in zip(codes, ranked, strict=True) if keep]
    first = np.atleast_2d(res.first_order)
    total = np.atleast_2d(res.total_order)
    rows = []
    for s_i, state in enumerate(ranked_codes):
        for f_i, name in enumerate(names):
            rows.append({"state": state, "abbr": st.by_code(state).abbr, "factor": name,
                         "first_order": float(np.clip(np.nan_to_num(first[s_i, f_i]), 0, 1)),
                         "total": float(np.clip(np.nan_to_num(total[s_i, f_i]), 0, 1))})
    return pd.DataFrame(rows)


def brechas(result: Any, state: str | None = None, level: str = "component") -> pd.DataFrame:
    """Per state, the nodes at `level` where it loses most to the nation: gap = national mean −
    state mean, times the node's effective weight in the index = potential effect of closing it."""
    model = result.model
    tree = getattr(result, "tree", None) or model.tree
    available = [n.code for n in tree.walk() if n.level == level]
    if not available:
        raise KeyError(f"level {level!r} not in the model")
    wide = result.wide()[available]
    weights = model.effective_weights()
    national = wide.mean()
    by_state = wide.groupby(result.institutions.reindex(wide.index)["state"]).mean()
    if state is not None:
        code = st.resolve(state)
        by_state = by_state.loc[[code]]
    rows = []
    for s_code, row in by_state.iterrows():
        for code in available:
            gap = national[code] - row[code]
            rows.append({"state": s_code, "abbr": st.by_code(s_code).abbr, "code": code,
                         "label_es": model.node(code).label.get("es", code) if code in {n.code for n in model.tree.walk()} else code,
                         "state_mean": row[code], "national_mean": national[code], "gap": gap,
                         "weight": weights.get(code, np.nan),
                         "potential": max(gap, 0.0) * weights.get(code, np.nan) if not np.isnan(gap) else np.nan})
    out = pd.DataFrame(rows)
    return out.sort_values(["state", "potential"], ascending=[True, False], kind="stable").reset_index(drop=True)
