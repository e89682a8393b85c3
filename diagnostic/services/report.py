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

import pandas as pd
import yaml

from diagnostic.models import Campaign, InstrumentPurpose
from diagnostic.security import can_view_results
from diagnostic.services import NotFound, Refusal, campaigns, responses, scores
from scoring import IndexModel, benchmarks, stats
from scoring import score as score_answers
from scoring import states as state_names
from scoring.uncertainty import brechas


@lru_cache(maxsize=1)
def settings() -> dict:
    """The report settings (`diagnostic/data/report.yaml`, package data)."""
    return yaml.safe_load(resources.files("diagnostic").joinpath("data", "report.yaml").read_text(encoding="utf-8"))


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
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


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


def _conditions(campaign: Campaign, state: str, model_id: str) -> list[dict] | None:
    """The state conditions index and its components (§8.5), or None without such answers."""
    rows = responses.long_form(campaign, InstrumentPurpose.STATE)
    if not rows:
        return None
    answers = pd.DataFrame(rows, columns=["institution", "field", "repeat_index", "value"])
    keys = sorted(set(answers["institution"]))
    _, insts = scores.campaign_frames(campaign)
    insts = insts[insts["institution"].isin(keys)]
    if insts.empty or state not in set(insts["state"]):
        return None
    model = IndexModel.load(model_id)
    result = score_answers(answers, insts, model)
    wide = result.wide()
    states_of = insts.set_index("institution")["state"].reindex(wide.index)
    own = wide[states_of == state].mean()
    nation = wide.mean()
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
    """The headline table (§8.1): each code with interval, rest of the nation, tests and MGA 2017."""
    row, nation = s.row, s.computed.table("nation").iloc[0]
    bench_state = benchmarks.by_state().set_index("state")
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
    } for c in s.codes]


def _rank(s: _Scored) -> tuple[dict, int]:
    """The state's rank with its interval (§8.2), and how many states are ranked."""
    ranked = s.table.index[s.table["rank"].notna()] if "rank" in s.table else s.table.index
    rank = {"value": _num(s.row.get("rank")), "low": _num(s.row.get("rank_low")), "high": _num(s.row.get("rank_high"))}
    return rank, int(len(ranked))


def _gaps(s: _Scored) -> list[dict]:
    """The *brechas* (§8.3): components with the largest potential effect, as many as the settings say."""
    model = s.computed.model
    frame = brechas(s.computed.result, s.code, level="component") if "component" in model.levels() else pd.DataFrame()
    parents = model.parents()
    return [{"code": g.code, "parent": parents.get(g.code) or "", "label_es": s.labels.get(g.code, {}).get("es", g.code),
             "label_en": s.labels.get(g.code, {}).get("en", g.code), "state": _num(g.state_mean),
             "nation": _num(g.national_mean), "gap": _num(g.gap), "weight": _num(g.weight),
             "potential": _num(g.potential)}
            for g in frame.itertuples(index=False) if (_num(g.potential) or 0) > 0][: int(s.conf["brechas"])]


def _institution_scores(s: _Scored) -> pd.DataFrame:
    """One row per institution: name, type, order, state, headline scores and index coverage."""
    index_code = s.codes[0]
    wide = s.computed.scores_wide(list(s.codes))
    coverage = s.computed.scores_wide([index_code], coverage=True)[index_code]
    insts = s.computed.result.institutions.reindex(wide.index)
    return insts[["name", "type", "order", "state"]].join(wide).assign(coverage=coverage)


def _by_type(s: _Scored, data: pd.DataFrame) -> list[dict]:
    """The state's institutions by type against the same type nationally (§8.4)."""
    index_code = s.codes[0]
    type_nation = data.groupby("type")[index_code].mean()
    return [{"type": kind, "n": len(group), "state": _num(group[index_code].mean()),
             "nation": _num(type_nation.get(kind)), "gap": _num(group[index_code].mean() - type_nation.get(kind))}
            for kind, group in data[data["state"] == s.code].groupby("type", sort=True)]


def _institutions(s: _Scored, data: pd.DataFrame) -> list[dict]:
    """Who is behind (§8.4): the state's institutions, best first, with coverage and whether they answered."""
    own = data[data["state"] == s.code]
    responded = pd.Series(s.computed.result.leaf.responded, index=s.computed.result.institutions.index)
    return [{"name": r.name, "type": r.type, "order": r.order, "coverage": _num(r.coverage),
             "responded": bool(responded.get(key, False)),
             **{c: _num(getattr(r, c)) for c in s.codes if c.isidentifier()}}
            for key, r in own.sort_values(s.codes[0], ascending=False, na_position="last").iterrows()]


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
    return {
        "instruments": [(ci.purpose.value, ci.instrument_version.instrument_id, ci.instrument_version.version,
                         ci.instrument_version.content_hash) for ci in campaign.instruments],
        "model": (computed.model.id, computed.model.version, campaign.index_model.content_hash if campaign.index_model else ""),
        "weights": [{"code": n.code, "level": n.level, "weight": w, "label_es": n.label.get("es", n.code),
                     "label_en": n.label.get("en", n.code)} for n, w in _effective(computed.model)],
        "policies": dict(computed.model.defaults),
        "progress": campaigns.progress(campaign),
        "coverage_mean": _num(data["coverage"].mean()),
        "coverage_state": _num(data.loc[data["state"] == s.code, "coverage"].mean()),
        "reliability": [{"code": r.code, "alpha": _num(r.alpha), "low": _num(r.low), "high": _num(r.high),
                         "k": int(r.k)} for r in stats.reliability(computed.result).itertuples(index=False)],
        "fingerprint": computed.fingerprint,
        "seed": computed.seed,
        "settings_version": s.conf.get("version", ""),
    }


def build(campaign: Campaign, state: str, seed: int = scores.DEFAULT_SEED) -> StateReport:
    """Assemble the report of one state (INEGI code or any spelling) for a campaign, section by section."""
    s = _scored(campaign, state, seed)
    headline = _headline(s)
    rank, n_states = _rank(s)
    st = state_names.by_code(s.code)
    verdict_es, verdict_en = _verdict(st.name, headline[0], rank, n_states, float(s.conf["fdr"]))
    data = _institution_scores(s)
    return StateReport(
        campaign=campaign, state=s.code, name=st.name, abbr=st.abbr, headline=headline,
        verdict_es=verdict_es, verdict_en=verdict_en, rank=rank, n_states=n_states, gaps=_gaps(s),
        by_type=_by_type(s, data), institutions=_institutions(s, data),
        conditions=_conditions(campaign, s.code, s.conf["conditions_model"]),
        inclusion=_inclusion(s), annex=_annex(s, data), editions=benchmarks.national().to_dict(orient="records"),
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
