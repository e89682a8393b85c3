"""Campaign scores: the campaign's answers scored by `scoring/` through its index model.

One entry point, `compute(campaign)`, serves the score tables, the exports, the API and
`apertura score`, so every surface shows the same numbers. Answers are the submitted and
verified responses of the institution and evaluator instruments, with an analyst's
corrected value in place of the original (`responses.long_form`). Institutions are the
campaign's sample (participations); one that never responded follows the model's
missing-data policy (the MGA rule: zero). Group tables (state, type, order, nation) are
means of institution scores (methodology §7); a state is compared with the rest of the
nation, never with a national mean that contains it.

Results are cached per campaign data fingerprint (answers, sample, model and seed), so a
verification or a new submission recomputes and nothing else does.
"""
from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from diagnostic.models import Campaign, InstrumentPurpose
from diagnostic.services import ServiceError, institutions, responses
from scoring import groups
from scoring.model import IndexModel, ModelError
from scoring.pipeline import InputError, ScoreResult, score

GROUPINGS = ("institution", "state", "type", "order", "nation")
HEADLINE = "headline"  # index, dimensions and sub-indices: what §8 asks a report to show
HEADLINE_LEVELS = ("index", "dimension", "subindex")
DEFAULT_SEED = 2017
SCORED_PURPOSES = (InstrumentPurpose.INSTITUTION, InstrumentPurpose.EVALUATOR)
TEXT_COLUMNS = {"institution", "name", "state", "abbr", "entidad", "type", "order", "group"}
CACHE_SIZE = 8

_cache: OrderedDict[tuple, CampaignScores] = OrderedDict()
_cache_lock = threading.Lock()
_models: dict[str, IndexModel] = {}


class ScoresUnavailable(ServiceError):
    """The campaign cannot be scored (no index model, or a model/input `scoring` refuses)."""

    status = 409


@dataclass(frozen=True)
class Column:
    """One column of a score table: key, Spanish/English label, and whether it is a number."""

    key: str
    label_es: str
    label_en: str
    numeric: bool = True
    code: str | None = None

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

    def codes(self, level: str = HEADLINE) -> list[str]:
        """Node codes shown for a level (`headline` = index, dimensions, sub-indices), tree order."""
        wanted = HEADLINE_LEVELS if level == HEADLINE else (level,)
        if level != HEADLINE and level not in self.model.levels():
            raise ServiceError(f"Nivel desconocido: {level}", status=400)
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
            raise ServiceError(f"Agrupación desconocida: {by} ({', '.join(GROUPINGS)})", status=400)
        key = (by, level)
        if key not in self._tables:
            self._tables[key] = self._build(by, self.codes(level))
        return self._tables[key].copy()

    def _build(self, by: str, codes: list[str]) -> pd.DataFrame:
        wide = self.scores_wide(codes)
        insts = self.result.institutions
        if by == "institution":
            out = groups.group_means(wide, insts, "institution")
            coverage = self.scores_wide(codes, coverage=True).reset_index(drop=True)
            responded = pd.Series(self.result.leaf.responded, name="responded")
            out = pd.concat([out, responded, coverage.add_suffix("_coverage")], axis=1)
            return out
        if by == "state":
            table = groups.state_table(wide, insts, codes)
            for code in codes:
                table[f"{code}_gap"] = table[code] - table[f"{code}_rest"]
            ordered = ["state", "abbr", "entidad", "n"]
            for code in codes:
                ordered += [code, f"{code}_adjusted", f"{code}_rest", f"{code}_gap"]
            return table[ordered]
        return groups.group_means(wide, insts, by)

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


_LABELS = {
    "institution": ("Clave", "Key"), "name": ("Institución", "Institution"),
    "state": ("Estado", "State"), "abbr": ("Abrev.", "Abbr."), "entidad": ("Entidad", "State name"),
    "type": ("Tipo", "Type"), "order": ("Orden", "Order"), "group": ("Grupo", "Group"),
    "n": ("n", "n"), "responded": ("Respondió", "Responded"),
}
_SUFFIXES = {
    "coverage": ("cobertura", "coverage"), "adjusted": ("ajustado por tipo", "type-adjusted"),
    "rest": ("resto del país", "rest of nation"), "gap": ("brecha", "gap"),
    "national": ("nacional", "national"),
}


def _column(model: IndexModel, key: str) -> Column:
    if key in _LABELS:
        es, en = _LABELS[key]
        return Column(key, es, en, numeric=key not in TEXT_COLUMNS)
    code, _, suffix = key.rpartition("_") if key.rpartition("_")[2] in _SUFFIXES else (key, "", "")
    try:
        node = model.node(code)
    except KeyError:
        return Column(key, key, key, numeric=key not in TEXT_COLUMNS)
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
        raise ScoresUnavailable("La campaña no tiene modelo de índice")
    model = _models.get(stored.content_hash)
    if model is None:
        try:
            model = IndexModel.from_text(stored.source, filename=stored.filename)
        except ModelError as exc:
            raise ScoresUnavailable("Modelo de índice no válido", details=[str(i) for i in exc.issues]) from exc
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
    """sha256 of the sorted answers, the sample, the model hash and the seed."""
    digest = hashlib.sha256()
    digest.update(json.dumps([model_hash, seed]).encode())
    ordered = answers.assign(r=answers["repeat_index"].fillna(-1)).sort_values(
        ["institution", "field", "r"], kind="stable")
    for row in ordered[["institution", "field", "r", "value"]].itertuples(index=False):
        digest.update(json.dumps([str(row[0]), row[1], int(row[2]), row[3]], ensure_ascii=False).encode())
    for row in insts.sort_values("institution").itertuples(index=False):
        digest.update(json.dumps([str(v) for v in row], ensure_ascii=False).encode())
    return "sha256:" + digest.hexdigest()


def compute(campaign: Campaign, seed: int = DEFAULT_SEED) -> CampaignScores:
    """Score the campaign (cached per data fingerprint); ScoresUnavailable when it cannot be scored."""
    model = model_of(campaign)
    answers, insts = campaign_frames(campaign)
    if insts.empty:
        raise ScoresUnavailable("La campaña no tiene instituciones")
    digest = fingerprint(answers, insts, campaign.index_model.content_hash, int(seed))
    key = (campaign.id, digest)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    try:
        result = score(answers, insts, model)
    except InputError as exc:
        raise ScoresUnavailable("Datos que no se pueden puntuar",
                                details=[i.message_es for i in exc.issues]) from exc
    computed = CampaignScores(campaign.id, digest, int(seed), model, result)
    with _cache_lock:
        _cache[key] = computed
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return computed


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

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TableQuery:
        """Read a query from request arguments (unknown values fall back to defaults)."""
        by = args.get("by", "state")
        return cls(by=by if by in GROUPINGS else "state", level=args.get("level") or HEADLINE,
                   sort=args.get("sort") or None, desc=args.get("dir", "desc") != "asc",
                   q=(args.get("q") or "").strip()[:100], state=(args.get("state") or "").strip()[:2],
                   type=(args.get("type") or "").strip()[:80], order=(args.get("order") or "").strip()[:20])

    def args(self, **changes: object) -> dict[str, str]:
        """Query arguments reproducing this query with some values changed (for links)."""
        data = {"by": self.by, "level": self.level, "sort": self.sort or "", "dir": "desc" if self.desc else "asc",
                "q": self.q, "state": self.state, "type": self.type, "order": self.order}
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


def table_view(campaign: Campaign, query: TableQuery, seed: int = DEFAULT_SEED) -> TableView:
    """The score table for a query: filtered (state, type, order, text) and sorted server-side."""
    scores = compute(campaign, seed)
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
    return TableView(query, scores.columns(table), to_records(table), total, scores, options)
