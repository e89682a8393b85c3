"""Statistics for group comparisons (methodology §7): cluster bootstrap intervals for group
means (institutions are resampled), the state vs rest-of-nation gap with Welch's t-test, a
permutation test and Hedges' g, Benjamini–Hochberg across states × scores, and Cronbach's α
with Feldt's interval. Every random step takes `seed`; the same seed gives the same output."""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy import stats as sps

from . import states as st


def _values(scores: pd.DataFrame, institutions: pd.DataFrame, codes: Sequence[str] | None):
    codes = list(codes or scores.columns)
    state = institutions.reindex(scores.index)["state"].astype("object").to_numpy()
    return codes, scores[codes].to_numpy(dtype=float), state


def bootstrap_mean_ci(values: np.ndarray, *, n_resamples: int = 2000, confidence: float = 0.95,
                      seed: int = 0, method: str = "BCa") -> tuple[float, float]:
    """Confidence interval of a mean with scipy.stats.bootstrap (vectorised); NaNs dropped."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) < 2 or np.ptp(x) == 0:
        m = float(x.mean()) if len(x) else np.nan
        return m, m
    res = sps.bootstrap((x,), np.mean, n_resamples=n_resamples, confidence_level=confidence,
                        vectorized=True, method=method, rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _resampled_means(x: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap means (resamples × columns) of the rows of `x` (rows × columns), NaN-aware."""
    n = len(x)
    idx = rng.integers(0, n, size=(n_resamples, n))
    # A resample is fully described by how often it draws each row: counts @ x gives every
    # resample's sums at once (one matrix product instead of a resamples × rows × columns copy).
    offsets = (np.arange(n_resamples, dtype=np.int64) * n)[:, None]
    counts = np.bincount((idx + offsets).ravel(), minlength=n_resamples * n).reshape(n_resamples, n).astype(float)
    present = ~np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (counts @ np.where(present, x, 0.0)) / (counts @ present.astype(float))


def group_intervals(scores: pd.DataFrame, institutions: pd.DataFrame, by: str = "state",
                    codes: Sequence[str] | None = None, *, n_resamples: int = 2000,
                    confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Per group and score: n, mean and a percentile cluster-bootstrap interval (institutions
    resampled within the group, all scores at once so their intervals share resamples)."""
    codes = list(codes or scores.columns)
    meta = institutions.reindex(scores.index)
    keys = meta[by].astype("object").fillna("") if by != "nation" else pd.Series("nacional", index=scores.index)
    x_all = scores[codes].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    alpha = (1 - confidence) / 2
    rows = []
    for group, idx in sorted(pd.Series(range(len(keys)), index=keys.to_numpy()).groupby(level=0).indices.items()):
        x = x_all[idx]
        means = _resampled_means(x, n_resamples, rng)
        with np.errstate(invalid="ignore"):
            low, high = np.nanquantile(means, [alpha, 1 - alpha], axis=0) if len(x) else (np.nan, np.nan)
        with np.errstate(invalid="ignore"):
            point = np.nanmean(x, axis=0) if (~np.isnan(x)).any() else np.full(len(codes), np.nan)
        for j, code in enumerate(codes):
            rows.append({by: group, "code": code, "n": int((~np.isnan(x[:, j])).sum()),
                         "mean": point[j], "low": low[j], "high": high[j]})
    return pd.DataFrame(rows)


def hedges_g(x: np.ndarray, y: np.ndarray) -> float:
    """Hedges' g: standardised mean difference (pooled SD) with the small-sample correction."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    nx, ny = len(x), len(y)
    if nx < 2 or ny < 2:
        return np.nan
    pooled = np.sqrt(((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2))
    if pooled == 0:
        return np.nan
    correction = 1 - 3 / (4 * (nx + ny) - 9)
    return float((x.mean() - y.mean()) / pooled * correction)


def welch(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Welch's t statistic and two-sided p-value (scipy.stats.ttest_ind, equal_var=False)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) < 2 or len(y) < 2 or (np.ptp(x) == 0 and np.ptp(y) == 0):
        return np.nan, np.nan
    res = sps.ttest_ind(x, y, equal_var=False)
    return float(res.statistic), float(res.pvalue)


def permutation_pvalues(values: np.ndarray, labels: np.ndarray, groups: Sequence[object], *,
                        n_resamples: int = 9999, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided permutation p-values of mean(group) − mean(rest) for every group at once.
    One shuffle of all labels per resample serves all groups (each p-value is exact for its
    own test); p = (1 + #{|null| ≥ |observed|}) / (1 + resamples). Returns (observed, p).

    `values` may be a matrix (institutions × scores): each column is tested on the rows where
    it has a value, and columns with values on the same rows share the shuffles (each column's
    test stays exact; only their null draws are the same). Then observed and p are groups × scores."""
    v_all = np.asarray(values, dtype=float)
    matrix = v_all.ndim == 2
    v_all = v_all if matrix else v_all[:, None]
    labels = np.asarray(labels, dtype=object)
    observed = np.full((len(groups), v_all.shape[1]), np.nan)
    p = np.full(observed.shape, np.nan)
    rng = np.random.default_rng(seed)
    present = ~np.isnan(v_all)
    masks, which = np.unique(present, axis=1, return_inverse=True)
    for m in range(masks.shape[1]):
        cols = np.flatnonzero(which.reshape(-1) == m)
        keep = masks[:, m]
        v = v_all[keep][:, cols]  # n × columns sharing these rows
        n = len(v)
        member = np.stack([labels[keep] == g for g in groups], axis=1).astype(float)  # n × groups
        size = member.sum(axis=0)[:, None]
        total = v.sum(axis=0)
        in_group = member.T @ v  # groups × columns
        with np.errstate(invalid="ignore", divide="ignore"):
            observed[:, cols] = in_group / size - (total - in_group) / (n - size)
        exceed = np.zeros((len(groups), len(cols)))
        chunk = max(1, min(n_resamples, 4_000_000 // max(n, 1)))
        done = 0
        while done < n_resamples:
            b = min(chunk, n_resamples - done)
            order = rng.permuted(np.broadcast_to(np.arange(n, dtype=np.intp), (b, n)), axis=1)
            for k, col in enumerate(cols):
                sums = (v[:, k][order] @ member).T  # groups × b
                with np.errstate(invalid="ignore", divide="ignore"):
                    null = sums / size - (total[k] - sums) / (n - size)
                exceed[:, k] += (np.abs(null) >= np.abs(observed[:, [col]]) - 1e-12).sum(axis=1)
            done += b
        p[:, cols] = np.where((size < 1) | (size >= n), np.nan, (exceed + 1) / (n_resamples + 1))
    return (observed, p) if matrix else (observed[:, 0], p[:, 0])


@dataclass(frozen=True, slots=True)
class _NationalResample:
    """One bootstrap resample of every institution, shared by the states' rest-of-nation
    resamples: the draws (resamples × N), how often each row was drawn, the columns summed
    (`both`: values with NaN as 0, then each distinct pattern of present values as 0/1, so
    columns with the same missing values share one count column `count_of`) and their sums."""

    draws: np.ndarray
    counts: np.ndarray
    both: np.ndarray
    count_of: np.ndarray
    sums: np.ndarray

    @classmethod
    def draw(cls, x_all: np.ndarray, n_resamples: int, rng: np.random.Generator) -> _NationalResample:
        n = len(x_all)
        present = ~np.isnan(x_all)
        patterns, which = np.unique(present, axis=1, return_inverse=True)
        both = np.hstack([np.where(present, x_all, 0.0), patterns.astype(float)])
        draws = rng.integers(0, n, size=(n_resamples, n))
        offsets = (np.arange(n_resamples, dtype=np.int64) * n)[:, None]
        counts = np.bincount((draws + offsets).ravel(), minlength=n_resamples * n).reshape(n_resamples, n)
        counts = counts.astype(float)
        return cls(draws, counts, both, x_all.shape[1] + which.reshape(-1), counts @ both)

    def rest_means(self, inside: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Bootstrap means (resamples × columns) of the rows outside a group, NaN-aware.

        A resample of the rest (m = N − n_group draws, uniform over the rest) is the first m
        draws of the national resample, with every draw that fell inside the group replaced by
        a fresh draw from the rest. Each of the m draws is then uniform over the rest and
        independent of the others, so this is exactly a bootstrap resample of the rest, at the
        cost of the group's share of the draws only. (The groups' resamples of their rests are
        correlated with one another; each interval is of one group only.)"""
        n_resamples, n = self.draws.shape
        own, rest = np.flatnonzero(inside), np.flatnonzero(~inside)
        m = len(rest)
        tail = self.draws[:, m:]  # the draws after the first m
        tail_inside = inside[tail]
        own_counts = self.counts[:, own]
        # the first m draws outside the group = all draws − those inside the group − the tail's outside ones
        outside_tail = tail.shape[1] - tail_inside.sum(axis=1)
        replaced = (own_counts.sum(axis=1) - tail_inside.sum(axis=1)).astype(np.int64)
        fresh = rest[rng.integers(0, m, size=int(replaced.sum()))]  # in replicate order
        drop = sparse.csr_matrix((np.ones(int(outside_tail.sum())), tail[~tail_inside],
                                  np.concatenate([[0], np.cumsum(outside_tail)])), shape=(n_resamples, n))
        add = sparse.csr_matrix((np.ones(len(fresh)), fresh, np.concatenate([[0], np.cumsum(replaced)])),
                                shape=(n_resamples, n))
        sums = self.sums - own_counts @ self.both[own] - drop @ self.both + add @ self.both
        k = len(self.count_of)
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums[:, :k] / np.round(sums[:, self.count_of])


def _welch_rows(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Welch's t and two-sided p per column of x against the same column of y (NaN dropped),
    the formula of scipy.stats.ttest_ind(equal_var=False); NaN where `welch` gives NaN."""
    nx, ny = (~np.isnan(x)).sum(axis=0), (~np.isnan(y)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mx, my = np.nanmean(x, axis=0), np.nanmean(y, axis=0)
        vx, vy = np.nanvar(x, axis=0, ddof=1), np.nanvar(y, axis=0, ddof=1)
        ex, ey = vx / nx, vy / ny
        t = (mx - my) / np.sqrt(ex + ey)
        df = (ex + ey) ** 2 / (ex ** 2 / (nx - 1) + ey ** 2 / (ny - 1))
        p = 2 * sps.t.sf(np.abs(t), df)
    flat = (np.nanmax(x, axis=0, initial=-np.inf) == np.nanmin(x, axis=0, initial=np.inf)) & \
        (np.nanmax(y, axis=0, initial=-np.inf) == np.nanmin(y, axis=0, initial=np.inf))
    bad = (nx < 2) | (ny < 2) | flat
    return np.where(bad, np.nan, t), np.where(bad, np.nan, p)


def rest_of_nation_gaps(scores: pd.DataFrame, institutions: pd.DataFrame, codes: Sequence[str] | None = None,
                        *, n_resamples: int = 2000, permutations: int = 9999, confidence: float = 0.95,
                        seed: int = 0) -> pd.DataFrame:
    """Per state × score: mean, rest-of-nation mean, gap, bootstrap CI of the gap (both groups
    resampled by institution), Welch t and p, permutation p, Hedges' g, and BH q-value."""
    codes, x_all, state = _values(scores, institutions, codes)
    groups = sorted(set(state))
    rng = np.random.default_rng(seed)
    alpha = (1 - confidence) / 2
    perm = permutation_pvalues(x_all, state, groups, n_resamples=permutations, seed=int(rng.integers(2**31)))[1]
    national = _NationalResample.draw(x_all, n_resamples, rng)
    rows = []
    for g_i, group in enumerate(groups):
        inside = state == group
        x, y = x_all[inside], x_all[~inside]
        if len(x) and len(y):
            diff = _resampled_means(x, n_resamples, rng) - national.rest_means(inside, rng)
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                lows, highs = np.nanquantile(diff, [alpha, 1 - alpha], axis=0)
        else:
            lows = highs = np.full(len(codes), np.nan)
        t, p = _welch_rows(x, y)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mx = np.nanmean(x, axis=0) if len(x) else np.full(len(codes), np.nan)
            my = np.nanmean(y, axis=0) if len(y) else np.full(len(codes), np.nan)
        nx, ny = (~np.isnan(x)).sum(axis=0), (~np.isnan(y)).sum(axis=0)
        for j, code in enumerate(codes):
            rows.append({"state": group, "code": code, "n": int(nx[j]),
                         "mean": mx[j], "n_rest": int(ny[j]), "rest_mean": my[j],
                         "gap": mx[j] - my[j], "gap_low": lows[j], "gap_high": highs[j], "welch_t": t[j],
                         "welch_p": p[j], "permutation_p": perm[g_i, j], "hedges_g": hedges_g(x[:, j], y[:, j])})
    table = pd.DataFrame(rows)
    table["q_value"] = benjamini_hochberg(table["permutation_p"].fillna(table["welch_p"]).to_numpy())
    table.insert(1, "abbr", table["state"].map(lambda c: st.by_code(c).abbr if st.resolve(c) == c else None))
    return table


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH-adjusted q-values (scipy.stats.false_discovery_control); NaN stays NaN."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = sps.false_discovery_control(p[ok], method="bh")
    return out


def cronbach_alpha(items: pd.DataFrame | np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Cronbach's α of the columns (listwise complete rows) with Feldt's F-based interval."""
    x = np.asarray(items, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    n, k = x.shape
    out = {"alpha": np.nan, "low": np.nan, "high": np.nan, "n": n, "k": k}
    if n < 3 or k < 2:
        return out
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return out
    alpha = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    g = (1 - confidence) / 2
    out.update(alpha=float(alpha),
               low=float(1 - (1 - alpha) * sps.f.ppf(1 - g, df1, df2)),
               high=float(1 - (1 - alpha) * sps.f.ppf(g, df1, df2)))
    return out


def reliability(result, level: str = "dimension", of: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Cronbach's α per node at `level` over its descendants at `of` (default: the level below
    its children, i.e. components for a dimension when present, else its leaves)."""
    model = result.model
    wide_all = result.wide()
    rows = []
    for node in model.tree.walk():
        if node.level != level:
            continue
        below = [d for d in node.walk() if d is not node]
        if of is not None:
            members = [d.code for d in below if d.level == of]
        else:
            levels = [d.level for d in below]
            target = "component" if "component" in levels else (levels[-1] if levels else None)
            members = [d.code for d in below if d.level == target]
        members = [c for c in members if c in wide_all.columns]
        stats = cronbach_alpha(wide_all[members], confidence) if len(members) >= 2 else \
            {"alpha": np.nan, "low": np.nan, "high": np.nan, "n": len(wide_all), "k": len(members)}
        rows.append({"code": node.code, "level": level, "items": ", ".join(members), **stats})
    return pd.DataFrame(rows)
