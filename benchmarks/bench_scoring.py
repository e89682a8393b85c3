"""Scoring benchmarks: answers → full index tree, Monte-Carlo uncertainty, and the
state-vs-nation table, each beside a plain-numpy floor measured in the same run."""
from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks import Measurement, best_of

N_ITEMS, N_COMPONENTS, N_SUBINDICES, N_DIMENSIONS = 100, 20, 4, 2
RULES = [
    '{options: {"yes": 1, "no": 0}}',
    "{scale: [0, 100]}",
    "{thresholds: [{min: 10, score: 1}, {min: 3, score: 0.667}, {min: 1, score: 0.333}], else: 0}",
    "{share: [a, b, c, d, e]}",
]


def model_yaml(n_items: int = N_ITEMS) -> str:
    """An inline model: items in 20 components, 4 sub-indices, 2 dimensions, one index."""
    per_component = n_items // N_COMPONENTS
    lines = ["model: {id: bench, uncertainty: {aggregation: [arithmetic, geometric], missing: [zero, reweight]}}",
             "tree:", "  code: GA", "  level: index", "  children:"]
    item = 0
    for d in range(N_DIMENSIONS):
        lines += [f"    - code: D{d}", "      level: dimension", "      children:"]
        for s in range(N_SUBINDICES // N_DIMENSIONS):
            sub = d * (N_SUBINDICES // N_DIMENSIONS) + s
            lines += [f"        - code: S{sub}", "          level: subindex", "          children:"]
            for c in range(N_COMPONENTS // N_SUBINDICES):
                comp = sub * (N_COMPONENTS // N_SUBINDICES) + c
                lines += [f"            - code: C{comp}", "              level: component",
                          f"              weight: {1 + comp % 3}", "              children:"]
                for _ in range(per_component):
                    lines.append(f"                - {{code: q{item}, rule: {RULES[item % len(RULES)]}}}")
                    item += 1
    return "\n".join(lines) + "\n"


def answers_for(n_institutions: int, n_items: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long-form answers (every institution answers every item) and the institutions."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"inst{i:06d}" for i in range(n_institutions)], dtype=object)
    pools = [np.array(["yes", "no", ""], dtype=object), np.array([str(v) for v in range(0, 101)], dtype=object),
             np.array([str(v) for v in range(0, 15)], dtype=object),
             np.array(["a", "a b", "a b c", "", "c d e", "a b c d e"], dtype=object)]
    columns = []
    for j in range(n_items):
        pool = pools[j % len(pools)]
        columns.append(pool[rng.integers(0, len(pool), n_institutions)])
    values = np.stack(columns, axis=1).reshape(-1)
    answers = pd.DataFrame({
        "institution": np.repeat(ids, n_items),
        "field": np.tile(np.array([f"q{j}" for j in range(n_items)], dtype=object), n_institutions),
        "repeat_index": np.full(n_institutions * n_items, np.nan),
        "value": values,
    })
    codes = [f"{c:02d}" for c in range(0, 33)]
    institutions = pd.DataFrame({"institution": ids, "name": ids, "state": rng.choice(codes, n_institutions),
                                 "order": "estatal", "type": rng.choice(["a", "b", "c", "d"], n_institutions)})
    return answers, institutions


def bench_score(quick: bool) -> Measurement:
    """(a) 20,000 institutions × 100 items through the whole tree vs a numpy scatter floor."""
    from scoring.model import IndexModel
    from scoring.pipeline import score

    n = 2_000 if quick else 20_000
    model = IndexModel.from_text(model_yaml())
    answers, institutions = answers_for(n, N_ITEMS)
    seconds = best_of(lambda: score(answers, institutions, model).wide("index"), repeat=3)
    rng = np.random.default_rng(1)
    inst = np.repeat(np.arange(n), N_ITEMS)
    item = np.tile(np.arange(N_ITEMS), n)
    scores = rng.random(n * N_ITEMS)
    weights = np.array([model.effective_weights()[f"q{j}"] for j in range(N_ITEMS)])

    def floor() -> np.ndarray:
        matrix = np.full((n, N_ITEMS), np.nan)
        matrix[inst, item] = scores
        return np.nan_to_num(matrix) @ weights

    baseline = best_of(floor, repeat=5)
    return Measurement(f"score: {n:,} institutions × {N_ITEMS} items ({n * N_ITEMS:,} answers), full tree",
                       seconds, "numpy scatter of pre-scored triples + weighted sum", baseline, "≤ 1 s")


def _component_result(n: int, seed: int = 2):
    """A rollup result with 20 component scores per institution (some missing) in 33 groups."""
    from scoring.model import IndexModel
    from scoring.rollup import rollup

    model = IndexModel.from_text(model_yaml())
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.random((n, N_COMPONENTS)).round(4), columns=[f"C{c}" for c in range(N_COMPONENTS)])
    frame = frame.mask(rng.random(frame.shape) < 0.03)
    frame.insert(0, "institution", [f"i{i}" for i in range(n)])
    frame.insert(1, "state", [f"{(i % 33):02d}" for i in range(n)])
    frame.insert(2, "type", rng.choice(["a", "b", "c"], n))
    return rollup(frame, model)


def bench_uncertainty(quick: bool) -> Measurement:
    """(b) 10,000 replications over 2,000 institutions in 32 states (+ federal)."""
    from scoring.uncertainty import uncertainty

    n, reps = (200, 1_000) if quick else (2_000, 10_000)
    result = _component_result(n)
    seconds = best_of(lambda: uncertainty(result, n=reps, seed=1), repeat=2)
    comp = np.nan_to_num(result.wide("component").to_numpy())
    rng = np.random.default_rng(3)
    member = np.stack([(result.institutions["state"] == f"{c:02d}").to_numpy() for c in range(33)]).astype(float)
    member /= member.sum(axis=1, keepdims=True)

    def floor() -> np.ndarray:
        # The same replications with arithmetic means only: one matmul of the perturbed
        # effective weights, then state means and ranks.
        w = rng.uniform(0.75, 1.25, (reps, N_COMPONENTS))
        w /= w.sum(axis=1, keepdims=True)
        index = comp @ w.T
        state = member @ index
        return np.argsort(np.argsort(-state, axis=0), axis=0)

    baseline = best_of(floor, repeat=3)
    return Measurement(f"uncertainty: {reps:,} replications × {n:,} institutions, rank intervals",
                       seconds, "numpy: matmul of perturbed weights + state means + ranks", baseline, "≤ 2 s")


def bench_state_table(quick: bool) -> Measurement:
    """(c) 32 states × 3 scores vs the rest of the nation, bootstrap 2,000 resamples each."""
    from scoring.stats import group_intervals, rest_of_nation_gaps

    n, boot = (200, 200) if quick else (908, 2_000)
    result = _component_result(n)
    wide = result.wide()[["GA", "D0", "D1"]]

    def full() -> None:
        group_intervals(wide, result.institutions, "state", n_resamples=boot, seed=1)
        rest_of_nation_gaps(wide, result.institutions, n_resamples=boot, permutations=9_999 if not quick else 999, seed=1)

    seconds = best_of(full, repeat=2)
    x = wide.to_numpy()
    states = result.institutions["state"].to_numpy()
    rng = np.random.default_rng(4)

    def floor() -> None:
        for code in sorted(set(states)):
            inside = states == code
            for values in (x[inside], x[~inside]):
                idx = rng.integers(0, len(values), (boot, len(values)))
                values[idx].mean(axis=1)

    baseline = best_of(floor, repeat=3)
    return Measurement(f"state vs nation table: 33 groups × 3 scores, {boot:,} bootstrap + permutation",
                       seconds, "numpy bootstrap of the same state and rest means", baseline, "≤ 5 s")


def run(quick: bool = False) -> list[Measurement]:
    """All scoring benchmarks."""
    return [bench_score(quick), bench_uncertainty(quick), bench_state_table(quick)]
