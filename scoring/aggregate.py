"""Aggregation families (COINr style) and the bottom-up engine over an institution × node
matrix: weighted arithmetic / geometric / harmonic means under a missing-data policy
(`zero`, `reweight`, `impute` by group mean) with coverage and a minimum-coverage rule."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .model import IndexModel, Node


def a_amean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted arithmetic mean per row; `weights` (rows × k) are zero where a value is unused."""
    total = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        out = (np.where(weights > 0, values, 0.0) * weights).sum(axis=1) / total
    return np.where(total > 0, out, np.nan)


def a_gmean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted geometric mean per row (any used zero gives zero)."""
    total = weights.sum(axis=1)
    used = weights > 0
    positive = used & (values > 0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        logs = np.log(np.where(positive, values, 1.0))
        out = np.exp((logs * weights).sum(axis=1) / total)
    out = np.where((used & ~positive).any(axis=1), 0.0, out)
    return np.where(total > 0, out, np.nan)


def a_hmean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted harmonic mean per row (any used zero gives zero)."""
    total = weights.sum(axis=1)
    used = weights > 0
    positive = used & (values > 0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        out = total / (weights / np.where(positive, values, 1.0)).sum(axis=1)
    out = np.where((used & ~positive).any(axis=1), 0.0, out)
    return np.where(total > 0, out, np.nan)


AGGREGATORS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "arithmetic": a_amean,
    "geometric": a_gmean,
    "harmonic": a_hmean,
}


def group_mean_fill(values: np.ndarray, present: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Group mean of each column over rows with data (overall mean when a group has none)."""
    filled = np.where(present, values, 0.0)
    counts_all = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        overall = filled.sum(axis=0) / counts_all
    overall = np.where(counts_all > 0, overall, np.nan)
    if groups is None:
        return np.broadcast_to(overall, values.shape).copy()
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    sums = np.zeros((n_groups, values.shape[1]))
    counts = np.zeros((n_groups, values.shape[1]))
    np.add.at(sums, groups, filled)
    np.add.at(counts, groups, present.astype(float))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        means = sums / counts
    means = np.where(counts > 0, means, overall)
    return means[groups]


@dataclass(slots=True)
class Aggregation:
    """Scores, coverage and *no aplica* flags of every node (columns in tree order)."""

    codes: list[str]
    levels: list[str]
    scores: np.ndarray
    coverage: np.ndarray
    removed: np.ndarray

    def column(self, code: str) -> int:
        """Column of `code`."""
        return self.codes.index(code)


def combine(model: IndexModel, node: Node, values: np.ndarray, removed: np.ndarray,
            coverage: np.ndarray, groups: np.ndarray | None,
            weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Combine the children columns of `node` into its score, coverage and *no aplica* flag."""
    w = np.asarray(weights if weights is not None else model.normalised_weights(node), dtype=float)
    policy = model.setting(node, "missing")
    method = model.setting(node, "aggregation")
    min_cov = float(model.setting(node, "min_coverage") or 0.0)
    active = ~removed
    has = active & ~np.isnan(values)
    missing = active & ~has
    if policy == "zero":
        filled, use = np.where(missing, 0.0, values), active
    elif policy == "impute":
        means = group_mean_fill(values, has, groups)
        filled = np.where(missing, means, values)
        use = active & ~np.isnan(filled)
    else:
        filled, use = values, has
    score = AGGREGATORS[method](filled, use * w)
    active_weight = (active * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        cov = (np.where(active, np.nan_to_num(coverage), 0.0) * w).sum(axis=1) / active_weight
    node_removed = active_weight == 0
    cov = np.where(node_removed, np.nan, cov)
    score = np.where(node_removed | (cov < min_cov - 1e-12), np.nan, score)
    return score, cov, node_removed


def aggregate(model: IndexModel, leaf_scores: np.ndarray, leaf_removed: np.ndarray,
              groups: np.ndarray | None = None, tree: Node | None = None) -> Aggregation:
    """Aggregate leaf scores (rows × leaves, NaN = missing) bottom-up through the tree."""
    tree = tree or model.tree
    order = list(tree.walk())
    codes = [n.code for n in order]
    col = {code: i for i, code in enumerate(codes)}
    n = leaf_scores.shape[0]
    scores = np.full((n, len(order)), np.nan)
    coverage = np.full((n, len(order)), np.nan)
    removed = np.zeros((n, len(order)), dtype=bool)
    leaf_cols = [col[node.code] for node in order if node.is_leaf]
    leaf_values = np.where(leaf_removed, np.nan, leaf_scores)
    scores[:, leaf_cols] = leaf_values
    removed[:, leaf_cols] = leaf_removed
    coverage[:, leaf_cols] = np.where(leaf_removed, np.nan, (~np.isnan(leaf_values)).astype(float))
    for node in tree.post_order():
        if node.is_leaf:
            continue
        idx = [col[c.code] for c in node.children]
        s, cv, rm = combine(model, node, scores[:, idx], removed[:, idx], coverage[:, idx], groups)
        c = col[node.code]
        scores[:, c], coverage[:, c], removed[:, c] = s, cv, rm
    return Aggregation(codes, [n.level for n in order], scores, coverage, removed)


def prune(tree: Node, keep_as_leaf: set[str]) -> Node:
    """A copy of the tree where nodes in `keep_as_leaf` with no kept descendant become leaves."""

    def has_kept_below(node: Node) -> bool:
        return any(d.code in keep_as_leaf for c in node.children for d in c.walk())

    def copy(node: Node) -> Node:
        if node.code in keep_as_leaf and not has_kept_below(node):
            return replace(node, children=[])
        return replace(node, children=[copy(c) for c in node.children])

    return copy(tree)
