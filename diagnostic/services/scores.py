"""Campaign scores: the campaign's answers scored by `scoring/` through its index model.

One entry point, `compute(campaign)`, serves the score tables, the exports, the API and
`apertura score`, so every surface shows the same numbers. Answers are the submitted and
verified responses of the institution and evaluator instruments, with an analyst's
corrected value in place of the original (`responses.long_form`). Institutions are the
campaign's sample (participations); one that never responded follows the model's
missing-data policy (the MGA rule: zero). Group tables (state, type, order, nation) are
means of institution scores (methodology §7); a state is compared with the rest of the
nation, never with a national mean that contains it.

Statistics come from `scoring.stats` and `scoring.uncertainty`, all seeded by `seed`: a
cluster-bootstrap interval for every group mean (`X_low`, `X_high`); per state and node the
gap to the rest of the nation with its bootstrap interval, Welch and permutation p-values,
Hedges' g and the Benjamini–Hochberg q-value across states × nodes; and the rank of the
index with its Monte-Carlo interval (`rank`, `rank_low`, `rank_high`) for institutions and
states.

Results are cached per campaign data fingerprint (answers, sample, model and seed), so a
verification or a new submission recomputes and nothing else does.
"""
from __future__ import annotations

import hashlib
import json
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import (
    Answer,
    AuditEvent,
    Campaign,
    InstrumentPurpose,
    Participation,
    Response,
)
from diagnostic.services import Refusal, ServiceError, institutions, responses
from diagnostic.services.refusals import Both
from scoring import IndexModel, ModelError, ScoreResult, groups, score, stats
from scoring.pipeline import InputError
from scoring.uncertainty import UncertaintyResult, uncertainty

GROUPINGS = ("institution", "state", "type", "order", "nation")
SCOPED_GROUPINGS = ("institution", "state")  # tables whose rows a state-scoped account sees only for its states
HEADLINE = "headline"  # index, dimensions and sub-indices: what §8 asks a report to show
HEADLINE_LEVELS = ("index", "dimension", "subindex")
DEFAULT_SEED = 2017
SCORED_PURPOSES = (InstrumentPurpose.INSTITUTION, InstrumentPurpose.EVALUATOR)
TEXT_COLUMNS = {"institution", "name", "state", "abbr", "entidad", "type", "order", "group"}
CACHE_SIZE = 8
BOOTSTRAP_RESAMPLES = 2000  # cluster bootstrap of group means and gaps (institutions resampled)
PERMUTATIONS = 1999  # permutation test of each state against the rest of the nation (p ≥ 1/2000)
UNCERTAINTY_RUNS = 1000  # Monte-Carlo runs behind rank intervals (weights, aggregation, missing policy)

_cache: OrderedDict[tuple, CampaignScores] = OrderedDict()
_versions: OrderedDict[tuple, tuple] = OrderedDict()  # data_version → fingerprint key
_cache_lock = threading.Lock()
_models: dict[str, IndexModel] = {}


class ScoresUnavailable(ServiceError):
    """The campaign cannot be scored (no index model, or a model/input `scoring` refuses)."""

    status = 409


def _located(issues: list) -> list[Both]:
    """Scoring issues as detail lines in both languages, each with where it is (file:line, row, node)."""
    lines = []
    for issue in issues:
        file, line, row, node = (getattr(issue, k, None) for k in ("file", "line", "row", "node"))
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        node_part = f"{node}: " if node else ""
        es = en = where
        if row is not None:
            es, en = f"{where}fila {row}: ", f"{where}row {row}: "
        lines.append(Both(es + node_part + issue.message_es, en + node_part + issue.message_en))
    return lines


@dataclass(frozen=True)
class Column:
    """One column of a score table: key, Spanish/English label, and whether it is a number."""

    key: str
    label_es: str
    label_en: str
    numeric: bool = True
    code: str | None = None
    low: str | None = None
    high: str | None = None

    def label(self, lang: str = "es") -> str:
        """The label in a language (Spanish unless `en`)."""
        return self.label_en if lang == "en" else self.label_es


@dataclass
class CampaignScores:
    """Scores of one campaign at one data fingerprint: the `scoring` result and its tables."""

    campaign_id: int
    fingerprint: str
    seed: int
    model: IndexModel
    result: ScoreResult
    _tables: dict = field(default_factory=dict, repr=False)
    states: frozenset[str] | None = None  # a state-scoped view: institution and state rows of these only

    def for_scope(self, scope) -> CampaignScores:
        """The same scores seen by an account of `scope` (a `security.Scope`): the institution and
        state tables keep only its states' rows; aggregates over the nation (the national row, the
        type and order tables) stay as computed over every state and name no institution.
        Shares the computed tables (nothing is recomputed)."""
        if scope is None or scope.national:
            return self
        return replace(self, _tables=self._tables, states=frozenset(scope.states))

    def codes(self, level: str = HEADLINE) -> list[str]:
        """Node codes shown for a level (`headline` = index, dimensions, sub-indices), tree order."""
        wanted = HEADLINE_LEVELS if level == HEADLINE else (level,)
        if level != HEADLINE and level not in self.model.levels():
            raise ServiceError(Refusal.UNKNOWN_LEVEL, level=level)
        return [n.code for n in self.model.tree.walk() if n.level in wanted]

    def levels(self) -> list[str]:
        """Levels that can be tabulated: `headline` then the model's own levels."""
        return [HEADLINE, *self.model.levels()]

    def scores_wide(self, codes: list[str], *, coverage: bool = False) -> pd.DataFrame:
        """Institutions × codes of scores (or coverage)."""
        frame = self.result.wide(None, coverage=coverage)
        return frame[codes]

    def table(self, by: str = "state", level: str = HEADLINE) -> pd.DataFrame:
        """The score table by institution, state, type, order or nation (cached per fingerprint)."""
        if by not in GROUPINGS:
            raise ServiceError(Refusal.UNKNOWN_GROUPING, by=by, options=", ".join(GROUPINGS))
        key = (by, level)
        if key not in self._tables:
            stored = _stored_table(self, by, level)
            if stored is None:
                stored = self._build(by, self.codes(level))
                _store_table(self, by, level, stored)
            self._tables[key] = stored
        table = self._tables[key]
        if self.states is not None and by in SCOPED_GROUPINGS:
            return table[table["state"].astype(str).isin(self.states)].reset_index(drop=True)
        return table.copy()

    def _build(self, by: str, codes: list[str]) -> pd.DataFrame:
        wide = self.scores_wide(codes)
        insts = self.result.institutions
        if by == "institution":
            out = groups.group_means(wide, insts, "institution")
            coverage = self.scores_wide(codes, coverage=True).reset_index(drop=True)
            responded = pd.Series(self.result.leaf.responded, name="responded")
            out = pd.concat([out, responded, coverage.add_suffix("_coverage")], axis=1)
            ranks = self.ranks().institutions.set_index("institution")[list(RANK_COLUMNS)]
            return out.join(ranks, on="institution")
        if by == "state":
            with _nan_is_an_answer():
                table = groups.state_table(wide, insts, codes).set_index("state")
            table = table.join(self._intervals(wide, "state", codes))
            with _nan_is_an_answer():
                gaps = stats.rest_of_nation_gaps(wide, insts, codes, n_resamples=BOOTSTRAP_RESAMPLES,
                                                 permutations=PERMUTATIONS, seed=self.seed)
            tests = gaps.pivot(index="state", columns="code", values=list(GAP_TESTS))
            tests.columns = [f"{code}_{GAP_TESTS[name]}" for name, code in tests.columns]
            table = table.join(tests)
            table = table.join(self.ranks().states.set_index("state")[list(RANK_COLUMNS)])
            ordered = ["abbr", "entidad", "n"]
            for code in codes:
                ordered += [f"{code}{suffix}" for suffix in STATE_SUFFIXES]
            return table[ordered + list(RANK_COLUMNS)].copy().reset_index()  # copy() consolidates blocks
        means = groups.group_means(wide, insts, by)
        key = "group" if by == "nation" else by
        intervals = self._intervals(wide, by, codes)
        if by == "nation":
            intervals.index = ["nacional"]
        out = means.set_index(key).join(intervals)
        ordered = ["n"] + [f"{code}{suffix}" for code in codes for suffix in ("", "_low", "_high")]
        return out[ordered].reset_index().rename(columns={"index": key})

    def _intervals(self, wide: pd.DataFrame, by: str, codes: list[str]) -> pd.DataFrame:
        """Bootstrap interval of each group mean as columns `<code>_low`, `<code>_high`."""
        with _nan_is_an_answer():
            table = stats.group_intervals(wide, self.result.institutions, by, codes,
                                          n_resamples=BOOTSTRAP_RESAMPLES, seed=self.seed)
        wide_ci = table.pivot(index=by, columns="code", values=["low", "high"])
        wide_ci.columns = [f"{code}_{bound}" for bound, code in wide_ci.columns]
        return wide_ci

    def ranks(self) -> UncertaintyResult:
        """Rank intervals of the index from `scoring.uncertainty` (Monte-Carlo over the model's ranges)."""
        if "ranks" not in self._tables:
            with _nan_is_an_answer():
                self._tables["ranks"] = uncertainty(self.result, n=UNCERTAINTY_RUNS, seed=self.seed)
        return self._tables["ranks"]

    def columns(self, table: pd.DataFrame) -> list[Column]:
        """Labelled columns of a table built by `table` (node codes get the model's labels)."""
        out = []
        for key in table.columns:
            out.append(_column(self.model, str(key)))
        return out

    def item_scores(self, institution_key: str) -> dict[str, dict]:
        """Leaf code → {score, coverage, removed, fields} for one institution."""
        tidy = self.result.tidy
        rows = tidy[(tidy["institution"] == institution_key)]
        by_code = {r.code: r for r in rows.itertuples(index=False)}
        out = {}
        for leaf in self.model.leaves():
            row = by_code.get(leaf.code)
            fields = {leaf.source_field.split(".")[-1],
                      *(f.split(".")[-1] for f in (leaf.rule.fields if leaf.rule else ()))}
            out[leaf.code] = {
                "code": leaf.code,
                "label_es": leaf.label.get("es", leaf.code), "label_en": leaf.label.get("en", leaf.code),
                "score": _num(row.score) if row is not None else None,
                "coverage": _num(row.coverage) if row is not None else None,
                "removed": bool(row.removed) if row is not None else False,
                "fields": sorted(fields),
            }
        return out

    def items_by_field(self, institution_key: str) -> dict[str, list[dict]]:
        """Answer field → the item scores that read it (for the review page)."""
        out: dict[str, list[dict]] = {}
        for item in self.item_scores(institution_key).values():
            for name in item["fields"]:
                out.setdefault(name, []).append(item)
        return out

    def records(self, by: str = "state", level: str = HEADLINE, decimals: int | None = None) -> list[dict]:
        """A table as JSON-ready records (NaN → None, numpy → Python, optionally rounded)."""
        return to_records(self.table(by, level), decimals)


def _table_path(scores: CampaignScores, by: str, level: str):
    """Where a built score table is kept for every worker of the host (beside the built reports),
    named by the data fingerprint and seed: a new answer or verification gives a new file."""
    from pathlib import Path

    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    base = current_app.config.get("REPORT_CACHE_DIR") or str(Path(current_app.instance_path) / "report-cache")
    digest = scores.fingerprint.removeprefix("sha256:")[:32]
    safe_level = "".join(ch for ch in level if ch.isalnum() or ch in "-_")[:40]
    return Path(base) / "scores" / f"{scores.campaign_id}-{digest}-{scores.seed}-{by}-{safe_level}.pkl"


def _stored_table(scores: CampaignScores, by: str, level: str) -> pd.DataFrame | None:
    path = _table_path(scores, by, level)
    if path is None or not path.exists():
        return None
    try:
        return pd.read_pickle(path)  # our own file in the instance folder, written by `_store_table`
    except Exception:  # noqa: BLE001 - a torn or stale file is rebuilt, never served
        return None


def _store_table(scores: CampaignScores, by: str, level: str, table: pd.DataFrame) -> None:
    import os
    import tempfile

    path = _table_path(scores, by, level)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(handle, "wb") as out:
            table.to_pickle(out)
        os.replace(tmp, path)
        for old in path.parent.glob(f"{scores.campaign_id}-*-{scores.seed}-{by}-{path.stem.rsplit('-', 1)[-1]}.pkl"):
            if old != path and old.name.split("-")[1] != path.name.split("-")[1]:
                old.unlink(missing_ok=True)
    except OSError:  # a read-only instance folder only loses the shared cache
        return


@contextmanager
def _nan_is_an_answer():
    """Silence numpy's "All-NaN slice" / "Mean of empty slice" warnings: a node missing for a
    whole group has no mean or interval, and NaN (shown as "—") is the right answer. Also
    pandas' PerformanceWarning from `groups.state_table` adding one column at a time at the
    item level (hundreds of columns): harmless, and reported to the scoring owner."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        yield


_LABELS = {
    "institution": ("Clave", "Key"), "name": ("Institución", "Institution"),
    "state": ("Clave de entidad", "State code"), "abbr": ("Abrev.", "Abbr."), "entidad": ("Entidad", "State"),
    "type": ("Tipo", "Type"), "order": ("Orden", "Order"), "group": ("Grupo", "Group"),
    "n": ("n", "n"), "responded": ("Respondió", "Responded"),
    "rank": ("Lugar en el índice", "Index rank"), "rank_low": ("Lugar, límite inferior", "Rank, lower bound"),
    "rank_high": ("Lugar, límite superior", "Rank, upper bound"),
}
_SUFFIXES = {
    "coverage": ("cobertura", "coverage"), "adjusted": ("ajustado por tipo", "type-adjusted"),
    "rest": ("resto del país", "rest of nation"), "gap": ("brecha", "gap"),
    "national": ("nacional", "national"), "low": ("IC 95 % inferior", "95 % CI low"),
    "high": ("IC 95 % superior", "95 % CI high"), "gap_low": ("brecha, IC 95 % inferior", "gap, 95 % CI low"),
    "gap_high": ("brecha, IC 95 % superior", "gap, 95 % CI high"), "welch_p": ("p de Welch", "Welch p"),
    "perm_p": ("p de permutación", "permutation p"), "g": ("g de Hedges", "Hedges' g"),
    "q": ("q de Benjamini–Hochberg", "Benjamini–Hochberg q"),
}
# Rank of the index (1 = highest) with its Monte-Carlo interval (5th–95th percentile).
RANK_COLUMNS = ("rank", "rank_low", "rank_high")
# Columns of `stats.rest_of_nation_gaps` kept in the state table, and their suffixes.
GAP_TESTS = {"gap": "gap", "gap_low": "gap_low", "gap_high": "gap_high", "welch_p": "welch_p",
             "permutation_p": "perm_p", "hedges_g": "g", "q_value": "q"}
STATE_SUFFIXES = ("", "_low", "_high", "_adjusted", "_rest", "_gap", "_gap_low", "_gap_high",
                  "_welch_p", "_perm_p", "_g", "_q")



def _column(model: IndexModel, key: str) -> Column:
    if key in _LABELS:
        es, en = _LABELS[key]
        return Column(key, es, en, numeric=key not in TEXT_COLUMNS)
    code, suffix = key, ""
    for candidate in sorted(_SUFFIXES, key=len, reverse=True):
        if key.endswith("_" + candidate):
            code, suffix = key[: -len(candidate) - 1], candidate
            break
    try:
        node = model.node(code)
    except KeyError:
        try:
            node, suffix = model.node(key), ""
        except KeyError:
            return Column(key, key, key, numeric=key not in TEXT_COLUMNS)
    code = node.code
    es, en = node.label.get("es", code), node.label.get("en", node.label.get("es", code))
    es, en = f"{code} · {es}", f"{code} · {en}"
    if suffix:
        es, en = f"{es} ({_SUFFIXES[suffix][0]})", f"{en} ({_SUFFIXES[suffix][1]})"
    return Column(key, es, en, numeric=True, code=code)


def _num(value: object) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def to_records(table: pd.DataFrame, decimals: int | None = None) -> list[dict]:
    """Rows of a table as plain dicts: NaN → None, numpy scalars → Python, floats rounded."""
    out = []
    for row in table.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            if hasattr(value, "item"):
                value = value.item()
            if isinstance(value, float):
                value = None if math.isnan(value) else (round(value, decimals) if decimals is not None else value)
            elif value is not None and not isinstance(value, (int, bool, str)):
                value = None if pd.isna(value) else str(value)
            clean[str(key)] = value
        out.append(clean)
    return out


def model_of(campaign: Campaign) -> IndexModel:
    """The campaign's index model, loaded once per content hash; ScoresUnavailable if none."""
    stored = campaign.index_model
    if stored is None:
        raise ScoresUnavailable(Refusal.NO_INDEX_MODEL)
    model = _models.get(stored.content_hash)
    if model is None:
        try:
            model = IndexModel.from_text(stored.source, filename=stored.filename)
        except ModelError as exc:
            raise ScoresUnavailable(Refusal.INDEX_MODEL_INVALID, details=_located(exc.issues)) from exc
        _models[stored.content_hash] = model
    return model


def campaign_frames(campaign: Campaign) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(answers_long, institutions) as `scoring.score` takes them, from the campaign's data."""
    rows: list[dict] = []
    for purpose in SCORED_PURPOSES:
        rows.extend(responses.long_form(campaign, purpose))
    answers = pd.DataFrame(rows, columns=["institution", "field", "repeat_index", "value"])
    answers["repeat_index"] = answers["repeat_index"].astype("Int64")
    sample = institutions.in_campaign(campaign)
    insts = pd.DataFrame(
        [{"institution": i.key, "name": i.name, "state": i.state_code, "order": i.order.value, "type": i.type}
         for i in sample], columns=["institution", "name", "state", "order", "type"])
    return answers, insts


def fingerprint(answers: pd.DataFrame, insts: pd.DataFrame, model_hash: str, seed: int) -> str:
    """sha256 of the answers, the sample, the model hash and the seed: each row (as text) hashed
    to 64 bits and the row hashes sorted, so the order rows come in does not matter."""
    digest = hashlib.sha256()
    digest.update(json.dumps([model_hash, seed, len(answers), len(insts)]).encode())
    for frame in (answers[["institution", "field", "repeat_index", "value"]], insts):
        rows = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
        digest.update(np.sort(rows).tobytes())
    return "sha256:" + digest.hexdigest()


def data_version(campaign: Campaign) -> tuple:
    """A cheap key that changes whenever the campaign's scored data can have changed.

    Every write to answers, statuses or the sample appends to the audit log, so the latest
    audit id plus the sizes and latest changes of the campaign's answers and sample tell
    `compute` it may reuse a result without reloading and hashing every answer.
    """
    responses_of = sa.select(Response.id).where(Response.campaign_id == campaign.id)
    row = db.session.execute(sa.select(
        sa.select(sa.func.max(AuditEvent.id)).scalar_subquery(),
        sa.select(sa.func.count(Participation.id)).where(Participation.campaign_id == campaign.id).scalar_subquery(),
        sa.select(sa.func.count(Answer.id)).where(Answer.response_id.in_(responses_of)).scalar_subquery(),
        sa.select(sa.func.max(Answer.id)).where(Answer.response_id.in_(responses_of)).scalar_subquery(),
        sa.select(sa.func.max(Answer.updated_at)).where(Answer.response_id.in_(responses_of)).scalar_subquery(),
        sa.select(sa.func.max(Answer.verified_at)).where(Answer.response_id.in_(responses_of)).scalar_subquery(),
        sa.select(sa.func.max(Response.updated_at)).where(Response.campaign_id == campaign.id).scalar_subquery(),
    )).one()
    stored = campaign.index_model
    return (str(db.engine.url), campaign.id, stored.content_hash if stored else None,
            *(str(v) if v is not None else None for v in row))


def for_reader(campaign: Campaign, seed: int = DEFAULT_SEED, scope=None) -> CampaignScores:
    """`compute`, seen by `scope` (default: whoever makes the request; national outside one)."""
    from diagnostic.security import scope_or_current

    return compute(campaign, seed).for_scope(scope_or_current(scope))


def compute(campaign: Campaign, seed: int = DEFAULT_SEED) -> CampaignScores:
    """Score the campaign (cached per data fingerprint); ScoresUnavailable when it cannot be scored."""
    model = model_of(campaign)
    version = (*data_version(campaign), int(seed))
    with _cache_lock:
        known = _versions.get(version)
        cached = _cache.get(known) if known is not None else None
        if cached is not None:
            _cache.move_to_end(known)
            return cached
    answers, insts = campaign_frames(campaign)
    if insts.empty:
        raise ScoresUnavailable(Refusal.NO_INSTITUTIONS)
    digest = fingerprint(answers, insts, campaign.index_model.content_hash, int(seed))
    key = (campaign.id, digest)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            _remember(version, key)
            return cached
    try:
        result = score(answers, insts, model)
    except InputError as exc:
        raise ScoresUnavailable(Refusal.UNSCORABLE_DATA, details=_located(exc.issues)) from exc
    computed = CampaignScores(campaign.id, digest, int(seed), model, result)
    with _cache_lock:
        _cache[key] = computed
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        _remember(version, key)
    return computed


def _remember(version: tuple, key: tuple) -> None:
    _versions[version] = key
    while len(_versions) > 8 * CACHE_SIZE:
        _versions.popitem(last=False)


@dataclass
class TableQuery:
    """What a score table shows: grouping, level, sort column and direction, and filters."""

    by: str = "state"
    level: str = HEADLINE
    sort: str | None = None
    desc: bool = True
    q: str = ""
    state: str = ""
    type: str = ""
    order: str = ""
    detail: str = ""
    page: int = 1
    per_page: int = 100

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TableQuery:
        """Read a query from request arguments (unknown values fall back to defaults)."""
        by = args.get("by", "state")
        return cls(by=by if by in GROUPINGS else "state", level=args.get("level") or HEADLINE,
                   sort=args.get("sort") or None, desc=args.get("dir", "desc") != "asc",
                   q=(args.get("q") or "").strip()[:100], state=(args.get("state") or "").strip()[:2],
                   type=(args.get("type") or "").strip()[:80], order=(args.get("order") or "").strip()[:20],
                   detail=(args.get("detail") or "").strip()[:80],
                   page=_bounded(args.get("page"), 1, 1, 10**6), per_page=_bounded(args.get("per_page"), 100, 1, 2000))

    def args(self, **changes: object) -> dict[str, str]:
        """Query arguments reproducing this query with some values changed (for links)."""
        data = {"by": self.by, "level": self.level, "sort": self.sort or "", "dir": "desc" if self.desc else "asc",
                "q": self.q, "state": self.state, "type": self.type, "order": self.order,
                "detail": self.detail, "page": self.page if self.page > 1 else "",
                "per_page": self.per_page if self.per_page != 100 else ""}
        data.update({k: ("" if v is None else v) for k, v in changes.items()})
        if "desc" in changes:
            data["dir"] = "desc" if changes["desc"] else "asc"
            data.pop("desc")
        return {k: str(v) for k, v in data.items() if v not in ("", None)}


@dataclass
class TableView:
    """A sorted and filtered score table, ready to render."""

    query: TableQuery
    columns: list[Column]
    rows: list[dict]
    total: int
    scores: CampaignScores
    options: dict[str, list[str]]
    matching: int = 0

    @property
    def pages(self) -> int:
        """How many pages the filtered rows fill."""
        return max(1, -(-self.matching // self.query.per_page))


def table_view(campaign: Campaign, query: TableQuery, seed: int = DEFAULT_SEED, scope=None) -> TableView:
    """The score table for a query: filtered (state, type, order, text) and sorted server-side,
    with the rows the reader's scope allows (`for_reader`)."""
    scores = for_reader(campaign, seed, scope)
    table = scores.table(query.by, query.level)
    total = len(table)
    options = {name: sorted({str(v) for v in table[name].dropna()}) for name in ("state", "type", "order")
               if name in table}
    for name in ("state", "type", "order"):
        value = getattr(query, name)
        if value and name in table:
            table = table[table[name].astype(str) == value]
    if query.q:
        text_cols = [c for c in table.columns if c in TEXT_COLUMNS]
        needle = query.q.casefold()
        mask = pd.Series(False, index=table.index)
        for col in text_cols:
            mask |= table[col].astype(str).str.casefold().str.contains(needle, regex=False)
        table = table[mask]
    sort = query.sort if query.sort in table.columns else None
    if sort is None:
        codes = scores.codes(query.level)
        sort = codes[0] if codes and codes[0] in table.columns else table.columns[0]
        query.sort = sort
    table = table.sort_values(sort, ascending=not query.desc, na_position="last", kind="stable")
    codes = scores.codes(query.level)
    if query.by == "state" and query.detail not in codes:
        query.detail = codes[0]
    matching = len(table)
    query.page = min(query.page, max(1, -(-matching // query.per_page)))
    start = (query.page - 1) * query.per_page
    page = table.iloc[start:start + query.per_page]
    return TableView(query, display_columns(scores, table, query), to_records(page), total, scores, options, matching)


def _bounded(value: object, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


def display_columns(scores: CampaignScores, table: pd.DataFrame, query: TableQuery) -> list[Column]:
    """Columns a web table shows: `X_low`/`X_high` go inside X's cell as its interval; the state
    table shows the gap, tests and type adjustment of one node (`detail`) to stay readable."""
    present = set(table.columns)
    bounds: set[str] = set()
    shown = []
    for column in scores.columns(table):
        low, high = f"{column.key}_low", f"{column.key}_high"
        if low in present and high in present:
            column = replace(column, low=low, high=high)
            bounds |= {low, high}
        shown.append(column)
    out = []
    for column in shown:
        if column.key in bounds:
            continue
        if query.by == "state" and column.code and column.code != query.detail and column.key != column.code:
            continue
        out.append(column)
    return out
