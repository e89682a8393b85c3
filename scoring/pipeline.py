"""`score()`: long-form answers → item scores → every level of the index, with coverage,
the parameters used and every intermediate dataset (COINr's named datasets)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import unique
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .aggregate import Aggregation, aggregate
from .messages import ERROR, WARNING, MessageCode
from .model import IndexModel
from .rules import CodedFrame, apply_rule, apply_rule_coded, reduce_repeat

INSTITUTION_COLUMNS = ("institution", "name", "state", "order", "type")
OVERRIDES = ("weights", "aggregation", "missing", "min_coverage", "group")


@unique
class InputIssueCode(MessageCode):
    """Every message about input data (answers, institutions, imported score files)."""

    MISSING_COLUMNS = (ERROR, "Faltan columnas en {what}: {names}", "Missing columns in {what_en}: {names}")
    UNKNOWN_INSTITUTION = (WARNING, "Respuestas de instituciones no registradas (ignoradas): {names}",
                           "Answers from unregistered institutions (ignored): {names}")
    DUPLICATE_ANSWER = (WARNING, "{count} respuestas repetidas (se usa la última)",
                        "{count} repeated answers (the last one is used)")
    DUPLICATE_INSTITUTIONS = (ERROR, "Instituciones repetidas: {names}", "Duplicate institutions: {names}")
    UNKNOWN_STATE = (ERROR, "Estado desconocido: {value!r}", "Unknown state: {value!r}")
    MISSING_FILE_COLUMNS = (ERROR, "Faltan columnas: {names} (columnas del archivo: {columns})",
                            "Missing columns: {names} (file columns: {columns})")
    UNKNOWN_CODE = (ERROR, "Códigos que no están en el modelo {model}: {names}", "Codes not in model {model}: {names}")
    NO_SCORES = (ERROR, "Ninguna columna coincide con un nodo del modelo {model} ({codes}); use --map",
                 "No column matches a node of model {model} ({codes}); use --map")
    MISSING_ID = (ERROR, "Fila sin institución (omitida)", "Row without an institution (skipped)")
    UNKNOWN_STATE_ROW = (ERROR, "Estado desconocido {value!r} (fila omitida)", "Unknown state {value!r} (row skipped)")
    DUPLICATE_ROW = (ERROR, "Institución repetida {value!r} (ya en la línea {first_line}; fila omitida)",
                     "Duplicate institution {value!r} (already at line {first_line}; row skipped)")
    NON_NUMERIC = (ERROR, "{column}: valor no numérico {value!r} (se trata como faltante)",
                   "{column}: non-numeric value {value!r} (treated as missing)")
    OUT_OF_RANGE = (ERROR, "{column}: {value!r} fuera de [0, 1] (se trata como faltante)",
                    "{column}: {value!r} outside [0, 1] (treated as missing)")
    DISAGREEMENT = (WARNING, "{column}: dato {value:.4f} ≠ calculado {computed:.4f} (se conservan ambos)",
                    "{column}: given {value:.4f} ≠ computed {computed:.4f} (both kept)")


@dataclass(frozen=True, slots=True)
class InputIssue:
    """A problem in the input data (row-level where possible), in Spanish and English."""

    code: InputIssueCode
    row: int | None
    column: str | None
    value: Any
    message_es: str
    message_en: str
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row is not None else ""
        return f"{where}{self.message_en} / {self.message_es}"


def input_issue(code: InputIssueCode, /, *, row: int | None = None, column: str | None = None,
                value: Any = None, **params: object) -> InputIssue:
    """Build an `InputIssue` from its code, location and template parameters (`column` and
    `value` are template parameters too)."""
    es, en = code.messages(column=column, value=value, **params)
    return InputIssue(code, row, column, value, es, en, code.severity)


class InputError(ValueError):
    """Input that cannot be scored at all; `.issues` names what is wrong."""

    def __init__(self, issues: list[InputIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what_es: str, what_en: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        names = ", ".join(missing)
        raise InputError([input_issue(InputIssueCode.MISSING_COLUMNS, column=names,
                                      what=what_es, what_en=what_en, names=names)])


@dataclass(slots=True)
class LeafData:
    """Leaf scores as scored from answers (rows = institutions, columns = model leaves)."""

    scores: np.ndarray
    removed: np.ndarray
    coded: CodedFrame
    raw_repeat: pd.DataFrame
    codes: list[str]
    responded: np.ndarray
    issues: list[InputIssue]

    @property
    def datasets(self) -> dict[str, pd.DataFrame]:
        """Raw answers (top level and repeats) and item scores with their *no aplica* flags."""
        index = self.coded.index
        return {"raw": self.coded.to_frame(), "raw_repeat": self.raw_repeat,
                "items": pd.DataFrame(self.scores, index=index, columns=self.codes),
                "items_removed": pd.DataFrame(self.removed, index=index, columns=self.codes)}


def _bare(name: object) -> str:
    return str(name).split(".")[-1]


def score_leaves(answers: pd.DataFrame, index: pd.Index, model: IndexModel) -> LeafData:
    """Pivot the answers once and apply each leaf's rule, vectorised per item."""
    _require(answers, ("institution", "field", "value"), "las respuestas", "the answers")
    issues: list[InputIssue] = []
    leaves = model.leaves()
    needed: set[str] = set()
    repeat_fields: set[str] = set()
    for leaf in leaves:
        names = {leaf.source_field} | set(leaf.rule.fields if leaf.rule else ())
        bare = {_bare(n) for n in names}
        (repeat_fields if leaf.repeat else needed).update(bare)
        if leaf.repeat and leaf.rule is not None and leaf.rule.family == "expression":
            needed.update(bare)  # a repeat expression may read top-level fields too
    inst_codes, inst_uniques = pd.factorize(answers["institution"].astype("object"), sort=False)
    inst_pos = index.get_indexer(pd.Index(inst_uniques).astype("object"))
    rows_inst = np.where(inst_codes >= 0, inst_pos[inst_codes], -1)
    unknown = inst_pos < 0
    if unknown.any():
        names = ", ".join(map(str, pd.Index(inst_uniques)[unknown][:10]))
        issues.append(input_issue(InputIssueCode.UNKNOWN_INSTITUTION, column="institution", value=names,
                                  names=names))
    field_codes, field_uniques = pd.factorize(answers["field"].astype("object"), sort=False)
    bare_uniques = [_bare(f) for f in field_uniques]
    if "repeat_index" in answers:
        rep = pd.to_numeric(answers["repeat_index"], errors="coerce").to_numpy(dtype=float)
    else:
        rep = np.full(len(answers), np.nan)
    values = answers["value"].to_numpy(dtype=object)
    responded = np.zeros(len(index), dtype=bool)
    responded[:] = np.bincount(rows_inst[rows_inst >= 0], minlength=len(index)) > 0
    def pivot(names: list[str], top: bool) -> tuple[np.ndarray, np.ndarray]:
        lookup = {n: i for i, n in enumerate(names)}
        fmap = np.array([lookup.get(b, -1) for b in bare_uniques] or [-1], dtype=np.int64)
        cols = np.where(field_codes >= 0, fmap[np.maximum(field_codes, 0)], -1)
        keep = (rows_inst >= 0) & (cols >= 0) & (np.isnan(rep) if top else ~np.isnan(rep))
        return np.flatnonzero(keep), cols

    top_names = sorted(needed)
    if top_names:
        rows, cols = pivot(top_names, True)
        flat = rows_inst[rows] * len(top_names) + cols[rows]
        repeated = len(flat) - int(np.count_nonzero(np.bincount(flat, minlength=len(index) * len(top_names))))
        if repeated:
            issues.append(input_issue(InputIssueCode.DUPLICATE_ANSWER, column="field", count=repeated))
        value_codes, uniques = pd.factorize(values[rows], use_na_sentinel=True)
        matrix = np.full((len(index), len(top_names)), -1, dtype=np.int64)
        matrix.reshape(-1)[flat] = value_codes
        coded = CodedFrame(matrix, np.asarray(uniques, dtype=object), top_names, index)
    else:
        coded = CodedFrame(np.full((len(index), 0), -1, dtype=np.int64), np.array([], dtype=object), [], index)
    raw_repeat = pd.DataFrame()
    if repeat_fields:
        names = sorted(repeat_fields)
        rows, cols = pivot(names, False)
        long = pd.DataFrame({"institution": index.to_numpy(dtype=object)[rows_inst[rows]],
                             "repeat_index": rep[rows].astype(np.int64),
                             "field": np.asarray(names, dtype=object)[cols[rows]],
                             "value": values[rows]})
        raw_repeat = long.pivot_table(index=["institution", "repeat_index"], columns="field",
                                      values="value", aggfunc="last")
        raw_repeat = raw_repeat.reindex(columns=names)
    # Every repeat instance that exists (any answer in it), so that an instance lacking an
    # item still counts under the parent's missing policy instead of vanishing.
    rep_rows = np.flatnonzero((rows_inst >= 0) & ~np.isnan(rep) & (field_codes >= 0))
    prefixes = np.array([f.split(".", 1)[0] if "." in str(f) else "" for f in field_uniques] or [""], dtype=object)
    instances = pd.DataFrame({
        "institution": index.to_numpy(dtype=object)[rows_inst[rep_rows]],
        "repeat_index": rep[rep_rows].astype(np.int64),
        "prefix": prefixes[field_codes[rep_rows]] if len(rep_rows) else np.array([], dtype=object),
    }).drop_duplicates()
    scores = np.full((len(index), len(leaves)), np.nan)
    removed = np.zeros((len(index), len(leaves)), dtype=bool)
    parents = model.parents()
    for j, leaf in enumerate(leaves):
        if leaf.rule is None:
            lookup = np.append(coded.uniques, np.nan)
            s = pd.to_numeric(pd.Series(lookup[coded.column_codes(leaf.source_field)], dtype="object"),
                              errors="coerce").astype(float)
            scores[:, j] = s.clip(0.0, 1.0).to_numpy()
            continue
        if leaf.repeat:
            prefix = leaf.source_field.split(".", 1)[0] if "." in leaf.source_field else None
            own = instances[instances["prefix"] == prefix] if prefix and (instances["prefix"] == prefix).any() else instances
            if own.empty:
                continue
            existing = pd.MultiIndex.from_frame(own[["institution", "repeat_index"]].drop_duplicates())
            frame = raw_repeat.reindex(existing.union(raw_repeat.index) if not raw_repeat.empty else existing)
            if leaf.rule.family == "expression":
                extra = [_bare(f) for f in leaf.rule.fields if _bare(f) not in raw_repeat.columns and _bare(f) in coded]
                if extra:
                    top = coded.to_frame()[extra].reindex(raw_repeat.index.get_level_values(0))
                    frame = raw_repeat.assign(**{c: top[c].to_numpy() for c in extra})
            s, na = apply_rule(leaf.rule, frame, leaf.source_field)
            policy = model.setting(model.node(parents[leaf.code]), "missing") if parents[leaf.code] else None
            s, na = reduce_repeat(s, na, leaf.repeat, 0.0 if policy == "zero" else None)
            scores[:, j] = s.reindex(index).to_numpy(dtype=float)
            removed[:, j] = na.reindex(index, fill_value=False).to_numpy(dtype=bool)
        else:
            scores[:, j], removed[:, j] = apply_rule_coded(leaf.rule, coded, leaf.source_field)
    codes = [leaf.code for leaf in leaves]
    return LeafData(scores, removed, coded, raw_repeat, codes, responded, issues)


def prepare_institutions(institutions: pd.DataFrame) -> pd.DataFrame:
    """Institutions indexed by id, with a resolved 2-digit `state` and text columns."""
    from .states import resolve

    _require(institutions, ("institution",), "las instituciones", "the institutions")
    frame = institutions.copy()
    for column in INSTITUTION_COLUMNS[1:]:
        if column not in frame:
            frame[column] = np.nan
    frame["institution"] = frame["institution"].astype("object")
    if frame["institution"].duplicated().any():
        dupes = ", ".join(map(str, frame.loc[frame["institution"].duplicated(), "institution"].unique()[:10]))
        raise InputError([input_issue(InputIssueCode.DUPLICATE_INSTITUTIONS, column="institution", value=dupes,
                                      names=dupes)])
    distinct = pd.unique(frame["state"].dropna())
    table = {v: resolve(v) for v in distinct}
    resolved = frame["state"].map(lambda v: table.get(v) if pd.notna(v) else None)
    bad = frame["state"].notna() & resolved.isna()
    if bad.any():
        issues = [input_issue(InputIssueCode.UNKNOWN_STATE, row=int(i) + 2, column="state", value=v)
                  for i, v in zip(np.flatnonzero(bad), frame.loc[bad, "state"], strict=True)]
        raise InputError(issues)
    frame["state"] = resolved.astype("object")
    return frame.set_index("institution", drop=False).rename_axis(None)


def _groups(frame: pd.DataFrame, column: str | None) -> np.ndarray | None:
    if not column or column not in frame:
        return None
    codes, _ = pd.factorize(frame[column].astype("object").fillna("<sin grupo>"))
    return codes.astype(np.int64)


@dataclass
class ScoreResult:
    """Scores of every node for every institution, with coverage, parameters and datasets."""

    model: IndexModel
    institutions: pd.DataFrame
    aggregation: Aggregation
    leaf: LeafData
    params: dict[str, Any]
    base_model: IndexModel
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def issues(self) -> list[InputIssue]:
        """Problems found in the input (warnings; fatal ones raise `InputError`)."""
        return self.leaf.issues

    @cached_property
    def tidy(self) -> pd.DataFrame:
        """Every level: `institution, code, level, score, coverage, responded`."""
        agg = self.aggregation
        n, k = agg.scores.shape
        ids = self.institutions.index.to_numpy(dtype=object)
        frame = pd.DataFrame({
            "institution": np.repeat(ids, k),
            "code": np.tile(np.asarray(agg.codes, dtype=object), n),
            "level": np.tile(np.asarray(agg.levels, dtype=object), n),
            "score": agg.scores.reshape(-1),
            "coverage": agg.coverage.reshape(-1),
            "removed": agg.removed.reshape(-1),
            "responded": np.repeat(self.leaf.responded, k),
        })
        return frame

    def table(self, level: str) -> pd.DataFrame:
        """The tidy table of one level."""
        tidy = self.tidy
        return tidy[tidy["level"] == level].reset_index(drop=True)

    def wide(self, level: str | None = None, *, coverage: bool = False) -> pd.DataFrame:
        """Institutions × node codes (one level, or all) of scores (or coverage)."""
        agg = self.aggregation
        cols = [i for i, lvl in enumerate(agg.levels) if level is None or lvl == level]
        if not cols:
            raise KeyError(f"level {level!r} not in the model (levels: {self.model.levels()})")
        data = (agg.coverage if coverage else agg.scores)[:, cols]
        return pd.DataFrame(data, index=self.institutions.index.copy(),
                            columns=[agg.codes[i] for i in cols])

    @property
    def datasets(self) -> dict[str, pd.DataFrame]:
        """Every intermediate: raw answers, item scores, and one wide table per level."""
        out = dict(self.leaf.datasets)
        for level in self.model.levels():
            out[level] = self.wide(level)
            out[f"{level}_coverage"] = self.wide(level, coverage=True)
        return out

    def rerun(self, **overrides: Any) -> ScoreResult:
        """Re-do the aggregation with settings changed (`missing=`, `weights=`, `aggregation=`…)."""
        merged = {**self.overrides, **overrides}
        if "weights" in self.overrides and "weights" in overrides:
            merged["weights"] = {**self.overrides["weights"], **overrides["weights"]}
        return _finish(self.base_model, self.institutions, self.leaf, merged)


def _finish(base: IndexModel, institutions: pd.DataFrame, leaf: LeafData, overrides: dict[str, Any]) -> ScoreResult:
    unknown = set(overrides) - set(OVERRIDES)
    if unknown:
        raise TypeError(f"unknown overrides: {', '.join(sorted(unknown))} (use {', '.join(OVERRIDES)})")
    model = base.with_overrides(**{k: v for k, v in overrides.items() if k != "group"})
    group = overrides.get("group", "type")
    agg = aggregate(model, leaf.scores, leaf.removed, _groups(institutions, group))
    params = {
        "model": model.id,
        "version": model.version,
        "defaults": dict(model.defaults),
        "group": group,
        "overrides": dict(overrides),
        "nodes": {
            n.code: {"level": n.level,
                     "weight": w,
                     "aggregation": model.setting(n, "aggregation"),
                     "missing": model.setting(n, "missing"),
                     "min_coverage": model.setting(n, "min_coverage")}
            for n, w in _weights(model)
        },
        "institutions": len(institutions),
        "responded": int(leaf.responded.sum()),
    }
    return ScoreResult(model, institutions, agg, leaf, params, base, dict(overrides))


def _weights(model: IndexModel):
    yield model.tree, 1.0
    for node in model.tree.walk():
        yield from zip(node.children, model.normalised_weights(node), strict=True)


def score(answers: pd.DataFrame, institutions: pd.DataFrame, model: IndexModel | str,
          **overrides: Any) -> ScoreResult:
    """Score long-form answers (`institution, field, repeat_index, value`) for the listed
    institutions through an index model; overrides: weights, aggregation, missing, min_coverage, group."""
    if not isinstance(model, IndexModel):
        model = IndexModel.load(model)
    frame = prepare_institutions(institutions)
    leaf = score_leaves(answers, frame.index, model)
    return _finish(model, frame, leaf, overrides)


def compare(a: ScoreResult, b: ScoreResult, level: str = "index", code: str | None = None) -> pd.DataFrame:
    """Side-by-side scores of two runs with ranks (1 = best) and rank changes."""
    code = code or (a.model.codes(level)[0])
    sa = a.wide(level)[code]
    sb = b.wide(level)[code].reindex(sa.index)
    out = pd.DataFrame({"institution": sa.index, "score_a": sa.to_numpy(), "score_b": sb.to_numpy()})
    out["difference"] = out["score_b"] - out["score_a"]
    out["rank_a"] = out["score_a"].rank(ascending=False, method="min")
    out["rank_b"] = out["score_b"].rank(ascending=False, method="min")
    out["rank_change"] = out["rank_a"] - out["rank_b"]
    return out.sort_values("rank_a", kind="stable").reset_index(drop=True)


