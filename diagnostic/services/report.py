"""The per-state diagnostic report (methodology §8), as plain data: where the state stands,
whether the gap is real, where the gaps are (*brechas*), who is behind, conditions,
inclusion, and the methodology annex, one builder per section. Everything comes from
`scores.compute`, so the report, the score tables, the exports and `apertura score` agree.
What the report lists is data in `diagnostic/data/report.yaml`; charts and PDF are drawn
by `diagnostic.reports`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
import yaml

from diagnostic import labels
from diagnostic.extensions import db
from diagnostic.models import Answer, Campaign, InstrumentPurpose, Response, ResponseStatus
from diagnostic.security import NATIONAL, can_view_results
from diagnostic.services import (
    NotFound,
    Refusal,
    campaigns,
    instruments,
    reply,
    responses,
    scores,
    second_verification,
)
from diagnostic.services import evidence as evidence_annex
from scoring import IndexModel, benchmarks, stats
from scoring import score as score_answers
from scoring import states as state_names
from scoring.uncertainty import brechas


@lru_cache(maxsize=1)
def settings() -> dict:
    """The report settings (`diagnostic/data/report.yaml`, package data)."""
    return yaml.safe_load(resources.files("diagnostic").joinpath("data", "report.yaml").read_text(encoding="utf-8"))


def settings_text() -> str:
    """The report settings and the labels they use, as text (part of every report's fingerprint)."""
    data = resources.files("diagnostic").joinpath("data")
    return data.joinpath("report.yaml").read_text(encoding="utf-8") + data.joinpath("labels.yaml").read_text(encoding="utf-8")


def label(kind: str, code: object, lang: str = "es") -> str:
    """The label of a code (type, order, purpose, status, policy, value, level) from the settings;
    the code itself only when the settings have no label for it."""
    entry = settings().get("labels", {}).get(kind, {}).get(str(code))
    if not entry:
        return labels.label(code, kind, lang)  # types and orders: the app's one table
    return entry.get(lang) or entry.get("es") or str(code)


def campaign_title(campaign: Campaign) -> str:
    """The campaign's name, with its year unless the name already says it."""
    return campaign.name if str(campaign.year) in campaign.name else f"{campaign.name} ({campaign.year})"


def local_time(moment: datetime | None) -> datetime | None:
    """A stored (UTC) time in the reports' time zone (Mexico City by default)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(settings().get("timezone", "America/Mexico_City")))


def _num(value: object) -> float | None:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


@dataclass
class StateReport:
    """Everything a per-state report shows, as plain data for templates and tests."""

    campaign: Campaign
    state: str
    name: str
    abbr: str
    headline: list[dict]
    verdict_es: str
    verdict_en: str
    rank: dict
    n_states: int
    gaps: list[dict]
    by_type: list[dict]
    institutions: list[dict]
    conditions: list[dict] | None
    inclusion: list[dict]
    annex: dict
    editions: list[dict]
    summary_es: list[str] = field(default_factory=list)
    summary_en: list[str] = field(default_factory=list)
    evidence: dict = field(default_factory=dict)  # services.evidence.report_section
    better: list[dict] = field(default_factory=list)
    worse: list[dict] = field(default_factory=list)
    fix_first: list[dict] = field(default_factory=list)
    distribution: dict = field(default_factory=dict)
    risks: list[dict] | None = None
    title: str = ""
    data_as_of: datetime | None = None
    fdr: float = 0.05
    reply: dict | None = None  # right of reply: items contested and changed in the state (services/reply.py)

    @property
    def answered(self) -> int:
        """How many of the state's institutions answered."""
        return sum(1 for i in self.institutions if i["responded"])

    @property
    def editions_text(self) -> str:
        """The published national editions in one line: year (producer, bodies assessed)."""
        return "; ".join(f"{e['edition']} ({e['producer']}, {e['sujetos_obligados']})" for e in self.editions)

    @property
    def index(self) -> dict:
        """The headline row of the index (the first headline code)."""
        return self.headline[0]


def visible_campaigns(user) -> list[Campaign]:
    """Campaigns whose results this visitor may read, newest first."""
    return sorted((c for c in campaigns.all_campaigns() if can_view_results(c, user)),
                  key=lambda c: (c.year, c.id), reverse=True)


def resolve_state(value: str) -> str:
    """INEGI code of a state given in any spelling; 404 when unknown."""
    code = state_names.resolve(value)
    if code is None:
        raise NotFound(Refusal.UNKNOWN_ENTITY, value=value)
    return code


def _verdict(name: str, row: dict, rank: dict, n_states: int, fdr: float) -> tuple[str, str]:
    """One plain sentence each in Spanish and English: the gap, whether it is real, the rank."""
    value, rest, q, g = row.get("value"), row.get("rest"), row.get("q"), row.get("g")
    low, high = row.get("low"), row.get("high")
    if value is None or rest is None:
        return (f"No hay datos suficientes para situar a {name}.", f"There is not enough data to place {name}.")
    gap = value - rest
    es_dir = "por encima" if gap >= 0 else "por debajo"
    en_dir = "above" if gap >= 0 else "below"
    interval = f" (IC 95 %: {low:.2f}–{high:.2f})" if low is not None and high is not None else ""
    interval_en = f" (95% CI {low:.2f}–{high:.2f})" if low is not None and high is not None else ""
    if q is not None and q < fdr:
        real_es = f"la diferencia es estadísticamente significativa (q = {q:.3f}"
        real_en = f"the difference is statistically significant (q = {q:.3f}"
    else:
        qtext = f"q = {q:.2f}" if q is not None else "sin prueba"
        real_es = f"la diferencia no es concluyente ({qtext}"
        real_en = f"the difference is not conclusive ({qtext if q is not None else 'no test'}"
    if g is not None:
        real_es += f"; tamaño del efecto g = {g:.2f})"
        real_en += f"; effect size g = {g:.2f})"
    else:
        real_es += ")"
        real_en += ")"
    es = (f"Con un índice de {value:.2f}{interval}, {name} está {abs(gap):.2f} {es_dir} del resto del país "
          f"({rest:.2f}); {real_es}.")
    en = (f"With an index of {value:.2f}{interval_en}, {name} is {abs(gap):.2f} {en_dir} the rest of the nation "
          f"({rest:.2f}); {real_en}.")
    if rank.get("low") is not None and rank.get("high") is not None:
        es += (f" Su lugar entre las {n_states} entidades está entre el {rank['low']:.0f} y el {rank['high']:.0f}"
               f" (90 % de las simulaciones).")
        en += (f" Its place among the {n_states} states lies between {rank['low']:.0f} and {rank['high']:.0f}"
               f" (90% of simulations).")
    return es, en


@lru_cache(maxsize=4)
def _conditions_model(model_id: str) -> IndexModel:
    return IndexModel.load(model_id)


_conditions_cache: dict[tuple, pd.DataFrame] = {}


def _conditions_wide(campaign: Campaign, insts: pd.DataFrame, model: IndexModel) -> pd.DataFrame | None:
    """Institutions × nodes of the conditions index for every state that answered (computed once
    per set of answers: it is the same for every state's report)."""
    rows = responses.long_form(campaign, InstrumentPurpose.STATE)
    if not rows:
        return None
    answers = pd.DataFrame(rows, columns=["institution", "field", "repeat_index", "value"])
    key = (campaign.id, model.id, model.version, int(pd.util.hash_pandas_object(
        answers.astype(str), index=False).sum()))
    if key in _conditions_cache:
        return _conditions_cache[key]
    sample = insts[insts["institution"].isin(set(answers["institution"]))].reset_index(drop=True)
    if sample.empty:
        return None
    wide = score_answers(answers, sample, model).wide()
    wide = wide.assign(_state=sample.set_index("institution")["state"].reindex(wide.index).to_numpy())
    if len(_conditions_cache) > 16:
        _conditions_cache.clear()
    _conditions_cache[key] = wide
    return wide


def _conditions(campaign: Campaign, state: str, model_id: str, insts: pd.DataFrame) -> list[dict] | None:
    """The state conditions index and its components (§8.5), or None without such answers."""
    model = _conditions_model(model_id)
    wide = _conditions_wide(campaign, insts, model)
    if wide is None or state not in set(wide["_state"]):
        return None
    values = wide.drop(columns="_state")
    own = values[wide["_state"] == state].mean()
    nation = values.mean()
    return [{"code": node.code, "label_es": node.label.get("es", node.code), "label_en": node.label.get("en", node.code),
             "value": _num(own.get(node.code)), "nation": _num(nation.get(node.code)), "level": node.level}
            for node in model.tree.walk() if node.level in ("index", "component")]


@dataclass(frozen=True)
class _Scored:
    """What every section builder reads: the computed scores, the state's row, the settings."""

    campaign: Campaign
    code: str
    conf: dict
    computed: scores.CampaignScores
    table: pd.DataFrame
    row: pd.Series
    codes: list[str]
    labels: dict


def _scored(campaign: Campaign, state: str, seed: int) -> _Scored:
    conf = settings()
    code = resolve_state(state)
    computed = scores.compute(campaign, seed=seed)
    table = computed.table("state").set_index("state")
    if code not in table.index:
        raise NotFound(Refusal.NO_INSTITUTIONS_IN_STATE, state=code)
    model_codes = {n.code for n in computed.model.tree.walk()}
    codes = [c for c in conf["headline"] if c in model_codes] or computed.codes()
    labels = {n.code: n.label for n in computed.model.tree.walk()}
    return _Scored(campaign, code, conf, computed, table, table.loc[code], codes, labels)


def _headline(s: _Scored) -> list[dict]:
    """The headline table (§8.1): each code with interval, rest of the nation, tests, the state's
    published MGA 2017 figure and the published national editions."""
    row, nation = s.row, s.computed.table("nation").iloc[0]
    bench_state = benchmarks.by_state().set_index("state")
    editions = benchmarks.national()
    return [{
        "code": c, "label_es": s.labels[c].get("es", c), "label_en": s.labels[c].get("en", c),
        "value": _num(row.get(c)), "low": _num(row.get(f"{c}_low")), "high": _num(row.get(f"{c}_high")),
        "adjusted": _num(row.get(f"{c}_adjusted")), "rest": _num(row.get(f"{c}_rest")),
        "nation": _num(nation.get(c)), "nation_low": _num(nation.get(f"{c}_low")),
        "nation_high": _num(nation.get(f"{c}_high")),
        "gap": _num(row.get(f"{c}_gap")), "gap_low": _num(row.get(f"{c}_gap_low")),
        "gap_high": _num(row.get(f"{c}_gap_high")), "welch_p": _num(row.get(f"{c}_welch_p")),
        "perm_p": _num(row.get(f"{c}_perm_p")), "g": _num(row.get(f"{c}_g")), "q": _num(row.get(f"{c}_q")),
        "mga_2017": _published(bench_state, s.code, s.conf["benchmark_columns"].get(c)),
        "editions": {int(e["edition"]): _num(e.get(s.conf.get("edition_columns", {}).get(c, ""), None))
                     for e in editions.to_dict(orient="records")},
    } for c in s.codes]


def _rank(s: _Scored) -> tuple[dict, int]:
    """The state's rank with its interval (§8.2), and how many states are ranked."""
    ranked = s.table.index[s.table["rank"].notna()] if "rank" in s.table else s.table.index
    rank = {"value": _num(s.row.get("rank")), "low": _num(s.row.get("rank_low")), "high": _num(s.row.get("rank_high"))}
    return rank, int(len(ranked))


def gap_interval(state_values: np.ndarray, rest_values: np.ndarray, n_resamples: int,
                 seed: int) -> tuple[float | None, float | None]:
    """95 % bootstrap interval of (national mean − state mean), resampling the state's
    institutions and the rest of the nation's separately (the nation contains the state).
    (None, None) when the state has fewer than two institutions with a value."""
    return gap_intervals(np.asarray(state_values, float)[:, None], np.asarray(rest_values, float)[:, None],
                         n_resamples, seed)[0]


def _resampled_sums(x: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap sums (resamples × columns) of the rows of `x`: how often each row is drawn @ x."""
    n = len(x)
    idx = rng.integers(0, n, (n_resamples, n))
    offsets = (np.arange(n_resamples, dtype=np.int64) * n)[:, None]
    counts = np.bincount((idx + offsets).ravel(), minlength=n_resamples * n).reshape(n_resamples, n)
    return counts.astype(float) @ x


def gap_intervals(state_values: np.ndarray, rest_values: np.ndarray, n_resamples: int,
                  seed: int) -> list[tuple[float | None, float | None]]:
    """`gap_interval` of every column (institutions × nodes) at once: each column uses the
    institutions with a value in it, and columns with values on the same institutions share
    the resamples (one draw of the state and one of the rest serves them all)."""
    out: list[tuple[float | None, float | None]] = [(None, None)] * state_values.shape[1]
    rng = np.random.default_rng(seed)
    present = np.vstack([~np.isnan(state_values), ~np.isnan(rest_values)])
    patterns, which = np.unique(present, axis=1, return_inverse=True)
    for p in range(patterns.shape[1]):
        cols = np.flatnonzero(which.reshape(-1) == p)
        own = state_values[patterns[:len(state_values), p]][:, cols]
        rest = rest_values[patterns[len(state_values):, p]][:, cols]
        if len(own) < 2 or len(rest) < 1:
            continue
        own_sums = _resampled_sums(own, n_resamples, rng)
        nation = (own_sums + _resampled_sums(rest, n_resamples, rng)) / (len(own) + len(rest))
        lows, highs = np.quantile(nation - own_sums / len(own), [0.025, 0.975], axis=0)
        for j, col in enumerate(cols):
            out[col] = (float(lows[j]), float(highs[j]))
    return out


def _gaps(s: _Scored) -> list[dict]:
    """The *brechas* (§8.3): components with the largest potential effect, each with a 95 %
    interval of its gap and whether the gap is within noise (the interval reaches zero)."""
    model = s.computed.model
    frame = brechas(s.computed.result, s.code, level="component") if "component" in model.levels() else pd.DataFrame()
    if frame.empty:
        return []
    parents = model.parents()
    wide = s.computed.result.wide()
    states_of = s.computed.result.institutions.reindex(wide.index)["state"]
    in_state = (states_of == s.code).to_numpy()
    frame = frame[frame["potential"].fillna(0) > 0]
    if frame.empty:
        return []
    values = wide[list(frame["code"])].to_numpy(dtype=float)
    intervals = gap_intervals(values[in_state], values[~in_state], int(s.conf.get("brecha_resamples", 1000)),
                              s.computed.seed)
    out = []
    for g, (low, high) in zip(frame.itertuples(index=False), intervals, strict=True):
        weight = _num(g.weight)
        parent = parents.get(g.code) or ""
        own_es, own_en = s.labels.get(g.code, {}).get("es", g.code), s.labels.get(g.code, {}).get("en", g.code)
        # components of different sub-indices share names ("Celeridad"): say whose they are
        par_es, par_en = s.labels.get(parent, {}).get("es", parent), s.labels.get(parent, {}).get("en", parent)
        out.append({"code": g.code, "parent": parent,
                    "label_es": f"{own_es} ({par_es})" if parent else own_es,
                    "label_en": f"{own_en} ({par_en})" if parent else own_en, "state": _num(g.state_mean),
                    "nation": _num(g.national_mean), "gap": _num(g.gap), "gap_low": low, "gap_high": high,
                    "weight": weight, "potential": _num(g.potential),
                    "potential_low": None if low is None or weight is None else max(low, 0.0) * weight,
                    "potential_high": None if high is None or weight is None else max(high, 0.0) * weight,
                    "noise": low is None or low <= 0})
    return out[: int(s.conf["brechas"])]


def _institution_scores(s: _Scored) -> pd.DataFrame:
    """One row per institution: name, type, order, state, headline scores and index coverage."""
    index_code = s.codes[0]
    wide = s.computed.scores_wide(list(s.codes))
    coverage = s.computed.scores_wide([index_code], coverage=True)[index_code]
    insts = s.computed.result.institutions.reindex(wide.index)
    return insts[["name", "type", "order", "state"]].join(wide).assign(coverage=coverage)


def _by_type(s: _Scored, data: pd.DataFrame) -> list[dict]:
    """The state's institutions by type against the same type nationally (§8.4); every type the
    nation has, so a type missing in the state shows as such (n = 0, no value)."""
    index_code = s.codes[0]
    type_nation = data.groupby("type")[index_code].mean()
    type_n = data.groupby("type")[index_code].size()
    own = data[data["state"] == s.code]
    rows = []
    for kind in sorted(type_nation.index, key=lambda k: label("type", k)):
        group = own[own["type"] == kind]
        value = _num(group[index_code].mean()) if len(group) else None
        nation = _num(type_nation.get(kind))
        rows.append({"type": kind, "type_es": label("type", kind, "es"), "type_en": label("type", kind, "en"),
                     "n": len(group), "n_nation": int(type_n.get(kind, 0)), "state": value, "nation": nation,
                     "gap": None if value is None or nation is None else value - nation})
    return rows


def _institutions(s: _Scored, data: pd.DataFrame) -> list[dict]:
    """Who is behind (§8.4): the state's institutions by name, best first, with their headline
    scores, coverage and whether they answered."""
    own = data[data["state"] == s.code].sort_values(s.codes[0], ascending=False, na_position="last", kind="stable")
    responded = pd.Series(s.computed.result.leaf.responded, index=s.computed.result.institutions.index)
    rows = []
    for key, r in own.iterrows():  # r.name would be the index (the key) and r.T a transpose: use r[...]
        rows.append({"key": key, "name": r["name"], "type": r["type"], "type_es": label("type", r["type"], "es"),
                     "type_en": label("type", r["type"], "en"), "order": r["order"],
                     "coverage": _num(r["coverage"]), "responded": bool(responded.get(key, False)),
                     "scores": {c: _num(r[c]) for c in s.codes}})
    return rows


def _inclusion(s: _Scored) -> list[dict]:
    """The inclusion items of the settings (§8.6), state against nation."""
    leaf_codes = {n.code for n in s.computed.model.leaves()}
    items = [c for c in s.conf["inclusion_items"] if c in leaf_codes]
    if not items:
        return []
    item_wide = s.computed.scores_wide(items)
    states_of = s.computed.result.institutions.reindex(item_wide.index)["state"]
    rows = []
    for c in items:
        node = s.computed.model.node(c)
        rows.append({"code": c, "label_es": node.label.get("es", c), "label_en": node.label.get("en", c),
                     "state": _num(item_wide.loc[states_of == s.code, c].mean()), "nation": _num(item_wide[c].mean())})
    return rows


def _annex(s: _Scored, data: pd.DataFrame) -> dict:
    """The methodology annex (§8.7): instruments, model and weights, policies, coverage, reliability."""
    campaign, computed = s.campaign, s.computed
    progress = campaigns.progress(campaign, NATIONAL)  # a stored report is the same for every reader
    return {
        "instruments": [{"purpose": ci.purpose.value, "purpose_es": label("purpose", ci.purpose.value, "es"),
                         "purpose_en": label("purpose", ci.purpose.value, "en"),
                         "id": ci.instrument_version.instrument_id, "version": ci.instrument_version.version,
                         "hash": ci.instrument_version.content_hash}
                        for ci in sorted(campaign.instruments, key=lambda ci: ci.purpose.value)],
        "model": (computed.model.id, computed.model.version, campaign.index_model.content_hash if campaign.index_model else ""),
        "weights": [{"code": n.code, "level": n.level, "level_es": label("level", n.level, "es"),
                     "level_en": label("level", n.level, "en"), "weight": w, "label_es": n.label.get("es", n.code),
                     "label_en": n.label.get("en", n.code)} for n, w in _effective(computed.model)],
        "policies": [{"key": k, "es": label("policy", k, "es"), "en": label("policy", k, "en"),
                      "value_es": label("value", v, "es") if isinstance(v, str) else f"{v:g}",
                      "value_en": label("value", v, "en") if isinstance(v, str) else f"{v:g}"}
                     for k, v in sorted(computed.model.defaults.items())],
        "institutions": progress["institutions"],
        "responses": [{"purpose": p, "purpose_es": label("purpose", p, "es"), "purpose_en": label("purpose", p, "en"),
                       "counts": [{"status": st, "es": label("status", st, "es"), "en": label("status", st, "en"),
                                   "n": n} for st, n in counts.items()]}
                      for p, counts in sorted(progress["responses"].items())],
        "coverage_mean": _num(data["coverage"].mean()),
        "coverage_state": _num(data.loc[data["state"] == s.code, "coverage"].mean()),
        "reliability": [{"code": r.code, "label_es": s.labels.get(r.code, {}).get("es", r.code),
                         "label_en": s.labels.get(r.code, {}).get("en", r.code), "alpha": _num(r.alpha),
                         "low": _num(r.low), "high": _num(r.high), "k": int(r.k)}
                        for r in stats.reliability(computed.result).itertuples(index=False)],
        "fingerprint": computed.fingerprint,
        "seed": computed.seed,
        "settings_version": s.conf.get("version", ""),
        "agreement": second_verification.report_section(campaign),
    }


def data_as_of(campaign: Campaign) -> datetime | None:
    """When the data a report reads last changed: the latest answer saved or verified in a
    submitted or verified response (drafts and page visits do not count)."""
    responses_of = sa.select(Response.id).where(
        Response.campaign_id == campaign.id, Response.status.in_((ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED)))
    row = db.session.execute(sa.select(
        sa.select(sa.func.max(Answer.updated_at)).where(Answer.response_id.in_(responses_of)).scalar_subquery(),
        sa.select(sa.func.max(Answer.verified_at)).where(Answer.response_id.in_(responses_of)).scalar_subquery(),
    )).one()
    moments = [m.replace(tzinfo=None) if m.tzinfo else m for m in row if m is not None]
    return local_time(max(moments)) if moments else None


def _risks(campaign: Campaign, state: str, field_name: str, insts: pd.DataFrame) -> list[dict] | None:
    """The risks the state reported in the conditions questionnaire (kept for the report, not
    scored), with their labels; None when the state has not answered it."""
    version = next((ci.instrument_version for ci in campaign.instruments if ci.purpose == InstrumentPurpose.STATE), None)
    if version is None:
        return None
    rows = [r for r in responses.long_form(campaign, InstrumentPurpose.STATE) if r["field"] == field_name]
    keys = set(insts.loc[insts["state"] == state, "institution"])
    chosen: list[str] = []
    answered = False
    for r in rows:
        if r["institution"] not in keys:
            continue
        answered = True
        value = r["value"]
        names = value if isinstance(value, list) else str(value).split()
        chosen.extend(n for n in names if n not in chosen)
    if not answered:
        return None
    definition = instruments.definition(version)
    question = definition.fields.get(field_name)
    choice_list = definition.choice_list(question) if question is not None else None
    labels = {c.name: c.label for c in choice_list.choices} if choice_list else {}
    order = list(labels)
    chosen.sort(key=lambda n: order.index(n) if n in order else len(order))
    return [{"code": n, "label_es": labels.get(n, {}).get("es", n),
             "label_en": labels.get(n, {}).get("en", labels.get(n, {}).get("es", n))} for n in chosen]


def _summary(name: str, headline: list[dict], rank: dict, n_states: int, gaps: list[dict], fdr: float,
             fix_first: int) -> tuple[list[str], list[str], list[dict], list[dict], list[dict]]:
    """The first page in plain words: where the state stands, what is clearly better or worse
    than the rest of the country, and the things to fix first. Returns (es, en, better, worse, fix)."""
    clear = [h for h in headline if h["q"] is not None and h["q"] < fdr and h["gap"] is not None]
    better = [h for h in clear if h["gap"] > 0]
    worse = [h for h in clear if h["gap"] < 0]
    fix = [g for g in gaps if not g["noise"]][:fix_first]
    es, en = [], []
    if better:
        es.append("Claramente mejor que el resto del país en: " + ", ".join(h["label_es"] for h in better) + ".")
        en.append("Clearly better than the rest of the country in: " + ", ".join(h["label_en"] for h in better) + ".")
    if worse:
        es.append("Claramente peor que el resto del país en: " + ", ".join(h["label_es"] for h in worse) + ".")
        en.append("Clearly worse than the rest of the country in: " + ", ".join(h["label_en"] for h in worse) + ".")
    if not better and not worse:
        es.append(f"En ningún indicador la diferencia de {name} con el resto del país es mayor que el ruido estadístico.")
        en.append(f"In no indicator is the difference between {name} and the rest of the country larger than statistical noise.")
    if fix:
        es.append("Lo primero que conviene atender: " + "; ".join(
            f"{g['label_es']} ({g['state']:.2f} frente a {g['nation']:.2f} en el país)" for g in fix) + ".")
        en.append("What to fix first: " + "; ".join(
            f"{g['label_en']} ({g['state']:.2f} against {g['nation']:.2f} nationally)" for g in fix) + ".")
    elif gaps:
        es.append("Las brechas de la entidad con el promedio nacional están dentro del ruido estadístico: "
                  "ninguna es claramente real.")
        en.append("The state's gaps to the national mean are within statistical noise: none is clearly real.")
    else:
        es.append("La entidad no está por debajo del promedio nacional en ningún componente.")
        en.append("The state is not below the national mean in any component.")
    return es, en, better, worse, fix


def build(campaign: Campaign, state: str, seed: int = scores.DEFAULT_SEED) -> StateReport:
    """Assemble the report of one state (INEGI code or any spelling) for a campaign, section by section."""
    s = _scored(campaign, state, seed)
    headline = _headline(s)
    rank, n_states = _rank(s)
    st = state_names.by_code(s.code)
    verdict_es, verdict_en = _verdict(st.name, headline[0], rank, n_states, float(s.conf["fdr"]))
    data = _institution_scores(s)
    gaps = _gaps(s)
    summary_es, summary_en, better, worse, fix = _summary(st.name, headline, rank, n_states, gaps,
                                                          float(s.conf["fdr"]), int(s.conf.get("fix_first", 3)))
    index_code = s.codes[0]
    return StateReport(
        campaign=campaign, state=s.code, name=st.name, abbr=st.abbr, headline=headline,
        verdict_es=verdict_es, verdict_en=verdict_en, rank=rank, n_states=n_states, gaps=gaps,
        by_type=_by_type(s, data), institutions=_institutions(s, data),
        conditions=_conditions(campaign, s.code, s.conf["conditions_model"], s.computed.result.institutions),
        inclusion=_inclusion(s), annex=_annex(s, data), editions=benchmarks.national().to_dict(orient="records"),
        summary_es=summary_es, summary_en=summary_en, better=better, worse=worse, fix_first=fix,
        distribution={"state": [v for v in (_num(x) for x in data.loc[data["state"] == s.code, index_code]) if v is not None],
                      "nation": [v for v in (_num(x) for x in data[index_code]) if v is not None]},
        risks=_risks(campaign, s.code, s.conf.get("risks_field", "cd_risks"), s.computed.result.institutions),
        title=campaign_title(campaign), data_as_of=data_as_of(campaign), fdr=float(s.conf["fdr"]),
        reply=reply.state_summary(campaign, s.code),
        evidence=evidence_annex.report_section(campaign, s.code),
    )


def _published(table: pd.DataFrame, state: str, columns: str | list[str] | None) -> float | None:
    """A published MGA 2017 state figure: one column, or the mean of several."""
    if not columns or state not in table.index:
        return None
    names = [columns] if isinstance(columns, str) else list(columns)
    if any(n not in table.columns for n in names):
        return None
    values = [_num(table.loc[state, n]) for n in names]
    return None if any(v is None for v in values) else sum(values) / len(values)


def _effective(model: IndexModel) -> list[tuple]:
    weights = model.effective_weights()
    return [(n, weights[n.code]) for n in model.tree.walk() if n.level in ("dimension", "subindex", "component")]


def state_summaries(campaign: Campaign, seed: int = scores.DEFAULT_SEED) -> list[dict]:
    """One row per state for the results portal: index, interval, rank interval."""
    computed = scores.compute(campaign, seed=seed)
    table = computed.table("state")
    code = computed.codes()[0]
    return [{"state": r["state"], "abbr": r["abbr"], "entidad": r["entidad"], "n": int(r["n"]),
             "value": _num(r[code]), "low": _num(r[f"{code}_low"]), "high": _num(r[f"{code}_high"]),
             "rank_low": _num(r.get("rank_low")), "rank_high": _num(r.get("rank_high"))}
            for r in table.to_dict(orient="records")]


SORTS = {"entidad": "entidad", "n": "n", "indice": "value", "lugar": "rank_low"}


def sorted_summaries(rows: list[dict], sort: str, desc: bool) -> list[dict]:
    """Portal rows sorted by a column (`entidad`, `n`, `indice`, `lugar`); missing values last."""
    key = SORTS.get(sort, "value")
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    if key == "entidad":
        present.sort(key=lambda r: state_names.normalise(r["entidad"]), reverse=desc)
    else:
        present.sort(key=lambda r: r[key], reverse=desc)
    return present + missing


def national_summary(campaign: Campaign, seed: int = scores.DEFAULT_SEED) -> dict:
    """The national row of the portal: index with interval and the number of institutions."""
    computed = scores.compute(campaign, seed=seed)
    row = computed.table("nation").iloc[0]
    code = computed.codes()[0]
    return {"n": int(row["n"]), "value": _num(row[code]), "low": _num(row[f"{code}_low"]),
            "high": _num(row[f"{code}_high"])}
