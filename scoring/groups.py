"""Group aggregates of institution scores (methodology §7): by state, type, order,
state × type, the nation and the rest of the nation per state, and the type-adjusted
state score. State score = mean of its institutions' scores; `00` (federal) is a group."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import states as st

GROUPINGS = ("institution", "state", "type", "order", "state_type", "nation")


def _frame(scores: pd.DataFrame, institutions: pd.DataFrame) -> pd.DataFrame:
    meta = institutions.reindex(scores.index)[["state", "type", "order"]]
    return pd.concat([meta, scores], axis=1)


def _state_labels(frame: pd.DataFrame) -> pd.DataFrame:
    codes = frame["state"].astype("object")
    frame.insert(1, "abbr", codes.map(lambda c: st.by_code(c).abbr if isinstance(c, str) else None))
    frame.insert(2, "entidad", codes.map(lambda c: st.by_code(c).name if isinstance(c, str) else None))
    return frame


def group_means(scores: pd.DataFrame, institutions: pd.DataFrame, by: str) -> pd.DataFrame:
    """Mean score per group (`state`, `type`, `order`, `state_type`, `nation`) with `n`."""
    codes = list(scores.columns)
    data = _frame(scores, institutions)
    if by == "institution":
        out = institutions.reindex(scores.index)[["institution", "name", "state", "type", "order"]]
        return pd.concat([out, scores], axis=1).reset_index(drop=True)
    if by == "nation":
        row = {"group": "nacional", "n": len(data)}
        row.update({c: data[c].mean() for c in codes})
        return pd.DataFrame([row])
    keys = {"state": ["state"], "type": ["type"], "order": ["order"], "state_type": ["state", "type"]}[by]
    grouped = data.groupby(keys, dropna=False, sort=True)
    out = grouped[codes].mean()
    out.insert(0, "n", grouped.size())
    out = out.reset_index()
    if "state" in keys:
        out = _state_labels(out)
    return out


def rest_of_nation(scores: pd.DataFrame, institutions: pd.DataFrame) -> pd.DataFrame:
    """Per state, the mean of every institution outside it (never a mean that contains it)."""
    data = _frame(scores, institutions)
    codes = list(scores.columns)
    values = data[codes].to_numpy(dtype=float)
    present = ~np.isnan(values)
    total = np.where(present, values, 0.0).sum(axis=0)
    count = present.sum(axis=0)
    rows = []
    for state, idx in data.groupby("state", sort=True).indices.items():
        s_total = np.where(present[idx], values[idx], 0.0).sum(axis=0)
        s_count = present[idx].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rest = (total - s_total) / (count - s_count)
        rows.append({"state": state, "n_rest": int(len(data) - len(idx)), **dict(zip(codes, rest, strict=True))})
    return _state_labels(pd.DataFrame(rows))


def type_adjusted(scores: pd.DataFrame, institutions: pd.DataFrame) -> pd.DataFrame:
    """Type-adjusted state score: national mean + Σ_type share_in_state × (state-type mean −
    national type mean), per score column (methodology §7). The shares are the state's
    institutions with a value, so the sum is the state's mean of (score − national mean of
    the institution's type), which is how it is computed here, for every column at once."""
    data = _frame(scores, institutions)
    codes = list(scores.columns)
    values = data[codes].to_numpy(dtype=float)
    present = ~np.isnan(values)
    kinds, _ = pd.factorize(data["type"].astype("object"), use_na_sentinel=False)  # a missing type is a type
    sums = np.zeros((kinds.max() + 1 if len(kinds) else 0, len(codes)))
    counts = np.zeros(sums.shape)
    np.add.at(sums, kinds, np.where(present, values, 0.0))
    np.add.at(counts, kinds, present)
    with np.errstate(invalid="ignore", divide="ignore"):
        type_means = sums / counts
    centred = pd.DataFrame(values - type_means[kinds], index=data.index, columns=codes)
    national = data[codes].mean()
    out = centred.groupby(data["state"], sort=True).mean() + national
    out.index.name = "state"
    return _state_labels(out.reset_index())


def state_table(scores: pd.DataFrame, institutions: pd.DataFrame, codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Per state: n, raw mean, type-adjusted mean, rest-of-nation mean and national mean per code."""
    codes = list(codes or scores.columns)
    scores = scores[codes]
    means = group_means(scores, institutions, "state").set_index("state")
    adjusted = type_adjusted(scores, institutions).set_index("state")
    rest = rest_of_nation(scores, institutions).set_index("state")
    national = scores.mean()
    columns = {}
    for code in codes:
        columns[code] = means[code]
        columns[f"{code}_adjusted"] = adjusted[code].reindex(means.index)
        columns[f"{code}_rest"] = rest[code].reindex(means.index)
        columns[f"{code}_national"] = pd.Series(national[code], index=means.index)
    out = pd.concat([means[["abbr", "entidad", "n"]], pd.DataFrame(columns, index=means.index)], axis=1)
    return out.reset_index()
