"""Scores imported at any level (e.g. the MGA's four sub-indices per institution) rolled
up through an index model; given higher levels are kept and disagreements reported."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import states as st
from .aggregate import Aggregation, aggregate, prune
from .groups import group_means
from .io import Repair
from .model import IndexModel, Node
from .pipeline import InputError, InputIssue, InputIssueCode, input_issue

ID_COLUMNS = ("institution", "so", "sujeto_obligado", "id", "institucion", "nombre", "name")
STATE_COLUMNS = ("state", "edo", "estado", "entidad", "cve_ent", "entidad_federativa")
TYPE_COLUMNS = ("type", "ts", "tipo", "tipo_sujeto")
ORDER_COLUMNS = ("order", "niv", "nivel", "orden", "orden_gobierno")
TOLERANCE = 0.005
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


@dataclass(slots=True)
class RollupResult:
    """Institutions, their scores at every node, given-vs-computed disagreements and issues."""

    model: IndexModel
    institutions: pd.DataFrame
    aggregation: Aggregation
    given: pd.DataFrame
    disagreements: pd.DataFrame
    issues: list[InputIssue] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    tree: Node | None = None

    def wide(self, level: str | None = None, *, coverage: bool = False) -> pd.DataFrame:
        """Institutions × node codes (one level or all), computed through the model."""
        agg = self.aggregation
        cols = [i for i, lvl in enumerate(agg.levels) if level is None or lvl == level]
        data = (agg.coverage if coverage else agg.scores)[:, cols]
        return pd.DataFrame(data, index=self.institutions.index.copy(), columns=[agg.codes[i] for i in cols])

    def by(self, grouping: str = "state", codes: Sequence[str] | None = None) -> pd.DataFrame:
        """Table by `institution | state | type | order | state_type | nation`."""
        scores = self.wide()
        if codes:
            scores = scores[list(codes)]
        return group_means(scores, self.institutions, grouping)


def _find(frame: pd.DataFrame, explicit: str | None, candidates: Sequence[str]) -> str | None:
    if explicit:
        return explicit if explicit in frame.columns else None
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    for cand in candidates:
        if cand in lowered:
            return lowered[cand]
    return None


def parse_score(text: object) -> tuple[float | None, str | None]:
    """(value, problem) for one cell: empty → (None, None); `0,45` is accepted as 0.45."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None, None
    if isinstance(text, int | float | np.number):
        value = float(text)
    else:
        raw = str(text).strip()
        if raw == "" or raw.upper() in ("NA", "N/A", "NAN", "ND", "-"):
            return None, None
        if not _NUMBER.match(raw):
            return None, "non-numeric"
        value = float(raw.replace(",", "."))
    if not np.isfinite(value):
        return None, "non-numeric"
    if not 0.0 <= value <= 1.0:
        return value, "out-of-range"
    return value, None


def _decimals(values: Sequence[object]) -> int:
    best = 0
    for v in values:
        text = str(v).strip()
        if "." in text or "," in text:
            best = max(best, len(re.split(r"[.,]", text, maxsplit=1)[1]))
    return min(best, 8)


@dataclass(frozen=True, slots=True)
class _Columns:
    """The file's id, state, type and order columns, and score column → model code."""

    ident: str
    state: str | None
    type: str | None
    order: str | None
    mapping: dict[str, str]


def _resolve_columns(frame: pd.DataFrame, model: IndexModel, id_column: str | None, state_column: str | None,
                     type_column: str | None, order_column: str | None,
                     column_map: Mapping[str, str] | None) -> _Columns:
    """Find the id, state, type, order and score columns; raise `InputError` naming what is missing."""
    ident = _find(frame, id_column, ID_COLUMNS)
    state_col = _find(frame, state_column, STATE_COLUMNS)
    type_col = _find(frame, type_column, TYPE_COLUMNS)
    order_col = _find(frame, order_column, ORDER_COLUMNS)
    codes = {n.code for n in model.tree.walk()}
    mapping: dict[str, str] = {}
    reserved = {ident, state_col, type_col, order_col}
    for column in frame.columns:
        if column in reserved:
            continue
        match = next((c for c in codes if c.lower() == str(column).strip().lower()), None)
        if match:
            mapping[column] = match
    bad_targets = []
    for src, code in (column_map or {}).items():
        if code not in codes:
            bad_targets.append(code)
        mapping[src] = code
    missing = []
    for label, explicit, found in (("id", id_column, ident), ("state", state_column, state_col),
                                   ("type", type_column, type_col), ("order", order_column, order_col)):
        if explicit and found is None:
            missing.append(explicit)
        elif label == "id" and found is None:
            missing.append("institution|SO")
    missing += [src for src in mapping if src not in frame.columns]
    if missing or bad_targets or not mapping:
        problems = []
        if missing:
            names = ", ".join(missing)
            problems.append(input_issue(InputIssueCode.MISSING_FILE_COLUMNS, row=1, column=names, names=names,
                                        columns=", ".join(map(str, frame.columns))))
        if bad_targets:
            names = ", ".join(bad_targets)
            problems.append(input_issue(InputIssueCode.UNKNOWN_CODE, column=names, model=model.id, names=names))
        if not mapping and not missing:
            problems.append(input_issue(InputIssueCode.NO_SCORES, row=1, model=model.id,
                                        codes=", ".join(sorted(codes))))
        raise InputError(problems)
    return _Columns(ident, state_col, type_col, order_col, mapping)


def _parse_institutions(frame: pd.DataFrame, columns: _Columns, line_of: Sequence[int],
                        issues: list[InputIssue]) -> tuple[pd.DataFrame, list[int]]:
    """Institutions of the usable rows (id, name, state, type, order, line) and those rows' positions."""
    ident, state_col = columns.ident, columns.state
    keep: list[int] = []
    seen: dict[str, int] = {}
    records = []
    for i in range(len(frame)):
        line = line_of[i]
        raw_id = str(frame.at[i, ident]).strip()
        if not raw_id or raw_id.lower() == "nan":
            issues.append(input_issue(InputIssueCode.MISSING_ID, row=line, column=ident))
            continue
        raw_state = frame.at[i, state_col] if state_col else None
        if state_col:
            state = st.resolve(raw_state)
            _, name = st.split_prefixed_name(raw_id, state) if state else (None, raw_id)
        else:
            state, name = st.split_prefixed_name(raw_id)
        if state is None:
            shown = raw_state if state_col else raw_id
            issues.append(input_issue(InputIssueCode.UNKNOWN_STATE_ROW, row=line, column=state_col or ident,
                                      value=shown))
            continue
        if raw_id in seen:
            issues.append(input_issue(InputIssueCode.DUPLICATE_ROW, row=line, column=ident, value=raw_id,
                                      first_line=seen[raw_id]))
            continue
        seen[raw_id] = line
        keep.append(i)
        records.append({"institution": raw_id, "name": name, "state": state,
                        "type": frame.at[i, columns.type] if columns.type else None,
                        "order": frame.at[i, columns.order] if columns.order else None, "line": line})
    institutions = pd.DataFrame(records, columns=["institution", "name", "state", "type", "order", "line"])
    institutions.index = pd.Index(institutions["institution"].astype("object"))
    institutions.index.name = None
    return institutions, keep


def _parse_scores(frame: pd.DataFrame, columns: _Columns, keep: list[int], index: pd.Index,
                  line_of: Sequence[int], issues: list[InputIssue]) -> tuple[pd.DataFrame, dict[str, int]]:
    """The given scores (institutions × codes, unusable cells missing) and each code's decimals."""
    given = pd.DataFrame(index=index)
    decimals: dict[str, int] = {}
    for src, code in columns.mapping.items():
        values = np.full(len(keep), np.nan)
        cells = frame.loc[keep, src].tolist()
        decimals[code] = _decimals(cells)
        for k, cell in enumerate(cells):
            value, problem = parse_score(cell)
            if problem == "non-numeric":
                issues.append(input_issue(InputIssueCode.NON_NUMERIC, row=line_of[keep[k]], column=src, value=cell))
            elif problem == "out-of-range":
                issues.append(input_issue(InputIssueCode.OUT_OF_RANGE, row=line_of[keep[k]], column=src, value=cell))
            elif value is not None:
                values[k] = value
        given[code] = values
    return given, decimals


def _aggregate_given(model: IndexModel, given: pd.DataFrame,
                     institutions: pd.DataFrame) -> tuple[Node, list[Node], Aggregation]:
    """Aggregate the lowest given scores through the model pruned to what the file has."""
    tree = prune(model.tree, set(given.columns))
    leaves = [n for n in tree.walk() if n.is_leaf]
    leaf_scores = np.column_stack([given[n.code].to_numpy() if n.code in given else np.full(len(given), np.nan)
                                   for n in leaves]) if leaves else np.empty((len(given), 0))
    groups = pd.factorize(institutions["type"].astype("object").fillna(""))[0] if len(institutions) else None
    agg = aggregate(model, leaf_scores, np.zeros(leaf_scores.shape, dtype=bool), groups, tree=tree)
    return tree, leaves, agg


def _check_given(given: pd.DataFrame, agg: Aggregation, leaves: list[Node], institutions: pd.DataFrame,
                 decimals: Mapping[str, int], issues: list[InputIssue]) -> pd.DataFrame:
    """Given higher-level scores that disagree with the computed ones beyond rounding (both kept)."""
    rows = []
    leaf_codes = {n.code for n in leaves}
    for code in given.columns:
        if code in leaf_codes:
            continue
        computed = agg.scores[:, agg.codes.index(code)]
        g = given[code].to_numpy()
        tolerance = TOLERANCE + 0.5 * 10.0 ** -decimals.get(code, 8) + 1e-12
        off = ~np.isnan(g) & ~np.isnan(computed) & (np.abs(g - computed) > tolerance)
        for k in np.flatnonzero(off):
            rows.append({"line": int(institutions["line"].iloc[k]), "institution": institutions.index[k],
                         "code": code, "given": g[k], "computed": computed[k],
                         "difference": computed[k] - g[k]})
    for row in rows:
        issues.append(input_issue(InputIssueCode.DISAGREEMENT, row=row["line"], column=row["code"],
                                  value=row["given"], computed=row["computed"]))
    return pd.DataFrame(rows, columns=["line", "institution", "code", "given", "computed", "difference"])


def rollup(frame: pd.DataFrame, model: IndexModel | str, *, id_column: str | None = None,
           state_column: str | None = None, type_column: str | None = None,
           order_column: str | None = None, column_map: Mapping[str, str] | None = None,
           lines: Sequence[int] | None = None, repairs: Sequence[Repair] = ()) -> RollupResult:
    """Roll per-institution scores at any level up through `model`; row problems are reported
    in `.issues` (with file line numbers when `lines` is given), never turned into numbers."""
    if not isinstance(model, IndexModel):
        model = IndexModel.load(model)
    frame = frame.reset_index(drop=True)
    line_of = list(lines) if lines is not None else [i + 2 for i in range(len(frame))]
    columns = _resolve_columns(frame, model, id_column, state_column, type_column, order_column, column_map)
    issues: list[InputIssue] = []
    institutions, keep = _parse_institutions(frame, columns, line_of, issues)
    given, decimals = _parse_scores(frame, columns, keep, institutions.index, line_of, issues)
    tree, leaves, agg = _aggregate_given(model, given, institutions)
    disagreements = _check_given(given, agg, leaves, institutions, decimals, issues)
    issues.sort(key=lambda i: (i.row or 0))
    return RollupResult(model, institutions, agg, given, disagreements, issues, list(repairs), tree)
